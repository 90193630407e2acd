"""Every HTML form (and the query strings that act like forms) driven with arbitrary input through the
Flask client: text, numbers in every script, Unicode, huge values, hostile files, missing fields.

Whatever arrives: never a 5xx, and a refusal names what is wrong beside the field, in Japanese or
in English as the browser asked. Hypothesis runs derandomized (the same examples on every run, so CI
is stable); HOSTILE_EXAMPLES=1000 runs more when hunting."""
from __future__ import annotations

import html
import io
import os
import re
import unicodedata
from datetime import timedelta

import pytest
import stripe
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from resident_app.services.days import tokyo_today

from .factories import login, token_from
from .world import build_world

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "40"))
# Shrinking a failure replays hundreds of requests; HOSTILE_NO_SHRINK=1 reports the first one found.
PHASES = [p for p in Phase if p is not Phase.shrink or not os.environ.get("HOSTILE_NO_SHRINK")]
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, phases=PHASES,
                suppress_health_check=list(HealthCheck))

# --- what people and programs type -----------------------------------------------------------------

TRICKY = [
    "", " ", "0", "00", "-1", "−1", "ー1", "1.5", ".5", "5.", "1..5", "1,000", "1,00", "１,０００", "１２３",
    "¥1,000", "￥１０００", "1000円", "²", "³", "፩", "١٢٣", "४२", "一二三", "Ⅻ", "½", "1e5", "1E-3", "NaN", "nan",
    "Infinity", "-Infinity", "0x1F", "1_000", "+5", "9" * 9, "9" * 12, "9" * 30, "9" * 5000, "\x00", "1\x00",
    "\u202e123", "\u200b1", "　", "<script>alert(1)</script>", "' OR 1=1 --", "=HYPERLINK(\"http://x\")",
    "2026-02-30", "2026-13-01", "0001-01-01", "9999-12-31", "2026/04/01", "２０２６−０４−０１", "2027-04-29T09:00",
    "2027-04-29 09:00", "2027/4/29 9:00", "27-04-29", "JP-1 – JP-2", "JP-1 - JP-2 - JP-3", "a@@b.c", "a@b",
    "@", "name@example.jp", "名前@例え.jp", "x" * 300, "😀" * 20, "\r\n\r\n", "%00", "../../etc/passwd",
]
UNICODE = st.characters(exclude_categories=("Cs",))  # lone surrogates cannot be sent as UTF-8
HOSTILE = st.one_of(
    st.sampled_from(TRICKY),
    st.text(UNICODE, max_size=40),
    st.from_regex(r"[0-9０-９,，.．¥￥円 \-−]{0,14}", fullmatch=True),
    st.integers(-10**15, 10**15).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.text(UNICODE, min_size=300, max_size=3000),
)
MISSING = object()


def fields(**strategies) -> st.SearchStrategy[dict[str, object]]:
    """A form: each field hostile, well-formed, or missing altogether."""
    return st.fixed_dictionaries({name: st.one_of(st.just(MISSING), strategy)
                                  for name, strategy in strategies.items()}).map(
        lambda form: {name: value for name, value in form.items() if value is not MISSING})


def hostile_or(*good: str) -> st.SearchStrategy[str]:
    return st.one_of(HOSTILE, st.sampled_from(good)) if good else HOSTILE


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
FILE_NAMES = st.one_of(st.sampled_from(["notice.pdf", "通知.PDF", "scan.png", "photo.jpeg", "evil.pdf.exe", "x.csv",
                                        "../../etc/passwd", "a" * 300 + ".pdf", ".pdf", "invoice"]),
                       st.text(UNICODE, min_size=1, max_size=40))
FILES = st.tuples(st.one_of(st.just(PDF), st.just(PNG), st.binary(max_size=600),
                            st.binary(max_size=200).map(lambda b: PDF + b)), FILE_NAMES)


def upload(file: tuple[bytes, str]) -> tuple[io.BytesIO, str]:
    return io.BytesIO(file[0]), file[1]


LANGUAGE = st.sampled_from(["ja", "en"])

# --- what every answer must look like --------------------------------------------------------------

FIELD_ERROR = re.compile(r'<(span|p)\b([^>]*\bclass="field-error"[^>]*)>(.*?)</\1>', re.S)
ELEMENT_ID = re.compile(r'\bid="(?:error-)?([^"]*?)(?:-error)?"')
ALERT = re.compile(r'<p [^>]*(?:role="alert"|class="flash flash-(?:error|warning)")[^>]*>(.*?)</p>', re.S)
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")
REFUSALS = (400, 401, 403, 409, 413, 422)


def messages(page: str) -> tuple[dict[str, str], list[str]]:
    """Field errors by element id, and the page's alerts."""
    by_field = {}
    for _tag, attributes, text in FIELD_ERROR.findall(page):
        found = ELEMENT_ID.search(attributes)
        by_field[found.group(1) if found else ""] = html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
    alerts = [html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for text in ALERT.findall(page)]
    return {name: text for name, text in by_field.items() if text}, [a for a in alerts if a]


def in_language(message: str, lang: str, typed: str = "") -> bool:
    if lang == "ja":
        return bool(JAPANESE.search(message))
    # English: words in Latin letters, and no kana unless the message repeats something typed.
    return bool(re.search(r"[A-Za-z]{3}", message)) and not (KANA.search(message) and not KANA.search(typed))


def check(response, lang: str, *, sent: dict | None = None, bad: tuple[str, ...] = ()) -> None:
    """No 5xx; a refused form says why beside the field, in the page's language; `bad` fields
    (certainly unreadable as typed) have their own message."""
    status = response.status_code
    assert status < 500, f"{status} for {sent!r}"
    if status not in REFUSALS or not response.mimetype == "text/html":
        return
    page = response.get_data(as_text=True)
    by_field, alerts = messages(page)
    assert by_field or alerts or status in (401, 403, 413), f"{status} without a message for {sent!r}"
    typed = " ".join(str(v) for v in (sent or {}).values())
    for where, message in [*by_field.items(), *(("alert", a) for a in alerts)]:
        assert in_language(message, lang, typed), f"{where}: {message!r} is not in {lang} (sent {sent!r})"
    for name in bad:
        assert any(key == name or key.endswith("-" + name) for key in by_field), \
            f"no message beside {name} for {sent!r}: {by_field}"


def unreadable_number(value: object) -> bool:
    """Text that no number reader may accept: letters (other than a yen sign or 円) after NFKC."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return bool(re.search(r"[A-Za-z]", text.replace("円", "")))


def unreadable_date(value: object) -> bool:
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return bool(text) and re.search(r"[A-Za-z]", text.replace("T", "")) is not None


# --- the world the forms act on --------------------------------------------------------------------

@pytest.fixture
def world(app, tmp_path):
    return build_world(app, tmp_path)


def signed_in(app, world, role: str):
    client = app.test_client()
    assert login(client, world.emails[role]).status_code == 303
    return client


def send(client, method: str, url: str, lang: str, data: dict | None = None, *, csrf_from: str = "/",
         fresh_token: bool = False):
    """GET with a query string, or POST a form (multipart when it holds a file) with a CSRF token.
    The token is fetched once per client (it lasts as long as the session) unless `fresh_token`."""
    headers = {"Accept-Language": lang}
    if method == "GET":
        return client.get(url, query_string=data or {}, headers=headers)
    if fresh_token or not hasattr(client, "csrf_token"):
        client.csrf_token = token_from(client, csrf_from)
    form = {"csrf_token": client.csrf_token, **(data or {})}
    multipart = any(isinstance(v, tuple) for v in form.values())
    return client.post(url, data=form, headers=headers,
                       content_type="multipart/form-data" if multipart else None)


# --- residents ---------------------------------------------------------------------------------------

def test_add_on_page_and_checkout(app, world):
    client = app.test_client()

    @FUZZ
    @given(lang=LANGUAGE, household=st.booleans(), amount=hostile_or("1000", "5,000", "１０００"),
           form=fields(quantity=hostile_or("1", "3", "20"), amount=hostile_or("500", "1,000"),
                       display_name=hostile_or("山田 花子", ""), receipt_email=hostile_or("name@example.jp", "")))
    def run(lang, household, amount, form):
        slug = world.household_slug if household else world.slug
        check(send(client, "GET", f"/a/{slug}", lang, {"amount": amount}), lang, sent={"amount": amount})
        response = send(client, "POST", f"/a/{slug}/checkout", lang, form, csrf_from=f"/a/{slug}")
        bad = tuple(name for name in ("amount",) if household and name in form and unreadable_number(form[name]))
        check(response, lang, sent=form, bad=bad)
    run()


def test_calculator_form(app):
    client = app.test_client()
    sources = ("electricity", "city_gas", "lpg", "kerosene", "gasoline", "diesel", "water")

    @FUZZ
    @given(lang=LANGUAGE, htmx=st.booleans(), form=fields(
        period=hostile_or("month", "year"), household_size=hostile_or("1", "4", "6"),
        electricity_unit=hostile_or("qty", "yen"), city_gas_unit=hostile_or("qty", "yen"),
        offset_percent=hostile_or("10", "50", "100"), action=hostile_or("led", "eco_drive"),
        **{source: hostile_or("300", "12.5", "１,２００") for source in sources}))
    def run(lang, htmx, form):
        headers = {"HX-Request": "true"} if htmx else {}
        if not hasattr(client, "csrf_token"):
            client.csrf_token = token_from(client, "/calculator")
        form = {"csrf_token": client.csrf_token, **form}
        response = client.post("/calculator", data=form, headers={"Accept-Language": lang, **headers})
        check(response, lang, sent=form, bad=tuple(s for s in sources if s in form and unreadable_number(form[s])))
    run()


def test_language_switch(app):
    client = app.test_client()

    @FUZZ
    @given(lang=LANGUAGE, form=fields(lang=hostile_or("ja", "en"), next=hostile_or("/calculator", "//evil.example",
                                                                                 "https://evil.example/")))
    def run(lang, form):
        response = send(client, "POST", "/language", lang, form)
        check(response, lang, sent=form)
        if response.status_code == 303:
            assert response.headers["Location"].startswith("/") and not response.headers["Location"].startswith("//")
    run()


# --- accounts ------------------------------------------------------------------------------------------

def test_sign_up_and_log_in(app, world):
    client = app.test_client()

    @FUZZ
    @given(lang=LANGUAGE, signup=fields(
        organisation=hostile_or("みどり台商店街"), contact_name=hostile_or("山田 花子"),
        email=hostile_or("new@npo.example.jp", world.emails["organiser"], "NEW@npo.example.jp"),
        password=hostile_or("correct-horse-battery"), password_confirm=hostile_or("correct-horse-battery")),
        log_in=fields(email=hostile_or(world.emails["pending_organiser"], "nobody@example.jp"),
                      password=hostile_or("wrong-password-123"), next=hostile_or("/organiser/", "//evil.example")))
    def run(lang, signup, log_in):
        email = str(signup.get("email", ""))
        bad = ("email",) if "email" in signup and "@" not in email else ()
        check(send(client, "POST", "/auth/signup", lang, signup, csrf_from="/auth/signup", fresh_token=True), lang,
              sent=signup, bad=bad)
        check(send(client, "POST", "/auth/login", lang, log_in, csrf_from="/auth/login", fresh_token=True), lang,
              sent=log_in)
    run()


# --- organisers ---------------------------------------------------------------------------------------

ADDON_FIELDS = dict(
    kind=hostile_or("event_ticket", "community_bus", "household", "other"),
    title_ja=hostile_or("みどり台 環境フェスタ"), title_en=hostile_or("Eco festa"),
    description_ja=hostile_or(""), description_en=hostile_or(""), place=hostile_or("みどり台公園"),
    emissions_note_ja=hostile_or(""), emissions_note_en=hostile_or(""),
    unit_price_yen=hostile_or("200", "１００", "¥1,000"), min_amount_yen=hostile_or("100", ""),
    max_amount_yen=hostile_or("10000", ""), event_date=hostile_or("2027-04-29", ""),
    sale_starts_at=hostile_or("2027-04-01T09:00", ""), sale_ends_at=hostile_or("2027-04-30 18:00", ""),
    max_units=hostile_or("500", ""), is_active=hostile_or("1", ""),
)


@pytest.mark.parametrize("role", ["organiser", "staff"])
def test_add_on_form(app, world, role):
    client = signed_in(app, world, role)

    @FUZZ
    @given(lang=LANGUAGE, edit=st.booleans(), form=fields(**ADDON_FIELDS), preview=hostile_or("200"))
    def run(lang, edit, form, preview):
        url = f"/organiser/addons/{world.addon_id}/edit" if edit else "/organiser/addons/new"
        bad = tuple(name for name in ("unit_price_yen", "max_units") if name in form and unreadable_number(form[name]))
        bad += tuple(name for name in ("event_date",) if name in form and unreadable_date(form[name]))
        check(send(client, "POST", url, lang, form), lang, sent=form, bad=bad)
        check(send(client, "GET", "/organiser/addons/preview", lang, {"unit_price_yen": preview}), lang)
    run()


# --- staff ------------------------------------------------------------------------------------------------

def test_batch_forms(app, world):
    client = signed_in(app, world, "staff")
    batch = f"/staff/batches/{world.open_batch_id}"
    yesterday = (tokyo_today() - timedelta(days=1)).isoformat()

    @FUZZ
    @given(lang=LANGUAGE, cutoff=hostile_or(yesterday), page=hostile_or("1", "2"),
           close=fields(cutoff=hostile_or(yesterday), note=hostile_or("11月分")),
           purchase=fields(provider=hostile_or("みどり信金"), credit_type=hostile_or("j_credit", "j_ver"),
                           project_name=hostile_or("下川町"), project_id=hostile_or("JCL-0042"),
                           credit_place=hostile_or("北海道/下川町"), tonnes=hostile_or("1", "3"),
                           price_per_t_yen=hostile_or("10,000"), total_yen=hostile_or("10000"),
                           purchased_on=hostile_or(yesterday), invoice_file=FILES, invoice_file_kept=hostile_or("1")))
    def run(lang, cutoff, page, close, purchase):
        check(send(client, "GET", "/staff/batches/new", lang, {"cutoff": cutoff}), lang, sent={"cutoff": cutoff})
        check(send(client, "GET", batch, lang, {"page": page}), lang)
        check(send(client, "POST", "/staff/batches/new", lang, close), lang, sent=close,
              bad=("cutoff",) if "cutoff" in close and unreadable_date(close["cutoff"]) else ())
        if "invoice_file" in purchase:
            purchase["invoice_file"] = upload(purchase["invoice_file"])
        bad = tuple(name for name in ("tonnes", "price_per_t_yen", "total_yen")
                    if name in purchase and unreadable_number(purchase[name]))
        check(send(client, "POST", f"{batch}/purchase", lang, purchase), lang, sent=purchase, bad=bad)
    run()


def test_invalidation_and_correction_forms(app, world):
    client = signed_in(app, world, "staff")
    yesterday = (tokyo_today() - timedelta(days=1)).isoformat()
    rows = {f"serial_{side}_{i}": hostile_or("JP-123-0004", "JP-123-0005 – JP-123-0006", "")
            for i in range(1, 5) for side in ("start", "end")}

    @FUZZ
    @given(lang=LANGUAGE, edit=st.booleans(), form=fields(
        registry=hostile_or("j_credit_registry", "j_ver_registry"), invalidated_on=hostile_or(yesterday),
        tonnes=hostile_or("1", "2"), purpose=hostile_or("2026年度 共同購入"), offset_place=hostile_or("東京都/八王子市"),
        range_rows=hostile_or("3", "4", "40", "41", "-1"), add_range=hostile_or("1"), notice_file=FILES, **rows),
        confirm=fields(final=hostile_or("1"), warnings_key=hostile_or(""), **{"ack-0": hostile_or("serials_mismatch")}),
        correction=fields(target=hostile_or("purchase:tonnes", "purchase:purchased_on", "purchase:credit_type",
                                            f"invalidation:{world.invalidation_id}:serial_ranges",
                                            f"invalidation:{world.invalidation_id}:invalidated_on",
                                            "invalidation:99999999999999999999999:tonnes", "invalidation:²:tonnes"),
                          new_value=hostile_or("3", "2026-04-01", "JP-123-0001 – JP-123-0003"),
                          reason=hostile_or("請求書の誤記")))
    def run(lang, edit, form, confirm, correction):
        if "notice_file" in form:
            form["notice_file"] = upload(form["notice_file"])
        open_batch = f"/staff/batches/{world.open_batch_id}"
        url = f"{open_batch}/invalidations/{world.invalidation_id}" if edit else f"{open_batch}/invalidations"
        bad = ("tonnes",) if "tonnes" in form and unreadable_number(form["tonnes"]) and "add_range" not in form else ()
        check(send(client, "POST", url, lang, form), lang, sent=form, bad=bad)
        check(send(client, "POST", f"{open_batch}/confirm", lang, confirm), lang, sent=confirm)
        check(send(client, "POST", f"/staff/batches/{world.batch_id}/corrections", lang, correction), lang,
              sent=correction)
    run()


def test_offline_contribution_form(app, world):
    client = signed_in(app, world, "staff")

    @FUZZ
    @given(lang=LANGUAGE, addon=hostile_or(str(world.addon_id)), form=fields(
        addon_id=hostile_or(str(world.addon_id), "99999999999999999999"), quantity=hostile_or("37", "３７"),
        channel=hostile_or("cash", "bank_transfer", "stripe"), received_on=hostile_or(tokyo_today().isoformat()),
        note=hostile_or("運賃箱"), display_name=hostile_or("みどり台循環バス"), evidence=FILES,
        evidence_kept=hostile_or("1", "99999999999999999999")))
    def run(lang, addon, form):
        check(send(client, "GET", "/staff/contributions/offline", lang, {"addon_id": addon}), lang)
        if "evidence" in form:
            form["evidence"] = upload(form["evidence"])
        known_addon = form.get("addon_id") == str(world.addon_id)
        bad = ("quantity",) if known_addon and "quantity" in form and unreadable_number(form["quantity"]) else ()
        check(send(client, "POST", "/staff/contributions/offline", lang, form), lang, sent=form, bad=bad)
    run()


FACTOR_HEADER = "key,label_ja,label_en,unit,kg_co2_per_unit,fiscal_year,confidence,source\n"
FACTOR_ROW = st.lists(hostile_or("electricity", "電気", "Electricity", "kWh", "0.423", "FY2027", "P", "MOE"),
                      min_size=0, max_size=10).map(lambda cells: ",".join(str(c).replace("\n", " ") for c in cells))
FACTOR_FILES = st.one_of(
    st.lists(FACTOR_ROW, max_size=9).map(lambda rows: (FACTOR_HEADER + "\n".join(rows)).encode("utf-8")),
    st.binary(max_size=400), st.text(UNICODE, max_size=400).map(lambda t: t.encode("utf-8")),
    st.just(FACTOR_HEADER.encode("utf-16")))


def test_settings_forms(app, world):
    client = signed_in(app, world, "admin")

    @FUZZ
    @given(lang=LANGUAGE,
           rate=fields(yen_per_t=hostile_or("12000", "１２，０００"), reason=hostile_or("市場価格の見直し"),
                       effective_on=hostile_or("2099-04-01", "")),
           factors=fields(set_name=hostile_or("Tokyo FY2027"), fiscal_year=hostile_or("FY2027"),
                          set_effective_from=hostile_or("2027-04-01"), activate=hostile_or("1"),
                          file=st.tuples(FACTOR_FILES, FILE_NAMES)),
           price=fields(price_key=hostile_or("electricity", "city_gas"), yen_per_unit=hostile_or("31", "162.5"),
                        price_effective_from=hostile_or("2027-04-01"), as_of=hostile_or("2027-04"),
                        confidence=hostile_or("P", "S"), source=hostile_or("東京電力")))
    def run(lang, rate, factors, price):
        bad = ("yen_per_t",) if "yen_per_t" in rate and unreadable_number(rate["yen_per_t"]) else ()
        check(send(client, "POST", "/staff/settings/rate", lang, rate), lang, sent=rate, bad=bad)
        if "file" in factors:
            factors["file"] = upload(factors["file"])
        check(send(client, "POST", "/staff/settings/factor-sets", lang, factors), lang, sent=factors)
        bad = ("yen_per_unit",) if "yen_per_unit" in price and unreadable_number(price["yen_per_unit"]) else ()
        check(send(client, "POST", "/staff/settings/unit-prices", lang, price), lang, sent=price, bad=bad)
    run()


def test_users_exports_and_audit(app, world):
    client = signed_in(app, world, "admin")

    @FUZZ
    @given(lang=LANGUAGE,
           account=fields(email=hostile_or("new-staff@city.example.jp", world.emails["staff"]),
                          role=hostile_or("staff", "admin", "organiser"), organisation=hostile_or("環境政策課"),
                          password=hostile_or("temporary-password-1")),
           export=fields(**{"from": hostile_or("2026-04-01", ""), "to": hostile_or("2027-03-31", ""),
                            "format": hostile_or("csv", "xlsx"), "addon": hostile_or(str(world.addon_id), ""),
                            "organiser": hostile_or(""), "status": hostile_or("paid", "all")}),
           kind=st.sampled_from(["contributions", "totals", "batches"]),
           audit=fields(action=hostile_or("user.login", ""), **{"from": hostile_or(""), "to": hostile_or("")},
                        page=hostile_or("1", "2", "99999999999999999999")))
    def run(lang, account, export, kind, audit):
        check(send(client, "POST", "/staff/users/new", lang, account), lang, sent=account)
        response = send(client, "GET", f"/staff/exports/{kind}", lang, export)
        response.close()
        check(response, lang, sent=export)
        check(send(client, "GET", "/staff/audit", lang, audit), lang, sent=audit)
    run()


# --- the cases that were 500s, kept as plain regression tests ------------------------------------------

def error_beside(page: str, field: str) -> str:
    return messages(page)[0].get(field, "")


@pytest.mark.parametrize("amount", ["²", "¹⁰", "፩", "१००", "9" * 40])
def test_unicode_digits_in_the_amount_are_a_field_error(app, world, amount):
    client = app.test_client()
    assert send(client, "GET", f"/a/{world.household_slug}", "en", {"amount": amount}).status_code == 200
    response = send(client, "POST", f"/a/{world.household_slug}/checkout", "en", {"amount": amount},
                    csrf_from=f"/a/{world.household_slug}")
    assert response.status_code == 422
    assert error_beside(response.get_data(as_text=True), "amount")


def pending_count(app) -> int:
    from sqlalchemy import func, select

    from resident_app.extensions import db
    from resident_app.models import Contribution, ContributionStatus
    with app.app_context():
        return db.session.scalar(select(func.count(Contribution.id))
                                 .where(Contribution.status == ContributionStatus.PENDING))


@pytest.mark.parametrize("address", ["a@@b.c", "a@b..jp", "a b@c.jp", "@example.jp", "name@example."])
def test_a_receipt_address_stripe_would_refuse_is_refused_beside_the_field(app, world, address):
    client = app.test_client()
    before = pending_count(app)
    response = send(client, "POST", f"/a/{world.slug}/checkout", "ja", {"quantity": "1", "receipt_email": address},
                    csrf_from=f"/a/{world.slug}")
    assert response.status_code == 422
    assert "name@example.jp" in error_beside(response.get_data(as_text=True), "receipt_email")
    assert pending_count(app) == before


@pytest.mark.parametrize("failure, field", [
    (stripe.InvalidRequestError("Invalid email address", param="customer_email", code="email_invalid"), "receipt_email"),
    (stripe.APIConnectionError("connection refused"), "form"),
])
def test_when_stripe_refuses_the_contribution_fails_without_the_address(app, world, monkeypatch, failure, field):
    from sqlalchemy import select

    from resident_app.extensions import db
    from resident_app.models import AuditEntry, Contribution, ContributionStatus
    from resident_app.payments.gateway import PaymentGateway

    def refuse(self, params, idempotency_key):
        raise failure
    monkeypatch.setattr(PaymentGateway, "create_checkout_session", refuse)
    client = app.test_client()
    before = pending_count(app)
    response = send(client, "POST", f"/a/{world.slug}/checkout", "en",
                    {"quantity": "2", "receipt_email": "resident@example.jp"}, csrf_from=f"/a/{world.slug}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    message = error_beside(page, field) if field != "form" else " ".join(messages(page)[1])
    assert "Nothing was charged" in message or "e-mail address" in message
    assert pending_count(app) == before
    with app.app_context():
        latest = db.session.scalar(select(Contribution).order_by(Contribution.id.desc()))
        assert latest.status == ContributionStatus.FAILED and latest.receipt_email == ""
        assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == \
            "contribution.checkout_failed"


@pytest.mark.parametrize("query", [{"addon": "²⁰⁰"}, {"organiser": "፩"}, {"addon": "१"}, {"addon": "9" * 30}])
def test_unicode_digits_in_an_export_filter_are_a_field_error(app, world, query):
    client = signed_in(app, world, "staff")
    response = send(client, "POST", "/staff/exports/contributions", "en", {"format": "csv", **query},
                    csrf_from="/staff/exports")
    assert response.status_code == 422
    field = next(iter(query))
    assert error_beside(response.get_data(as_text=True), f"contributions-{field}") == "Choose one of the options."


@pytest.mark.parametrize("target", ["invalidation:²:tonnes", "invalidation:99999999999999999999999:tonnes"])
def test_a_correction_target_that_is_no_id_is_a_field_error(app, world, target):
    client = signed_in(app, world, "staff")
    response = send(client, "POST", f"/staff/batches/{world.batch_id}/corrections", "en",
                    {"target": target, "new_value": "3", "reason": "x"})
    assert response.status_code == 422
    assert error_beside(response.get_data(as_text=True), "c-target") == "Choose what to correct."


@pytest.mark.parametrize("rows, message", [
    ("electricity,電気,Electricity,kWh,0.4,FY2027,P\n", "lacks factors"),  # a short row: its source is None
    ("electricity,電気\n", "Line 2"),                                      # shorter still: no factor
    ("electricity,電気,Electricity,kWh,١٢,FY2027,P,x\n", "not a number"),   # Arabic-Indic digits
    ("electricity,電気,Electricity,kWh,1e3,FY2027,P,x\n", "not a number"),
    ("electricity,電気,Electricity,kWh,0.1234567,FY2027,P,x\n", "6 decimal places"),
    ("electricity,電気,Electricity," + "k" * 30 + ",0.4,FY2027,P,x\n", "more than 20 characters"),
])
def test_a_hostile_factor_file_is_refused_with_its_line(app, world, rows, message):
    client = signed_in(app, world, "admin")
    data = {"set_name": "Tokyo FY2027", "fiscal_year": "FY2027", "set_effective_from": "2027-04-01",
            "file": (io.BytesIO((FACTOR_HEADER + rows).encode("utf-8")), "fy2027.csv")}
    response = send(client, "POST", "/staff/settings/factor-sets", "en", data)
    assert response.status_code == 422
    assert message in error_beside(response.get_data(as_text=True), "file")


def test_a_huge_page_number_is_the_last_page_not_an_overflow(app, world):
    client = signed_in(app, world, "admin")
    for url in ("/staff/audit", f"/staff/batches/{world.batch_id}"):
        assert client.get(url, query_string={"page": "9" * 18}).status_code == 200
