"""The contributions CSV has its cells formatted by the database (exporters.database_cells, web/sql_cells.py) so a
million rows stream at the speed of the cursor: the file must be exactly what the Python converters
and the csv module write, byte for byte, in both variants, both languages and every status, with
the awkward values people type (formula starts, commas, quotes, line breaks)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import force_locale

from resident_app.exporters import CONTRIBUTIONS, csv_chunks, csv_rows
from resident_app.extensions import db
from resident_app.models import AddOnKind, ContributionStatus, Role
from resident_app.web.csv_export import encode_rows

from .pool_data import addon, paid, user

AWKWARD_NAMES = ["=HYPERLINK(\"http://evil\")", "-1+2", "+81", "@SUM(A1)", "\tTab", "＝全角", "－全角",
                 "コンマ, と \"引用\"", "改行\nあり", "", "山田 花子", "\u2212minus", "'quoted"]


@pytest.fixture
def awkward(app, runner, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    assert runner.invoke(args=["bench", "seed", "--contributions", "120", "--refunds", "4"]).exit_code == 0
    with app.app_context():
        owner = user("=owner@example.jp", Role.ORGANISER, "=SUM(A1) 商店街")
        item = addon(owner, AddOnKind.EVENT_TICKET, "-フェスタ, \"夏\"", price=300)
        # Payments on the last evening of a month in Japan time (23:59:59.999999) and at midnight.
        moments = [datetime(2026, 10, 31, 14, 59, 59, 999_999, tzinfo=timezone.utc),
                   datetime(2026, 10, 31, 15, 0, 0, tzinfo=timezone.utc)]
        for index, name in enumerate(AWKWARD_NAMES):
            moment = moments[index % 2] + timedelta(minutes=index)
            paid(item, 300 * (1 + index % 3), paid_at=moment, quantity=1 + index % 3, display_name=name)
        paid(item, 300, paid_at=moments[0], status=ContributionStatus.REFUNDED, display_name="=refunded")
        paid(item, 300, paid_at=moments[0], status=ContributionStatus.PENDING, display_name="@pending")
    return app


@pytest.mark.parametrize("status", ["", "all", "refunded", "pending"])
@pytest.mark.parametrize("variant", ["labels", "codes"])
@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_database_formats_the_csv_exactly_as_python_does(awkward, status, variant, locale):
    with awkward.app_context(), force_locale(locale):
        params, errors = CONTRIBUTIONS.parse({"status": status})
        assert not errors
        counted: list[int] = []
        fast = b"".join(csv_chunks(CONTRIBUTIONS, params, variant, counted=counted))
        slow = b"".join(encode_rows(csv_rows(CONTRIBUTIONS, params, variant), guard=False))
        assert fast == slow and counted == [len(list(csv_rows(CONTRIBUTIONS, params, variant))) - 1]
        assert fast.count(b"\r\n") > (1 if status in ("refunded", "pending") else 100)


def test_the_formatted_csv_keeps_the_formula_guard_and_japan_time(awkward):
    with awkward.app_context(), force_locale("ja"):
        params, _ = CONTRIBUTIONS.parse({"status": "all"})
        text = b"".join(csv_chunks(CONTRIBUTIONS, params, "labels")).decode("utf-8-sig")
        assert ",'=HYPERLINK(\"\"http://evil\"\")\"" in text or "'=HYPERLINK(" in text
        assert ",'@pending" in text and ",'＝全角" in text and ",'=SUM(A1) 商店街," in text
        assert "2026-10-31 23:59:59," in text and "2026-11-01 00:01:00," in text
        assert db.session.get_bind().dialect.name in ("sqlite", "postgresql")
