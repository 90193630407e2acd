"""CSV download of an add-on's contributions: figures and the name residents chose to show, nothing else."""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from ..models import AddOn, utcnow
from ..services.addons import TOKYO, exported_contributions
from ..web.csv_export import csv_response
from . import bp
from .access import addon_or_404

CSV_HEADER = ("number", "paid_at", "quantity", "amount_yen", "co2_g", "status", "display_name")


def tokyo_iso(moment: datetime | None) -> str:
    """An aware datetime as ISO 8601 in Asia/Tokyo, to the second: 2027-04-29T10:15:00+09:00."""
    return moment.astimezone(TOKYO).isoformat(timespec="seconds") if moment else ""


def contribution_rows(addon: AddOn) -> Iterator[tuple[object, ...]]:
    """The header, then one row per paid or refunded contribution. No e-mail, no payment ids."""
    yield CSV_HEADER
    for row in exported_contributions(addon):
        yield (row.number, tokyo_iso(row.paid_at), row.quantity, row.amount_yen, row.co2_g,
               str(row.status), row.display_name)


@bp.get("/addons/<int:addon_id>/contributions.csv")
def addon_csv(addon_id: int):
    """Streamed, so an add-on with many thousands of fares downloads in constant memory."""
    addon = addon_or_404(addon_id)
    stamp = utcnow().astimezone(TOKYO).strftime("%Y%m%d")
    return csv_response(contribution_rows(addon), f"contributions-{addon.slug}-{stamp}.csv")
