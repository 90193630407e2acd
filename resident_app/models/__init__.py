"""SQLAlchemy models, grouped by cluster; importing this registers every table."""
from .accounts import User
from .addons import AddOn, Contribution, StripeEvent
from .audit import AuditEntry
from .enums import (AccountStatus, AddOnKind, Channel, ContributionStatus, IllegalTransition,
                    Role)
from .events import Event, EventSurveyAnswer
from .factors import Factor, FactorSet, UnitPrice
from .household import AverageRowRecord, AverageSet, ElectricityMenu, Tariff, TariffAdjustment
from .pool import (Batch, BatchStatus, CreditPurchase, CreditType, Invalidation, InvalidationCorrection,
                   OfflineReceipt, Registry, StoredFile)
from .programme import ConversionRate
from .results import SavedResult
from .types import utcnow

__all__ = ["AccountStatus", "AddOn", "AddOnKind", "AuditEntry", "AverageRowRecord", "AverageSet", "Batch",
           "BatchStatus", "Channel", "Contribution", "ContributionStatus", "ConversionRate", "CreditPurchase",
           "CreditType", "ElectricityMenu", "Event", "EventSurveyAnswer", "Factor", "FactorSet",
           "IllegalTransition", "Invalidation", "InvalidationCorrection", "OfflineReceipt", "Registry", "Role",
           "SavedResult", "StoredFile", "StripeEvent", "Tariff", "TariffAdjustment", "UnitPrice", "User", "utcnow"]
