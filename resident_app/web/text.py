"""Cleaning text typed into forms before it is validated or stored."""
from __future__ import annotations

import re

# C0 controls (NUL above all: PostgreSQL refuses it in text) except tab and line breaks, and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(raw: str | None) -> str:
    """Trimmed, with Windows line ends made plain and control characters removed."""
    return CONTROL_CHARACTERS.sub("", (raw or "").replace("\r\n", "\n")).strip()
