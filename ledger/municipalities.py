"""The 98 kommunekoder (shipped as ``municipalities.csv`` beside this module)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

# Read beside the module, as the catalogues are (``ledger.i18n``): importlib.resources would
# load itself, zipfile and the compression modules into every append for this one file.
MUNICIPALITIES_CSV = Path(__file__).with_name("municipalities.csv")


@cache
def municipalities() -> dict[str, str]:
    """Kommunekode -> name."""
    text = MUNICIPALITIES_CSV.read_text(encoding="utf-8")
    return {row["code"]: row["name"] for row in csv.DictReader(text.splitlines())}


def is_kommunekode(code: str) -> bool:
    return code in municipalities()


def municipality_name(code: str) -> str:
    return municipalities().get(code, code)
