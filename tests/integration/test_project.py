"""Project-level checks: migrations match the models, vendored files, CLI, charts, catalogues."""
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import plotly.graph_objects as go
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from babel.messages.pofile import read_po
from flask_migrate import upgrade
from sqlalchemy import create_engine, select

from resident_app import create_app
from resident_app.extensions import db
from resident_app.models import FactorSet
from resident_app.web import charts

from ..conftest import ROOT, config_for


def test_migrations_build_exactly_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    app = create_app(config_for(url))
    with app.app_context():
        upgrade(directory=str(ROOT / "resident_app" / "migrations"))
        engine = create_engine(url)
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        engine.dispose()
        db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_vendored_files_match_their_recorded_hashes():
    readme = (ROOT / "static" / "vendor" / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\S+\.js) \| .*? \| (\S+) \| ([0-9a-f]{64}) \|$", readme, re.M)
    assert {r[0] for r in rows} == {"htmx/htmx-2.0.11.min.js", "plotly/plotly-basic-4.1.1.min.js"}
    for name, version, digest in rows:
        data = (ROOT / "static" / "vendor" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name
        assert version.encode() in data[:2000] or version in name


def test_htmx_is_version_2():
    head = (ROOT / "static" / "vendor" / "htmx" / "htmx-2.0.11.min.js").read_text(encoding="utf-8")
    assert 'version:"2.0.11"' in head.replace(" ", "")


def test_chart_dicts_are_valid_plotly_figures():
    figure = charts.breakdown_figure(["電気", "都市ガス"], [1_522_800, 530_400], "kg")
    go.Figure(figure)  # raises on any invalid property
    comparison = charts.comparison_figure(["家庭", "車"], [1, 2], [3, 4], "あなた", "全国平均", "kg")
    go.Figure(comparison)
    assert figure["data"][0]["x"] == [1522.8, 530.4]


def test_seed_is_idempotent(runner, app):
    first = runner.invoke(args=["seed"])
    second = runner.invoke(args=["seed"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "already there" in second.output
    with app.app_context():
        assert sorted(s.kind for s in db.session.scalars(select(FactorSet))) == ["event", "household"]


def test_factors_load_adds_a_set_once(runner, app, tmp_path):
    source = (ROOT / "resident_app" / "data" / "factor_sets" / "default.csv").read_text(encoding="utf-8")
    path = tmp_path / "fy2027.csv"
    path.write_text(source.replace("kWh,0.423,", "kWh,0.41,"), encoding="utf-8")
    args = ["factors", "load", str(path), "--name", "Tokyo FY2027", "--fiscal-year", "FY2027",
            "--effective-from", "2027-04-01"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    assert "added" in first.output and "(active)" not in first.output
    assert "unchanged" in runner.invoke(args=args).output
    listing = runner.invoke(args=["factors", "list"]).output
    assert "FY2027" in listing and listing.count("*") == 2  # one active set of each kind
    set_id = re.search(r"factor set (\d+)", first.output).group(1)
    assert runner.invoke(args=["factors", "activate", set_id]).exit_code == 0
    assert client_factor(app) == "0.41"


def client_factor(app) -> str:
    return app.test_client().get("/api/v1/factors").get_json()["factors"][0]["kg_co2_per_unit"]


def test_factors_load_refuses_an_incomplete_file(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("key,label_ja,label_en,unit,kg_co2_per_unit,fiscal_year,confidence,source\n"
                    "electricity,電気,Electricity,kWh,0.4,FY2027,P,x\n", encoding="utf-8")
    result = runner.invoke(args=["factors", "load", str(path), "--name", "x", "--fiscal-year", "FY2027"])
    assert result.exit_code != 0 and "city_gas" in result.output


@pytest.mark.parametrize("bad, message", [("abc", "数値ではありません"), ("-1", "0以上")])  # the CLI speaks Japanese
def test_factors_load_refuses_bad_numbers(runner, tmp_path, bad, message):
    source = (ROOT / "resident_app" / "data" / "factor_sets" / "default.csv").read_text(encoding="utf-8")
    path = tmp_path / "bad.csv"
    path.write_text(source.replace("kWh,0.423,", f"kWh,{bad},"), encoding="utf-8")
    result = runner.invoke(args=["factors", "load", str(path), "--name", "x", "--fiscal-year", "FY2027"])
    assert result.exit_code != 0 and message in result.output


def _extract(tmp_path) -> set[str]:
    pot = tmp_path / "fresh.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "extract", "-F",
                    str(ROOT / "translations" / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
                    "-o", str(pot), str(ROOT)], check=True, cwd=ROOT, capture_output=True)
    with open(pot, "rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}


def test_japanese_catalogue_is_complete_and_current(tmp_path):
    wanted = _extract(tmp_path)
    with open(ROOT / "translations" / "ja" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle)
    translated = {}
    for message in catalogue:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        translated[key] = all(strings) and "fuzzy" not in message.flags
    missing = sorted(m for m in wanted if m not in translated)
    untranslated = sorted(m for m in wanted if m in translated and not translated[m])
    assert not missing, f"run `make translations-update`: not in ja catalogue: {missing[:5]}"
    assert not untranslated, f"no Japanese for: {untranslated[:5]}"


def test_english_catalogue_is_current(tmp_path):
    wanted = _extract(tmp_path)
    with open(ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert not sorted(wanted - ids), "run `make translations-update`"


def test_demo_accounts_get_random_passwords_printed_once(runner, app):
    first = runner.invoke(args=["seed", "--demo"])
    assert first.exit_code == 0, first.output
    printed = dict(re.findall(r"demo account (\S+) password: (\S+)", first.output))
    assert set(printed) == {"organiser@example.jp", "staff@example.jp"}
    again = runner.invoke(args=["seed", "--demo"])
    assert "password:" not in again.output and "--new-demo-passwords" in again.output
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/auth/login").get_data(as_text=True))[1]
    assert client.post("/auth/login", data={"email": "staff@example.jp", "password": printed["staff@example.jp"],
                                            "csrf_token": token}).status_code == 303
    renewed = dict(re.findall(r"demo account (\S+) password: (\S+)",
                              runner.invoke(args=["seed", "--demo", "--new-demo-passwords"]).output))
    assert set(renewed) == set(printed) and renewed["staff@example.jp"] != printed["staff@example.jp"]
    source = (ROOT / "resident_app" / "services" / "programme_content.py").read_text(encoding="utf-8")
    assert "PASSWORD =" not in source


def test_demo_content_is_refused_next_to_real_payments(database_url):
    live = create_app(config_for(database_url, STRIPE_SECRET_KEY="sk_live_not_a_real_key"))
    result = live.test_cli_runner().invoke(args=["seed", "--demo"])
    assert result.exit_code != 0 and "development" in result.output
    with live.app_context():
        db.session.remove()
        db.engine.dispose()


def test_receipt_addresses_are_forgotten_after_the_retention_period(runner, app):
    from datetime import datetime, timedelta, timezone

    from resident_app.models import AuditEntry, Contribution

    from .factories import make_addon, make_contribution, make_user
    owner = make_user(app)
    addon = make_addon(app, owner)
    now = datetime.now(timezone.utc)
    old = make_contribution(app, addon, receipt_email="old@example.jp", created_at=now - timedelta(days=91))
    recent = make_contribution(app, addon, receipt_email="recent@example.jp", created_at=now - timedelta(days=89))
    result = runner.invoke(args=["receipts", "forget-emails"])
    assert result.exit_code == 0 and "deleted: 1" in result.output and "90 days" in result.output
    with app.app_context():
        assert db.session.get(Contribution, old).receipt_email == ""
        assert db.session.get(Contribution, recent).receipt_email == "recent@example.jp"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contribution.receipt_emails_forgotten"))
        assert entry.after["count"] == 1 and "@" not in str(entry.after)
    assert "deleted: 1" in runner.invoke(args=["receipts", "forget-emails", "--days", "0"]).output
    assert runner.invoke(args=["receipts", "forget-emails", "--days", "-1"]).exit_code != 0


def test_bandit_finds_nothing():
    """Static security checks; a justified exception is marked in place with `# nosec Bnnn` and its reason."""
    bandit = Path(sys.executable).parent / "bandit"
    result = subprocess.run([str(bandit), "-r", "resident_app", "app.py", "--quiet", "--format", "custom",
                             "--msg-template", "{relpath}:{line}: {test_id} {severity} {msg}"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
