"""SQLAlchemy models, grouped by cluster; importing this registers every table."""
from .accounts import User
from .addons import AddOn, Contribution, StripeEvent
from .audit import AuditEntry
from .enums import (AccountStatus, AddOnKind, Channel, ContributionStatus, IllegalTransition,
                    Role)
from .events import Event, EventSurveyAnswer
from .factors import Factor, FactorSet, UnitPrice
from .pool import (Batch, BatchStatus, CreditPurchase, CreditType, Invalidation, InvalidationCorrection,
                   OfflineReceipt, Registry, StoredFile)
from .programme import ConversionRate
from .results import SavedResult
from .types import utcnow

__all__ = ["AccountStatus", "AddOn", "AddOnKind", "AuditEntry", "Batch", "BatchStatus", "Channel",
           "Contribution", "ContributionStatus", "ConversionRate", "CreditPurchase", "CreditType", "Event",
           "EventSurveyAnswer", "Factor", "FactorSet", "IllegalTransition", "Invalidation", "InvalidationCorrection", "OfflineReceipt",
           "Registry", "Role", "SavedResult", "StoredFile", "StripeEvent", "UnitPrice", "User", "utcnow"]
