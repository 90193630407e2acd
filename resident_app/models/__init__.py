"""SQLAlchemy models, grouped by cluster; importing this registers every table."""
from .accounts import User
from .addons import AddOn, Contribution, StripeEvent
from .audit import AuditEntry
from .enums import (AccountStatus, AddOnKind, Channel, ContributionStatus, DisputeStatus, FlagKind,
                    IllegalTransition, LedgerKind, Role, sources_for)
from .events import Event, EventSurveyAnswer
from .factors import Factor, FactorSet, UnitPrice
from .household import AverageRowRecord, AverageSet, ElectricityMenu, Tariff, TariffAdjustment
from .ledger import LedgerEntry, PoolAwaiting, PoolRollup, PoolState
from .pool import (Batch, BatchStatus, CreditPurchase, CreditType, Invalidation, InvalidationCorrection,
                   OfflineReceipt, Registry, StoredFile)
from .programme import ConversionRate, ReferenceVersion
from .results import SavedResult
from .types import utcnow

__all__ = ["AccountStatus", "AddOn", "AddOnKind", "AuditEntry", "AverageRowRecord", "AverageSet", "Batch",
           "BatchStatus", "Channel", "Contribution", "ContributionStatus", "ConversionRate", "CreditPurchase",
           "CreditType", "DisputeStatus", "ElectricityMenu", "Event", "EventSurveyAnswer", "Factor", "FactorSet",
           "FlagKind", "IllegalTransition", "Invalidation", "InvalidationCorrection", "LedgerEntry", "LedgerKind",
           "OfflineReceipt", "PoolAwaiting", "PoolRollup", "PoolState", "ReferenceVersion", "Registry", "Role",
           "SavedResult", "StoredFile", "StripeEvent", "Tariff",
           "TariffAdjustment", "UnitPrice", "User", "sources_for", "utcnow"]
