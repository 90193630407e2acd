"""Stripe-shaped API errors raised by the sandbox and turned into JSON responses."""
from __future__ import annotations

from typing import Any

# Stripe documents every error code at this address; the SDK only displays it.
_DOC_URL = "https://stripe.com/docs/error-codes/"


class ApiError(Exception):
    """An error answered as `{"error": {...}}` with an HTTP status, exactly as Stripe does."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON body Stripe would send for this error."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = _DOC_URL + self.code.replace("_", "-")
        if self.param:
            error["param"] = self.param
        return {"error": error}


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """Build a 400 invalid_request_error."""
    return ApiError(400, message, code=code, param=param)


def missing(param: str) -> ApiError:
    """Build Stripe's error for a required parameter that was not sent."""
    return ApiError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def no_such(kind: str, object_id: str, param: str, status: int = 404) -> ApiError:
    """Build Stripe's `resource_missing` error (404 for URL ids, 400 for ids inside params)."""
    return ApiError(status, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)
