"""Validate request parameters for the endpoints the sandbox implements, with Stripe's messages."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, invalid
from .objects import CURRENCY
from .params import as_dict, as_int, as_list, as_metadata, as_str, reject_unknown, require

# Stripe's limits for JPY: at least ¥50 per charge, at most 8 digits.
MIN_AMOUNT = 50
MAX_AMOUNT = 99_999_999
MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 60 * 60

# Every top-level parameter Stripe accepts on POST /v1/checkout/sessions. Those the sandbox does
# not model are accepted and ignored; anything else is refused like Stripe refuses it.
_SESSION_PARAMS = {
    "adaptive_pricing", "after_expiration", "allow_promotion_codes", "automatic_tax",
    "billing_address_collection", "branding_settings", "cancel_url", "client_reference_id",
    "consent_collection", "currency", "custom_fields", "custom_text", "customer", "customer_creation",
    "customer_email", "customer_update", "discounts", "excluded_payment_method_types", "expand",
    "expires_at", "invoice_creation", "line_items", "locale", "metadata", "mode", "name_collection",
    "optional_items", "origin_context", "payment_intent_data", "payment_method_collection",
    "payment_method_configuration", "payment_method_data", "payment_method_options",
    "payment_method_types", "permissions", "phone_number_collection", "redirect_on_completion",
    "return_url", "saved_payment_method_options", "setup_intent_data", "shipping_address_collection",
    "shipping_options", "submit_type", "subscription_data", "success_url", "tax_id_collection", "ui_mode",
    "wallet_options",
}
_LINE_ITEM_PARAMS = {"price", "price_data", "quantity", "adjustable_quantity", "dynamic_tax_rates", "tax_rates"}
_PRICE_DATA_PARAMS = {"currency", "product", "product_data", "recurring", "tax_behavior", "unit_amount",
                      "unit_amount_decimal"}
_PRODUCT_DATA_PARAMS = {"name", "description", "images", "metadata", "tax_code", "unit_label"}
_REFUND_PARAMS = {"amount", "charge", "currency", "customer", "expand", "instructions_email", "metadata",
                  "origin", "payment_intent", "reason", "refund_application_fee", "reverse_transfer"}
_REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PM_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class LineItemSpec:
    """A validated line item (inline price_data only)."""

    name: str
    description: str | None
    unit_amount: int
    quantity: int


@dataclass(frozen=True)
class SessionSpec:
    """A validated POST /v1/checkout/sessions request."""

    line_items: tuple[LineItemSpec, ...]
    success_url: str
    cancel_url: str | None
    client_reference_id: str | None
    metadata: dict[str, str]
    customer_email: str | None
    payment_method_types: tuple[str, ...] | None
    expires_at: int | None
    locale: str | None
    pi_metadata: dict[str, str]
    pi_description: str | None


@dataclass(frozen=True)
class RefundSpec:
    """A validated POST /v1/refunds request."""

    payment_intent: str | None
    charge: str | None
    amount: int | None
    reason: str | None
    metadata: dict[str, str]


def parse_session_create(params: Mapping[str, Any], now: int) -> SessionSpec:
    """Validate checkout session parameters; raises ApiError (HTTP 400) like Stripe."""
    reject_unknown(params, _SESSION_PARAMS)
    mode = as_str(require(params, "mode"), "mode")
    if mode != "payment":
        raise invalid(f"The sandbox only supports mode=payment, not {mode!r}.", param="mode")
    ui_mode = params.get("ui_mode")
    if ui_mode is not None and as_str(ui_mode, "ui_mode") != "hosted":
        raise invalid("The sandbox only supports ui_mode=hosted.", param="ui_mode")
    if params.get("currency") is not None:
        _check_currency(params["currency"], "currency")

    raw_items = as_list(require(params, "line_items"), "line_items")
    if not raw_items:
        raise invalid("line_items must contain at least one item.", param="line_items")
    items = tuple(_parse_line_item(raw, f"line_items[{i}]") for i, raw in enumerate(raw_items))

    total = sum(item.unit_amount * item.quantity for item in items)
    if total < MIN_AMOUNT:
        raise invalid(
            f"The Checkout Session's total amount due must add up to at least ¥{MIN_AMOUNT} jpy",
            param="line_items",
            code="amount_too_small",
        )
    if total > MAX_AMOUNT:
        raise invalid(
            f"The Checkout Session's total amount due must be no more than ¥{MAX_AMOUNT:,} jpy",
            param="line_items",
            code="amount_too_large",
        )

    success_url = _url(require(params, "success_url"), "success_url")
    cancel_url = _url(params["cancel_url"], "cancel_url") if params.get("cancel_url") else None

    customer_email = None
    if params.get("customer_email"):
        customer_email = as_str(params["customer_email"], "customer_email", max_length=800)
        if not _EMAIL_RE.match(customer_email):
            raise invalid(f"Invalid email address: {customer_email}", param="customer_email",
                          code="email_invalid")

    pm_types = None
    if params.get("payment_method_types") is not None:
        pm_types = tuple(as_str(t, f"payment_method_types[{i}]")
                         for i, t in enumerate(as_list(params["payment_method_types"], "payment_method_types")))
        for i, pm_type in enumerate(pm_types):
            if not _PM_TYPE_RE.match(pm_type):
                raise invalid(f"Invalid payment_method_types[{i}]: {pm_type}", param=f"payment_method_types[{i}]")

    expires_at = None
    if params.get("expires_at") is not None:
        expires_at = as_int(params["expires_at"], "expires_at")
        if expires_at < now + MIN_EXPIRY_SECONDS:
            raise invalid("The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                          param="expires_at")
        if expires_at > now + MAX_EXPIRY_SECONDS:
            raise invalid("The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                          param="expires_at")

    pi_data = as_dict(params.get("payment_intent_data") or {}, "payment_intent_data")
    pi_metadata = {}
    if "metadata" in pi_data:
        pi_metadata = as_metadata(pi_data["metadata"], "payment_intent_data[metadata]")
    pi_description = None
    if pi_data.get("description"):
        pi_description = as_str(pi_data["description"], "payment_intent_data[description]", max_length=1000)

    return SessionSpec(
        line_items=items,
        success_url=success_url,
        cancel_url=cancel_url,
        client_reference_id=(as_str(params["client_reference_id"], "client_reference_id", max_length=200)
                             if params.get("client_reference_id") else None),
        metadata=as_metadata(params["metadata"]) if "metadata" in params else {},
        customer_email=customer_email,
        payment_method_types=pm_types,
        expires_at=expires_at,
        locale=as_str(params["locale"], "locale") if params.get("locale") else None,
        pi_metadata=pi_metadata,
        pi_description=pi_description,
    )


def _parse_line_item(raw: Any, path: str) -> LineItemSpec:
    """Validate one line item; the sandbox has no Price catalogue, so price_data is required."""
    item = as_dict(raw, path)
    reject_unknown(item, _LINE_ITEM_PARAMS, path)
    if item.get("price"):
        price_id = as_str(item["price"], f"{path}[price]")
        raise ApiError(400, f"No such price: '{price_id}' (the sandbox only supports price_data)",
                       code="resource_missing", param=f"{path}[price]")
    price_data = as_dict(require(item, "price_data", path), f"{path}[price_data]")
    price_path = f"{path}[price_data]"
    reject_unknown(price_data, _PRICE_DATA_PARAMS, price_path)
    _check_currency(require(price_data, "currency", price_path), f"{price_path}[currency]")
    if price_data.get("recurring") is not None:
        raise invalid("Recurring prices need mode=subscription, which the sandbox does not support.",
                      param=f"{price_path}[recurring]")
    unit_amount = as_int(require(price_data, "unit_amount", price_path), f"{price_path}[unit_amount]",
                         minimum=1, maximum=MAX_AMOUNT)
    product = as_dict(require(price_data, "product_data", price_path), f"{price_path}[product_data]")
    product_path = f"{price_path}[product_data]"
    reject_unknown(product, _PRODUCT_DATA_PARAMS, product_path)
    name = as_str(require(product, "name", product_path), f"{product_path}[name]", max_length=250)
    description = None
    if product.get("description"):
        description = as_str(product["description"], f"{product_path}[description]", max_length=40000)
    quantity = as_int(require(item, "quantity", path), f"{path}[quantity]", minimum=1, maximum=999_999)
    return LineItemSpec(name=name, description=description, unit_amount=unit_amount, quantity=quantity)


def _check_currency(value: Any, param: str) -> None:
    """The sandbox, like this project, only takes yen."""
    currency = as_str(value, param).lower()
    if currency != CURRENCY:
        raise invalid(f"Invalid currency: {currency}. The Stripe sandbox only supports jpy.", param=param)


def _url(value: Any, param: str) -> str:
    """Stripe requires absolute http(s) URLs for redirects."""
    url = as_str(value, param, max_length=5000)
    if not url.startswith(("http://", "https://")):
        raise invalid(f"Not a valid URL: {url}", param=param, code="url_invalid")
    return url


def parse_refund_create(params: Mapping[str, Any]) -> RefundSpec:
    """Validate refund parameters; either payment_intent or charge must be given."""
    reject_unknown(params, _REFUND_PARAMS)
    payment_intent = None
    if params.get("payment_intent"):
        payment_intent = as_str(params["payment_intent"], "payment_intent")
    charge = as_str(params["charge"], "charge") if params.get("charge") else None
    if not payment_intent and not charge:
        raise invalid("One of the following params should be provided for this request: payment_intent or charge.",
                      code="parameter_missing")
    amount = as_int(params["amount"], "amount", minimum=1) if params.get("amount") is not None else None
    reason = None
    if params.get("reason"):
        reason = as_str(params["reason"], "reason")
        if reason not in _REFUND_REASONS:
            raise invalid(f"Invalid reason: must be one of {', '.join(sorted(_REFUND_REASONS))}", param="reason")
    metadata = as_metadata(params["metadata"]) if "metadata" in params else {}
    return RefundSpec(payment_intent=payment_intent, charge=charge, amount=amount, reason=reason, metadata=metadata)
