"""Citations a resident may read: publisher, title, year and link, in Japanese and English.

Working notes (what was checked, what to verify) never live here: they stay in the data files'
`staff_note` and `source` columns and reach staff screens only."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
FIELDS = ("publisher_ja", "publisher_en", "title_ja", "title_en", "year", "url")


@dataclass(frozen=True)
class Citation:
    publisher_ja: str = ""
    publisher_en: str = ""
    title_ja: str = ""
    title_en: str = ""
    year: str = ""
    url: str = ""

    def publisher(self, locale: str) -> str:
        return self.publisher_ja if locale == "ja" else (self.publisher_en or self.publisher_ja)

    def title(self, locale: str) -> str:
        return self.title_ja if locale == "ja" else (self.title_en or self.title_ja)

    def __bool__(self) -> bool:
        return bool(self.title_ja or self.title_en)

    @classmethod
    def from_mapping(cls, row: Mapping[str, str | None]) -> "Citation":
        """A citation from a row holding the FIELDS columns (missing ones are blank)."""
        return cls(**{name: (row.get(name) or "").strip() for name in FIELDS})

    def as_row(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FIELDS}


@lru_cache(maxsize=4)
def citations(data_dir: Path = DATA_DIR) -> dict[str, Citation]:
    """Every citation the shipped data refers to, by key."""
    with open(data_dir / "citations.csv", encoding="utf-8", newline="") as handle:
        return {row["key"]: Citation.from_mapping(row) for row in csv.DictReader(handle)}


def citation(key: str, data_dir: Path = DATA_DIR) -> Citation:
    """One citation by key; an unknown key is a bug in the shipped data (KeyError)."""
    return citations(data_dir)[key]


def citation_list(keys: str, data_dir: Path = DATA_DIR) -> tuple[Citation, ...]:
    """Citations for a space-separated list of keys, in order."""
    return tuple(citation(key, data_dir) for key in keys.split())
