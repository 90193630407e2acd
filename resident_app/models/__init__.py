"""SQLAlchemy models, grouped by cluster; importing this registers every table."""
from .audit import AuditEntry
from .factors import Factor, FactorSet, UnitPrice
from .programme import ConversionRate
from .results import SavedResult
from .types import utcnow

__all__ = ["AuditEntry", "ConversionRate", "Factor", "FactorSet", "SavedResult", "UnitPrice", "utcnow"]
