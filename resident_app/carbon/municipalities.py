"""Tokyo's 62 municipalities (23 wards, 26 cities, 5 towns, 8 villages), grouped 区部 / 多摩 / 島しょ:
the calculator's optional place, an event's venue, the survey's origins and the municipal statistics.
The one reader of data/tokyo_municipalities.csv (全国地方公共団体コード, check digit included)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
AREAS: tuple[str, ...] = ("ku", "tama", "islands")  # 区部, 多摩, 島しょ


@dataclass(frozen=True)
class Municipality:
    code: str  # 全国地方公共団体コード, 6 digits with the check digit
    name_ja: str
    name_kana: str
    name_en: str  # a transliteration, not an official register
    area: str

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en


@lru_cache(maxsize=4)
def municipalities(data_dir: Path = DATA_DIR) -> dict[str, Municipality]:
    """Tokyo's 62 municipalities by code, in the file's order (wards, Tama, islands)."""
    with open(data_dir / "tokyo_municipalities.csv", encoding="utf-8", newline="") as handle:
        return {row["code"]: Municipality(row["code"], row["name_ja"], row["name_kana"], row["name_en"], row["area"])
                for row in csv.DictReader(handle)}


def municipality(code: object) -> Municipality | None:
    """The municipality with this code, or None."""
    return municipalities().get(code) if isinstance(code, str) else None


def is_municipality_code(value: object) -> bool:
    """Six ASCII digits that name one of Tokyo's municipalities."""
    return isinstance(value, str) and len(value) == 6 and value.isascii() and value in municipalities()
