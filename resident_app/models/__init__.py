"""SQLAlchemy models, grouped by cluster; importing this registers every table."""
from .accounts import User
from .addons import AddOn, Contribution, StripeEvent
from .audit import AuditEntry
from .enums import (AccountStatus, AddOnKind, Channel, ContributionStatus, IllegalTransition,
                    Role)
from .factors import Factor, FactorSet, UnitPrice
from .programme import ConversionRate
from .results import SavedResult
from .types import utcnow

__all__ = ["AccountStatus", "AddOn", "AddOnKind", "AuditEntry", "Channel", "Contribution",
           "ContributionStatus", "ConversionRate", "Factor", "FactorSet", "IllegalTransition", "Role",
           "SavedResult", "StripeEvent", "UnitPrice", "User", "utcnow"]
