"""A citation a resident may read, stored beside the figure it supports."""
from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..carbon.citations import Citation


class CitedMixin:
    """Publisher, title, year and link in both languages: what public pages show as the source.

    Working notes stay in the model's own note column (`source` or `staff_note`), for staff only."""

    cite_publisher_ja: Mapped[str] = mapped_column(String(200), default="")
    cite_publisher_en: Mapped[str] = mapped_column(String(200), default="")
    cite_title_ja: Mapped[str] = mapped_column(String(300), default="")
    cite_title_en: Mapped[str] = mapped_column(String(300), default="")
    cite_year: Mapped[str] = mapped_column(String(20), default="")
    cite_url: Mapped[str] = mapped_column(String(500), default="")

    @property
    def citation(self) -> Citation:
        return Citation(self.cite_publisher_ja, self.cite_publisher_en, self.cite_title_ja, self.cite_title_en,
                        self.cite_year, self.cite_url)

    def set_citation(self, citation: Citation) -> None:
        for name, value in citation.as_row().items():
            setattr(self, f"cite_{name}", value)
