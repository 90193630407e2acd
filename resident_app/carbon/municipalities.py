"""Tokyo's 62 municipalities (23 wards, 26 cities, 5 towns, 8 villages): where an event is held and
where its participants come from. Read from data/tokyo_municipalities.csv (全国地方公共団体コード)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from .reference import DATA_DIR


@dataclass(frozen=True)
class Municipality:
    code: str          # the 6-digit 全国地方公共団体コード, check digit included
    name_ja: str
    name_kana: str
    name_en: str       # a transliteration, not an official register

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en


@lru_cache(maxsize=1)
def municipalities() -> tuple[Municipality, ...]:
    """In the file's order (the code order: wards, cities, towns, villages)."""
    with open(DATA_DIR / "tokyo_municipalities.csv", encoding="utf-8", newline="") as handle:
        return tuple(Municipality(row["lg_code_6"], row["name_ja"], row["name_kana"], row["name_en_conventional"])
                     for row in csv.DictReader(handle))


def municipality(code: str) -> Municipality | None:
    """The municipality with this code, or None."""
    return next((m for m in municipalities() if m.code == code), None)
