"""Every download, declared once (pretix's ListExporter idea): an Export names its identifier,
label, filters, columns, rows and file name, and the staff page, the organiser page and
`flask pool export` all serve it from this registry.

Two variants of the same columns:
- "labels" (the default), for people: headers and codes (statuses, channels, kinds) in the reader's
  language, CO2 in kg, times as "2026-12-01 14:22:00" (Japan time, which Excel and LibreOffice
  read as a date and time);
- "codes", for other programs: stable English column names (`paid_at`, `co2_g`), codes as stored
  (`paid`, `stripe`), grams, times in ISO 8601 with their offset. They do not change when a
  translation does, so a municipal system's import keeps working.
A second header row was the other way to keep the codes; it breaks every CSV reader that takes
the first row as the header (the csv module, pandas, Power Query, LibreOffice's sort and filter
treat the codes as a data row), so each variant has one header row instead.

Formats: CSV in UTF-8 with a BOM or in Shift_JIS (CP932), and XLSX. In CSV, text a person typed
(names, titles) gets the formula guard; XLSX cells are typed, so text is never a formula."""
from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import IO, Any, Callable, Iterable, Iterator, Mapping, Sequence

from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, select
from sqlalchemy.sql.util import find_tables

from .extensions import db
from .models import AddOn, ContributionStatus, User, utcnow
from .services.exports import (AuditFilter, ContributionFilter, addon_contribution_rows, audit_actions,
                               audit_rows, batch_rows, contribution_query, contribution_rows, tokyo_period,
                               totals_rows)
from .web import sql_cells
from .web import xlsx_export as xlsx
from .web.csv_export import (ENCODINGS, UTF8, Replacements, csv_content_type, csv_stream_response, encode_rows,
                             guard_text, text_encoder)
from .web.i18n import locale_code
from .web.labels import (ADDON_KIND_LABELS, BATCH_STATUS_LABELS, CHANNEL_LABELS, CONTRIBUTION_STATUS_LABELS,
                         CREDIT_TYPE_LABELS, REGISTRY_LABELS, code_label, contribution_status_label,
                         organiser_name, programme_name)
from .web.text import parse_date

LABELS, CODES = "labels", "codes"
VARIANTS = (LABELS, CODES)
CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
STAFF, ADMIN, ORGANISER = "staff", "admin", "organiser"

# Column kinds. TEXT: words a person typed (guarded in CSV). CODE: a stored code with labels.
# NUMBER, YEN: ints. GRAMS: int grams (kg for people). DATETIME: aware. DATE, MONTH: dates.
TEXT, CODE, NUMBER, YEN, GRAMS, DATETIME, DATE, MONTH = (
    "text", "code", "number", "yen", "grams", "datetime", "date", "month")
# Japan has kept no summer time since 1951: a fixed +09:00 is exact and converts fast.
JST = timezone(timedelta(hours=9))
CSV_CHUNK_ROWS = 1000  # rows fetched at a time: memory stays flat however long the file
CSV_FETCH_ROWS = 2000  # lines fetched and written at a time when the database writes them (~0.5 MB)


@dataclass(frozen=True)
class Column:
    code: str                       # the stable header for programs: "paid_at", "co2_g"
    label: Any                      # the header for people (a lazy string)
    kind: str = TEXT
    labels: Mapping[Any, Any] | None = None   # CODE: code -> label
    width: int | None = None        # XLSX width in characters when the kind's default does not fit

    def header(self, variant: str) -> str:
        return self.code if variant == CODES else str(self.label)


@dataclass(frozen=True)
class Filter:
    """One filter of an export: a form field on the pages, an option of `flask pool export`."""

    name: str                       # the field's and the option's name: from, to, addon, status...
    label: Any
    kind: str = "choice"            # "day" (from/to, Japan time) or "choice"
    choices: Callable[[], list[tuple[str, str]]] | None = None   # (value, label); "" means all
    default: str = ""
    blank: Any = None               # the label of the empty choice ("All add-ons")
    hint: str = ""                  # for `flask pool export --help`


@dataclass(frozen=True)
class Export:
    identifier: str
    label: Any
    description: Any
    columns: tuple[Column, ...]
    rows: Callable[[dict[str, Any]], Iterator[Sequence[object]]]
    filters: tuple[Filter, ...] = ()
    audience: str = STAFF           # who may download it: staff (and admins), admin, organiser
    audited: bool = True            # each download leaves an audit row (so it is a POST)
    stem: Callable[[dict[str, Any]], str] | None = None   # the file name without extension
    sheet: Any = None               # the XLSX sheet's name (at most 31 characters) if not the label
    # The SELECT behind `rows` (its columns in the order of `columns`), when there is one: a CSV is
    # then formatted by the database (web/sql_cells.py) and streamed as the cursor gives it.
    query: Callable[[dict[str, Any]], Select] | None = None

    def filename(self, params: dict[str, Any], file_format: str) -> str:
        if self.stem is not None:
            return f"{self.stem(params)}.{file_format}"
        today = utcnow().astimezone(JST).date()
        days = [d for d in (params.get("first"), params.get("last")) if d]
        span = "-".join(d.strftime("%Y%m%d") for d in days) or f"all-{today:%Y%m%d}"
        return f"{self.identifier}-{span}.{file_format}"

    def parse(self, values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        """The filters' values from a form or the command line, checked: (params, errors by field)."""
        return parse_filters(self, values)


# --- filters -----------------------------------------------------------------------------------------

def _addon_choices() -> list[tuple[str, str]]:
    locale = locale_code()
    rows = db.session.execute(select(AddOn.id, AddOn.title_ja, AddOn.title_en, AddOn.slug)
                              .order_by(AddOn.title_ja, AddOn.id))
    return [(str(i), f"{(te if locale != 'ja' and te else tj)} ({slug})") for i, tj, te, slug in rows]


def _organiser_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(select(User.id, User.organisation, User.email)
                              .where(User.id.in_(select(AddOn.owner_id))).order_by(User.organisation, User.id))
    return [(str(i), organiser_name(i, organisation, email)) for i, organisation, email in rows]


def _status_choices() -> list[tuple[str, str]]:
    return [(s.value, contribution_status_label(s)) for s in ContributionStatus] + [("all", str(_l("All statuses")))]


def _action_choices() -> list[tuple[str, str]]:
    return [(action, action) for action in audit_actions()]


FIRST_DAY = Filter("from", _l("First day"), kind="day", hint="the first day (YYYY-MM-DD, Japan time), included")
LAST_DAY = Filter("to", _l("Last day"), kind="day", hint="the last day (YYYY-MM-DD, Japan time), included")


def parse_filters(export: Export, values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Each filter's value checked (days parsed, choices among the offered ones); the days also as
    an aware UTC [start, end) pair, as the row queries take them."""
    params: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for item in export.filters:
        raw = (values.get(item.name) or "").strip()
        if item.kind == "day":
            try:
                params[item.name] = parse_date(raw)
            except ValueError:
                errors[item.name] = _("Enter a date such as 2027-04-01.")
            continue
        raw = raw or item.default
        if raw and raw not in {value for value, _label in item.choices()}:
            errors[item.name] = _("Choose one of the options.")
        else:
            params[item.name] = raw
    first, last = params.pop("from", None), params.pop("to", None)
    if first and last and last < first:
        errors["to"] = _("The last day must not come before the first.")
    params["first"], params["last"] = first, last
    params["start"], params["end"] = tokyo_period(first, last)
    return params, errors


def _int_or_none(raw: str | None) -> int | None:
    return int(raw) if raw else None


# --- the exports ---------------------------------------------------------------------------------------

def _contribution_filter(params: dict[str, Any]) -> ContributionFilter:
    status = params.get("status") or ContributionStatus.PAID.value
    return ContributionFilter(params.get("start"), params.get("end"), _int_or_none(params.get("addon")),
                              _int_or_none(params.get("organiser")),
                              None if status == "all" else ContributionStatus(status))


def _contributions(params: dict[str, Any]) -> Iterator[Sequence[object]]:
    return contribution_rows(_contribution_filter(params), programme_name=programme_name())


def _contributions_query(params: dict[str, Any]) -> Select:
    return contribution_query(_contribution_filter(params), programme_name=programme_name())


def _totals(params: dict[str, Any]) -> Iterator[Sequence[object]]:
    return totals_rows(start=params.get("start"), end=params.get("end"), programme_name=programme_name())


def _batches(params: dict[str, Any]) -> Iterator[Sequence[object]]:
    return batch_rows(start=params.get("start"), end=params.get("end"))


def _audit(params: dict[str, Any]) -> Iterator[Sequence[object]]:
    return audit_rows(AuditFilter(params.get("action") or None, params.get("start"), params.get("end")))


ADDON_COLUMNS = (
    Column("addon_id", _l("Add-on ID"), NUMBER),
    Column("addon_slug", _l("Add-on link name"), width=12),
    Column("addon_title_ja", _l("Add-on title (Japanese)"), width=34),
    Column("addon_title_en", _l("Add-on title (English)"), width=34),
    Column("addon_kind", _l("Kind of add-on"), CODE, ADDON_KIND_LABELS, width=20),
)
ORGANISATION = Column("organisation", _l("Organiser"), width=24)
CO2 = Column("co2_g", _l("CO2 (kg)"), GRAMS)
REFUNDED_YEN = Column("refunded_yen", _l("Refunded (yen)"), YEN)
# Grams a (partial) refund took back: the pool owes co2_g − refunded_g, as its ledger says.
REFUNDED_CO2 = Column("refunded_g", _l("Refunded CO2 (kg)"), GRAMS)
CONTRIBUTIONS = Export(
    "contributions", _l("Contributions"),
    _l("One row per contribution: number, times paid and created, status, channel, add-on, organiser, "
       "quantity, yen, refunded yen, CO2 and the CO2 a refund took back, the rate applied, the batch and "
       "the name the resident chose to show. No e-mail addresses or payment ids."),
    columns=(
        Column("number", _l("Contribution number"), width=16),
        Column("paid_at", _l("Paid at (Japan time)"), DATETIME),
        Column("created_at", _l("Created at (Japan time)"), DATETIME),
        Column("status", _l("Status"), CODE, CONTRIBUTION_STATUS_LABELS),
        Column("channel", _l("Channel"), CODE, CHANNEL_LABELS, width=18),
        *ADDON_COLUMNS,
        Column("organiser_id", _l("Organiser ID"), NUMBER),
        ORGANISATION,
        Column("quantity", _l("Quantity"), NUMBER),
        Column("unit_price_yen", _l("Unit price (yen)"), YEN),
        Column("amount_yen", _l("Amount (yen)"), YEN),
        REFUNDED_YEN,
        CO2,
        REFUNDED_CO2,
        Column("rate_yen_per_t", _l("Rate (yen per t-CO2)"), YEN),
        Column("batch_number", _l("Batch"), width=14),
        Column("display_name", _l("Name shown on the certificate"), width=20),
    ),
    rows=_contributions, query=_contributions_query,
    filters=(FIRST_DAY, LAST_DAY,
             Filter("addon", _l("Add-on"), choices=_addon_choices, blank=_l("All add-ons"),
                    hint="an add-on's id"),
             Filter("organiser", _l("Organiser"), choices=_organiser_choices, blank=_l("All organisers"),
                    hint="an organiser's account id (`flask users list`)"),
             Filter("status", _l("Status"), choices=_status_choices, default=ContributionStatus.PAID.value,
                    hint="paid (default), pending, failed, expired, refunded or all")),
)
TOTALS = Export(
    "totals", _l("Pooled totals by month and add-on"),
    _l("Paid contributions summed by month of payment (Japan time) and add-on: count, yen and CO2. "
       "The same figures as the dashboard and the transparency page."),
    columns=(
        Column("month", _l("Month (Japan time)"), MONTH),
        *ADDON_COLUMNS,
        ORGANISATION,
        Column("contributions", _l("Contributions"), NUMBER),
        Column("paid_yen", _l("Paid (yen)"), YEN),
        CO2,
    ),
    rows=_totals, filters=(FIRST_DAY, LAST_DAY), sheet=_l("Totals by month and add-on"),
)
BATCHES = Export(
    "batches", _l("Batches, purchases and invalidations"),
    _l("One row per invalidation (a batch without one has a single row), with the batch's figures and "
       "its credit purchase. Corrections recorded after confirmation are applied; the last column names "
       "the corrected fields. The period selects batches by their cut-off day."),
    columns=(
        Column("batch_number", _l("Batch"), width=14),
        Column("status", _l("Status"), CODE, BATCH_STATUS_LABELS, width=24),
        Column("cutoff_at", _l("Cut-off (Japan time)"), DATETIME),
        Column("confirmed_at", _l("Confirmed at (Japan time)"), DATETIME),
        Column("contribution_count", _l("Contributions"), NUMBER),
        Column("paid_yen", _l("Paid (yen)"), YEN),
        Column("owed_g", _l("CO2 owed (kg)"), GRAMS),
        Column("surplus_available_g", _l("Surplus available (kg)"), GRAMS),
        Column("surplus_used_g", _l("Surplus used (kg)"), GRAMS),
        Column("tonnes_required", _l("Tonnes to buy"), NUMBER),
        Column("surplus_after_g", _l("Surplus carried (kg)"), GRAMS),
        Column("provider", _l("Provider"), width=20),
        Column("credit_type", _l("Credit type"), CODE, CREDIT_TYPE_LABELS),
        Column("project_name", _l("Project name"), width=24),
        Column("project_id", _l("Project number"), width=14),
        Column("credit_place", _l("Place where the credit was created"), width=16),
        Column("purchased_t", _l("Tonnes bought"), NUMBER),
        Column("price_per_t_yen", _l("Price per tonne (yen)"), YEN),
        Column("purchase_total_yen", _l("Purchase total (yen)"), YEN),
        Column("purchased_on", _l("Purchase date"), DATE),
        Column("invalidation", _l("Invalidation"), NUMBER),
        Column("registry", _l("Registry"), CODE, REGISTRY_LABELS, width=18),
        Column("invalidated_on", _l("Invalidation date"), DATE),
        Column("serial_ranges", _l("Serial number ranges"), width=30),
        Column("invalidated_t", _l("Tonnes invalidated"), NUMBER),
        Column("purpose", _l("Purpose"), width=24),
        Column("offset_place", _l("Place offset"), width=16),
        Column("notice_file_id", _l("Notice file ID"), NUMBER),
        Column("corrected_fields", _l("Corrected fields"), width=16),
    ),
    rows=_batches, filters=(FIRST_DAY, LAST_DAY), sheet=_l("Batches"),
)
AUDIT = Export(
    "audit", _l("Audit log"),
    _l("Every staff action with its time, who did it and the values before and after (as JSON), "
       "newest first."),
    columns=(
        Column("id", _l("Entry"), NUMBER),
        Column("at", _l("Time (Japan time)"), DATETIME),
        Column("actor", _l("Who"), width=24),
        Column("action", _l("Action"), width=18),
        Column("object_type", _l("Object"), width=12),
        Column("object_id", _l("Object ID"), width=10),
        Column("before", _l("Before"), width=40),
        Column("after", _l("After"), width=40),
    ),
    rows=_audit, audience=ADMIN,
    filters=(Filter("action", _l("Action"), choices=_action_choices, blank=_l("All actions"),
                    hint="an action name such as rate.set"), FIRST_DAY, LAST_DAY),
    stem=lambda params: f"audit-log-{utcnow().astimezone(JST):%Y%m%d}",
)
ADDON_CONTRIBUTIONS = Export(
    "addon_contributions", _l("Contributions to this add-on"),
    _l("One row per paid or refunded contribution: number, time paid, quantity, yen and CO2 with what "
       "refunds took back, status and the name the resident chose to show. Nothing else about the people "
       "who paid."),
    columns=(
        Column("number", _l("Contribution number"), width=16),
        Column("paid_at", _l("Paid at (Japan time)"), DATETIME),
        Column("quantity", _l("Quantity"), NUMBER),
        Column("amount_yen", _l("Amount (yen)"), YEN),
        REFUNDED_YEN,
        CO2,
        REFUNDED_CO2,
        Column("status", _l("Status"), CODE, CONTRIBUTION_STATUS_LABELS),
        Column("display_name", _l("Name shown on the certificate"), width=20),
    ),
    rows=lambda params: addon_contribution_rows(params["addon"].id),
    audience=ORGANISER, audited=False, sheet=_l("Contributions"),
    stem=lambda params: f"contributions-{params['addon'].slug}-{utcnow().astimezone(JST):%Y%m%d}",
)

REGISTRY: dict[str, Export] = {e.identifier: e for e in (CONTRIBUTIONS, TOTALS, BATCHES, AUDIT, ADDON_CONTRIBUTIONS)}


def staff_exports(*, admin: bool) -> list[Export]:
    """The exports the staff console offers (the audit log to admins only)."""
    return [e for e in REGISTRY.values() if e.audience == STAFF or (admin and e.audience == ADMIN)]


# --- values into cells -----------------------------------------------------------------------------

def kg_of(grams: int) -> Decimal:
    """Grams as kilograms, exactly, with three decimals: 1200500 -> 1200.500."""
    return Decimal(grams).scaleb(-3)


def _local_time(moment: datetime) -> str:
    """2026-12-01 14:22:07 (Japan time): what Excel and LibreOffice read as a date and time."""
    return moment.astimezone(JST).isoformat(" ", "seconds")[:19]  # a third of strftime's time


def _iso_time(moment: datetime) -> str:
    return moment.astimezone(JST).isoformat(timespec="seconds")


def _label_of(labels: Mapping[Any, Any]) -> Callable[[object], str]:
    """The codes' labels, translated once (a lazy string translates on every use)."""
    table = {str(code): str(label) for code, label in labels.items()}
    return lambda value: table.get(value) or str(value)


def _csv_converter(column: Column, variant: str) -> Callable[[Any], object] | None:
    """How a value of this column becomes CSV text (None: as it is)."""
    kind, people = column.kind, variant == LABELS
    if kind == TEXT:
        return guard_text  # text columns hold str (numbers, names, titles)
    if kind == CODE:
        return _label_of(column.labels or {}) if people else None
    if kind == GRAMS:
        return kg_of if people else None
    if kind == DATETIME:
        return _local_time if people else _iso_time
    if kind == DATE:
        return date.isoformat
    if kind == MONTH:
        return lambda day: day.strftime("%Y-%m")
    return None


_SHEET_KIND = {TEXT: xlsx.TEXT, CODE: xlsx.TEXT, NUMBER: xlsx.NUMBER, YEN: xlsx.YEN, DATETIME: xlsx.DATETIME,
               DATE: xlsx.DATE, MONTH: xlsx.MONTH}


def _sheet_converter(column: Column, variant: str) -> Callable[[Any], object] | None:
    """How a value of this column becomes an XLSX cell value (None: as it is)."""
    if column.kind == CODE and variant == LABELS:
        return _label_of(column.labels or {})
    if column.kind == GRAMS and variant == LABELS:
        return kg_of
    return None


def sheet_columns(export: Export, variant: str) -> list[xlsx.SheetColumn]:
    people = variant == LABELS
    return [xlsx.SheetColumn(c.header(variant),
                             (xlsx.KG if people else xlsx.GRAMS) if c.kind == GRAMS else _SHEET_KIND[c.kind], c.width)
            for c in export.columns]


def _converted(rows: Iterable[Sequence[object]], converters: list[Callable[[Any], object] | None]) -> Iterator[list]:
    active = [(i, f) for i, f in enumerate(converters) if f is not None]
    for row in rows:
        row = list(row)
        for i, convert in active:
            value = row[i]
            if value is not None:
                row[i] = convert(value)
        yield row


def _sql_cell(column: Column, expr: Any, variant: str, dialect: str) -> Any:
    """The SQL twin of _csv_converter: the cell's final text computed by the database."""
    kind, people = column.kind, variant == LABELS
    if kind == TEXT:
        return sql_cells.guarded(expr)
    if kind == CODE:
        return sql_cells.labelled(expr, column.labels or {}) if people else sql_cells.code(expr)
    if kind == GRAMS:
        return sql_cells.kilograms(expr, dialect) if people else expr
    if kind == DATETIME:
        return sql_cells.local_time(expr, dialect) if people else sql_cells.iso_time(expr, dialect)
    if kind == DATE:
        return sql_cells.iso_date(expr, dialect)
    if kind == MONTH:
        return sql_cells.month(expr, dialect)
    return expr


def database_cells(export: Export, params: dict[str, Any], variant: str = LABELS) -> Iterator[Sequence[object]]:
    """The header, then the export's rows with every cell already formatted by the database
    (web/sql_cells.py): what csv_rows gives, without a Python step per cell, streamed from the
    cursor in chunks (on PostgreSQL a server-side cursor). Needs export.query."""
    query = export.query(params)  # type: ignore[misc]
    dialect = db.session.get_bind().dialect.name
    cells = [_sql_cell(column, expr, variant, dialect)
             for column, expr in zip(export.columns, query.selected_columns, strict=True)]
    yield [c.header(variant) for c in export.columns]
    formatted = query.with_only_columns(*cells, maintain_column_froms=True)
    with db.session.connection().execute(formatted.execution_options(yield_per=CSV_CHUNK_ROWS)) as rows:
        yield from rows


def csv_rows(export: Export, params: dict[str, Any], variant: str = LABELS) -> Iterator[Sequence[object]]:
    """The header, then the rows as CSV cells converted in Python (text guarded, None left for an
    empty cell): what database_cells must equal, and the way for exports without a query."""
    yield [c.header(variant) for c in export.columns]
    yield from _converted(export.rows(params), [_csv_converter(c, variant) for c in export.columns])


def _csv_cell(text: str) -> str:
    """One cell as the csv module writes it (quoted when it holds a comma, a quote, CR or LF)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([text])
    return buffer.getvalue()


def _sqlite_line(column: Column, expr: Any, variant: str) -> Any:
    """One cell of a SQLite CSV line: _sql_cell's text, quoted as the csv module would."""
    if column.kind == TEXT:
        return sql_cells.csv_text(expr, guard=True)
    if column.kind == CODE:
        raw = sql_cells.csv_text(sql_cells.code(expr), guard=False)
        labels = {str(k): _csv_cell(str(v)) for k, v in (column.labels or {}).items()} if variant == LABELS else {}
        # Each label arrives already quoted (if it needs it); only an unknown code is checked row by row.
        return case(labels, value=sql_cells.code(expr), else_=raw) if labels else raw
    return sql_cells.csv_plain(_sql_cell(column, expr, variant, "sqlite"))


def _tables(expr: Any) -> set[str]:
    return {table.name for table in find_tables(expr, check_columns=True)}


def _sqlite_csv_text(export: Export, params: dict[str, Any], variant: str, rows: list[int]) -> Iterator[str]:
    """SQLite: each row comes from the database as its whole CSV line, read straight from the
    DBAPI cursor in large batches; Python only joins the lines. `rows` gets the count.

    The cells that depend on the add-on alone (its titles, kind, organiser: columns over addons
    and users only, side by side) are written once per add-on in a MATERIALIZED CTE and joined
    in, not formatted again for every contribution: a third of SQLite's time on the export."""
    query = export.query(params)  # type: ignore[misc]
    exprs = list(query.selected_columns)
    cells = [_sqlite_line(column, expr, variant) for column, expr in zip(export.columns, exprs, strict=True)]
    per_addon = [i for i, expr in enumerate(exprs) if _tables(expr) and _tables(expr) <= {"addons", "users"}]
    if per_addon and per_addon == list(range(per_addon[0], per_addon[-1] + 1)) and AddOn.id in exprs:
        first, last = per_addon[0], per_addon[-1] + 1
        addon_cells = (select(AddOn.id.label("addon_id"), sql_cells.csv_line(cells[first:last]).label("cells"))
                       .join_from(AddOn, User, User.id == AddOn.owner_id)
                       .cte("addon_cells").prefix_with("MATERIALIZED"))
        line = sql_cells.csv_line([*cells[:first], addon_cells.c.cells, *cells[last:]])
        statement = (query.with_only_columns(line, maintain_column_froms=True)
                     .join(addon_cells, addon_cells.c.addon_id == AddOn.id))
    else:
        statement = query.with_only_columns(sql_cells.csv_line(cells), maintain_column_froms=True)
    with db.session.connection().execute(statement) as result:
        cursor, count = result.cursor, 0  # one text column: nothing for SQLAlchemy to process
        while batch := cursor.fetchmany(CSV_FETCH_ROWS):
            count += len(batch)
            yield "\r\n".join([row[0] for row in batch]) + "\r\n"
    rows.append(count)


def _postgresql_csv_bytes(export: Export, params: dict[str, Any], variant: str, rows: list[int]) -> Iterator[bytes]:
    """PostgreSQL: the formatted cells streamed by COPY (SELECT …) TO STDOUT (FORMAT csv) through
    psycopg, in UTF-8; each message is one row, its LF made CRLF. `rows` gets the count."""
    query = export.query(params)  # type: ignore[misc]
    cells = []
    for column, expr in zip(export.columns, query.selected_columns, strict=True):
        cell = _sql_cell(column, expr, variant, "postgresql")
        cells.append(sql_cells.copy_text(cell) if column.kind in (TEXT, CODE, DATETIME, DATE, MONTH) else cell)
    connection = db.session.connection()
    compiled = query.with_only_columns(*cells, maintain_column_froms=True).compile(
        dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    # COPY takes no parameters, so the values are written into the statement (quoted by
    # SQLAlchemy); with no placeholder left, the driver's %% for a literal % goes back to one %.
    statement = "COPY (" + compiled.string.replace("%%", "%") + ") TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')"
    count, pending = 0, []
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for message in copy:
            pending.append(bytes(message[:-1]))
            if len(pending) == CSV_FETCH_ROWS:
                count += len(pending)
                yield b"\r\n".join(pending) + b"\r\n"
                pending = []
    if pending:
        count += len(pending)
        yield b"\r\n".join(pending) + b"\r\n"
    rows.append(count)


def csv_chunks(export: Export, params: dict[str, Any], variant: str, *, encoding: str = UTF8,
               replaced: Replacements | None = None, counted: list[int] | None = None) -> Iterator[bytes]:
    """The CSV file as byte chunks, its cells formatted by the database when the export has a
    query (else by csv_rows). `counted` gets the number of data rows once the file is done.

    With a query, SQLite writes each whole line and PostgreSQL streams COPY's CSV: the same bytes
    as csv_rows through the csv module (tests/integration/test_csv_speed.py), at the speed of the
    database's own CSV tool; another database goes through database_cells and the csv module."""
    dialect = db.session.get_bind().dialect.name if export.query is not None else ""
    if dialect not in ("sqlite", "postgresql"):
        rows = _Counted(database_cells(export, params, variant) if export.query is not None
                        else csv_rows(export, params, variant))
        yield from encode_rows(rows, encoding=encoding, replaced=replaced, guard=False)
        if counted is not None:
            counted.append(max(rows.count - 1, 0))
        return
    replaced = replaced if replaced is not None else Replacements()
    yield from encode_rows([[c.header(variant) for c in export.columns]], encoding=encoding, replaced=replaced,
                           guard=False)
    encode, rows = text_encoder(encoding, replaced), []
    if dialect == "sqlite":
        for text in _sqlite_csv_text(export, params, variant, rows):
            yield encode(text)
    else:
        for chunk in _postgresql_csv_bytes(export, params, variant, rows):
            yield chunk if encoding == UTF8 else encode(chunk.decode("utf-8"))
    if counted is not None:
        counted.append(rows[0])


def sheet_rows(export: Export, params: dict[str, Any], variant: str = LABELS) -> Iterator[Sequence[object]]:
    """The rows as XLSX cell values (the header comes from sheet_columns)."""
    return _converted(export.rows(params), [_sheet_converter(c, variant) for c in export.columns])


@dataclass
class Written:
    rows: int = 0
    replaced: int = 0           # characters the encoding could not hold, written as 〓


@dataclass(frozen=True)
class FileOptions:
    file_format: str = CSV
    encoding: str = UTF8
    variant: str = LABELS


def read_file_options(values: Mapping[str, str]) -> tuple[FileOptions, dict[str, str]]:
    """Format, encoding and variant from a form or the command line, checked."""
    errors: dict[str, str] = {}
    file_format = (values.get("format") or CSV).strip()
    encoding = (values.get("encoding") or UTF8).strip().lower()
    variant = (values.get("variant") or LABELS).strip()
    if file_format not in FORMATS:
        errors["format"] = _("Choose CSV or Excel.")
    if encoding not in ENCODINGS:
        errors["encoding"] = _("Choose one of the options.")
    if variant not in VARIANTS:
        errors["variant"] = _("Choose one of the options.")
    return FileOptions(file_format, encoding, variant), errors


def write_export(export: Export, params: dict[str, Any], options: FileOptions, target: IO[bytes], *,
                 locale: str) -> Written:
    """Write the whole file to a binary file: the CLI's way, and the pages' for XLSX and Shift_JIS."""
    written = Written()
    if options.file_format == XLSX:
        written.rows = xlsx.write_xlsx(sheet_columns(export, options.variant),
                                       sheet_rows(export, params, options.variant), target,
                                       sheet_title=str(export.sheet or export.label), locale=locale)
        return written
    replaced, counted = Replacements(), []
    for chunk in csv_chunks(export, params, options.variant, encoding=options.encoding, replaced=replaced,
                            counted=counted):
        target.write(chunk)
    written.rows, written.replaced = counted[0], replaced.count
    return written


class _Counted:
    """Passes rows through, counting them."""

    def __init__(self, rows: Iterable[Sequence[object]]) -> None:
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row



@dataclass(frozen=True)
class Download:
    """A page's download: the response, or (response None) how many characters Shift_JIS would
    replace, so the page can ask first."""

    response: Response | None
    replaced: int = 0


def prepare_download(export: Export, params: dict[str, Any], options: FileOptions, *,
                     accept_replaced: bool = False) -> Download:
    """UTF-8 CSV streams as the rows are read. XLSX and Shift_JIS CSV are written to a spooled
    temporary file first (memory, then disk: constant memory either way): an XLSX needs its last
    row before the file is complete, and a Shift_JIS file must be counted before it is offered.
    Raises xlsx.XlsxTooLarge for more rows than a sheet holds."""
    filename = export.filename(params, options.file_format)
    if options.file_format == CSV and options.encoding == UTF8:
        return Download(csv_stream_response(csv_chunks(export, params, options.variant), filename))
    spool = tempfile.SpooledTemporaryFile(max_size=xlsx.SPOOL_BYTES)
    try:
        written = write_export(export, params, options, spool, locale=locale_code())
    except BaseException:
        spool.close()
        raise
    if written.replaced and not accept_replaced:
        spool.close()
        return Download(None, written.replaced)
    content_type = xlsx.XLSX_MIMETYPE if options.file_format == XLSX else csv_content_type(options.encoding)
    return Download(xlsx.file_response(spool, filename, content_type), written.replaced)
