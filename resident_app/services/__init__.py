"""Use-cases that write: each validates, writes, leaves an audit row and commits once."""
from .errors import DomainError

__all__ = ["DomainError"]
