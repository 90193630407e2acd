"""The pool's arithmetic: whole tonnes to buy, the carried surplus, serial ranges, warnings.

Plain ints and dataclasses only. Grams are `*_g`, tonnes are whole `int`s (the registry trades
whole tonnes), yen are `*_yen`."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Mapping, NamedTuple, Sequence

from .conversion import GRAMS_PER_TONNE


# --- tonnes and surplus -------------------------------------------------------------------------

class TonnesToBuy(NamedTuple):
    tonnes: int             # whole tonnes to buy and invalidate for the batch
    surplus_used_g: int     # the carried balance this batch uses first
    surplus_after_g: int    # what carries to the next batch if exactly `tonnes` are retired


def ceil_tonnes(co2_g: int) -> int:
    """Whole tonnes that cover `co2_g` grams (0 for 0 or less)."""
    if co2_g <= 0:
        return 0
    return -(-co2_g // GRAMS_PER_TONNE)


def tonnes_to_buy(owed_g: int, surplus_g: int) -> TonnesToBuy:
    """Tonnes a batch owing `owed_g` must retire when `surplus_g` is carried from earlier batches.

    The surplus is used first; the rest is rounded up to whole tonnes, and the rounding becomes
    the next surplus. Never negative; 0 tonnes when the surplus covers everything."""
    if owed_g < 0 or surplus_g < 0:
        raise ValueError("owed and surplus must not be negative")
    used = min(owed_g, surplus_g)
    remaining = owed_g - used
    tonnes = ceil_tonnes(remaining)
    return TonnesToBuy(tonnes, used, surplus_g - used + tonnes * GRAMS_PER_TONNE - remaining)


def pool_balance_g(retired_t: int, retired_contributions_g: int) -> int:
    """The carried balance: tonnes retired in confirmed batches less the grams they still cover."""
    return retired_t * GRAMS_PER_TONNE - retired_contributions_g


# --- serial number ranges -----------------------------------------------------------------------

SERIAL_RE = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")
MAX_SERIAL_LENGTH = 100


class SerialRangeError(ValueError):
    """A serial range that cannot be counted. `code` says why; `params` carries the details."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(f"{code}: {params}")
        self.code = code        # empty, too_long, no_number, prefix_mismatch, reversed, overlap
        self.params = params


@dataclass(frozen=True)
class SerialRange:
    """One run of registry serial numbers, both ends included ("JP-123-0001" … "JP-123-0010")."""

    start: str
    end: str

    def as_json(self) -> dict[str, str]:
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True)
class ParsedRange:
    prefix: str
    first: int
    last: int

    @property
    def tonnes(self) -> int:
        return self.last - self.first + 1


def normalise_serial(raw: str) -> str:
    """Full-width digits and hyphens typed in a Japanese IME become ASCII; spaces go."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = text.replace("\u2212", "-").replace("\u2010", "-").replace("\u2013", "-").replace("\u30fc", "-")
    return "".join(text.split()).upper()


def _split(serial: str) -> tuple[str, int]:
    if not serial:
        raise SerialRangeError("empty")
    if len(serial) > MAX_SERIAL_LENGTH:
        raise SerialRangeError("too_long", serial=serial[:20], max=MAX_SERIAL_LENGTH)
    match = SERIAL_RE.match(serial)
    if match is None:
        raise SerialRangeError("no_number", serial=serial)
    return match.group("prefix"), int(match.group("number"))


def parse_range(start: str, end: str) -> ParsedRange:
    """Check one range and return its prefix and numbers; raises SerialRangeError."""
    start_prefix, first = _split(normalise_serial(start))
    end_prefix, last = _split(normalise_serial(end))
    if start_prefix != end_prefix:
        raise SerialRangeError("prefix_mismatch", start=start, end=end)
    if last < first:
        raise SerialRangeError("reversed", start=start, end=end)
    return ParsedRange(start_prefix, first, last)


def range_tonnes(serial_range: SerialRange) -> int:
    """Tonnes in a range: end's number − start's number + 1 (both share one prefix)."""
    return parse_range(serial_range.start, serial_range.end).tonnes


def overlapping(a: ParsedRange, b: ParsedRange) -> bool:
    return a.prefix == b.prefix and a.first <= b.last and b.first <= a.last


def clean_ranges(pairs: Iterable[SerialRange | tuple[str, str] | Mapping[str, str]]) -> tuple[SerialRange, ...]:
    """Normalised ranges from form pairs, JSON dicts or SerialRanges; blank pairs are dropped."""
    cleaned: list[SerialRange] = []
    for pair in pairs:
        if isinstance(pair, SerialRange):
            start, end = pair.start, pair.end
        elif isinstance(pair, Mapping):
            start, end = str(pair.get("start") or ""), str(pair.get("end") or "")
        else:
            start, end = pair
        start, end = normalise_serial(start), normalise_serial(end)
        if start or end:
            cleaned.append(SerialRange(start, end))
    return tuple(cleaned)


def ranges_tonnes(ranges: Sequence[SerialRange],
                  others: Iterable[SerialRange] = ()) -> int:
    """Total tonnes in the ranges. Raises SerialRangeError when one is invalid, when two overlap,
    or when one overlaps any of `others` (serials already invalidated elsewhere)."""
    if not ranges:
        raise SerialRangeError("empty")
    parsed = [parse_range(r.start, r.end) for r in ranges]
    for i, a in enumerate(parsed):
        for b, raw in zip(parsed[i + 1:], ranges[i + 1:]):
            if overlapping(a, b):
                raise SerialRangeError("overlap", start=raw.start, end=raw.end)
    for other in others:
        try:
            b = parse_range(other.start, other.end)
        except SerialRangeError:
            continue
        for a, raw in zip(parsed, ranges):
            if overlapping(a, b):
                raise SerialRangeError("overlap", start=raw.start, end=raw.end)
    return sum(p.tonnes for p in parsed)


def ranges_tonnes_or_none(ranges: Sequence[SerialRange]) -> int | None:
    """Like ranges_tonnes, but None instead of raising (for display and warnings)."""
    try:
        return ranges_tonnes(ranges)
    except SerialRangeError:
        return None


# --- places -------------------------------------------------------------------------------------

def normalise_place(raw: str) -> str:
    """"東京都 / 八王子市" and "東京都八王子市" compare equal: NFKC, no spaces or separators."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if not ch.isspace() and ch not in "/・,、").casefold()


def same_place(a: str, b: str) -> bool:
    left, right = normalise_place(a), normalise_place(b)
    return bool(left) and left == right


# --- warnings -----------------------------------------------------------------------------------

# Codes (stable: the staff screens and tests match on them; the text is translated elsewhere).
SERIALS_MISMATCH = "serials_mismatch"          # the serial ranges do not add up to the tonnes
TONNES_SHORT = "tonnes_short"                  # invalidated tonnes do not cover owed − surplus used
SAME_PLACE = "same_place"                      # credit created where the offset place is
PURCHASE_DIFFERS = "purchase_tonnes_differ"    # purchased tonnes ≠ invalidated tonnes
TOTAL_MISMATCH = "total_mismatch"              # purchase total ≠ tonnes × price per tonne
EXCESS_TONNES = "excess_tonnes"                # more tonnes than owed − surplus used: the extra is surplus
WARNING_CODES = (SERIALS_MISMATCH, TONNES_SHORT, SAME_PLACE, PURCHASE_DIFFERS, TOTAL_MISMATCH, EXCESS_TONNES)


@dataclass(frozen=True)
class PoolWarning:
    """Something staff should look at before confirming; not an error."""

    code: str
    params: dict[str, int | str] = field(default_factory=dict)


@dataclass(frozen=True)
class PurchaseFacts:
    tonnes: int
    price_per_t_yen: int
    total_yen: int
    credit_place: str


@dataclass(frozen=True)
class InvalidationFacts:
    purpose: str
    tonnes: int
    serial_ranges: tuple[SerialRange, ...]
    offset_place: str


def purchase_warnings(purchase: PurchaseFacts) -> list[PoolWarning]:
    """The purchase's own checks: the total should be tonnes × price per tonne."""
    expected = purchase.tonnes * purchase.price_per_t_yen
    if purchase.total_yen != expected:
        return [PoolWarning(TOTAL_MISMATCH, {"total_yen": purchase.total_yen, "expected_yen": expected,
                                             "tonnes": purchase.tonnes,
                                             "price_per_t_yen": purchase.price_per_t_yen})]
    return []


def batch_warnings(*, owed_g: int, surplus_used_g: int, purchase: PurchaseFacts | None,
                   invalidations: Sequence[InvalidationFacts]) -> list[PoolWarning]:
    """Every warning for a batch, in a stable order."""
    warnings: list[PoolWarning] = []
    if purchase is not None:
        warnings.extend(purchase_warnings(purchase))
    for item in invalidations:
        serial_t = ranges_tonnes_or_none(item.serial_ranges)
        if serial_t is not None and serial_t != item.tonnes:
            warnings.append(PoolWarning(SERIALS_MISMATCH, {"purpose": item.purpose, "serial_t": serial_t,
                                                           "tonnes": item.tonnes}))
        if purchase is not None and same_place(purchase.credit_place, item.offset_place):
            warnings.append(PoolWarning(SAME_PLACE, {"purpose": item.purpose, "place": item.offset_place}))
    invalidated_t = sum(i.tonnes for i in invalidations)
    needed_g = owed_g - surplus_used_g
    # Buying (or invalidating) more than the batch needs is allowed, but never silently: the
    # extra tonnes are paid for from residents' money and become the carried surplus.
    bought_t = invalidated_t if invalidations else purchase.tonnes if purchase is not None else 0
    if bought_t > ceil_tonnes(needed_g):
        warnings.append(PoolWarning(EXCESS_TONNES, {
            "tonnes": bought_t, "required_t": ceil_tonnes(needed_g), "extra_t": bought_t - ceil_tonnes(needed_g),
            "surplus_g": bought_t * GRAMS_PER_TONNE - max(needed_g, 0)}))
    if invalidations:
        if invalidated_t * GRAMS_PER_TONNE < needed_g:
            warnings.append(PoolWarning(TONNES_SHORT, {
                "invalidated_t": invalidated_t, "required_t": ceil_tonnes(needed_g),
                "short_g": needed_g - invalidated_t * GRAMS_PER_TONNE}))
        if purchase is not None and purchase.tonnes != invalidated_t:
            warnings.append(PoolWarning(PURCHASE_DIFFERS, {"purchased_t": purchase.tonnes,
                                                           "invalidated_t": invalidated_t}))
    return warnings
