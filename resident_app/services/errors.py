"""The one error type services raise; its message is translatable text for the person."""
from __future__ import annotations


class DomainError(Exception):
    """A rule of the programme refused the request. `message` is a (lazy) translated string."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """Several fields refused at once; `errors` maps each field to its (lazy) translated message."""

    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(message, field=field)
        self.errors = dict(errors)
