"""The 98 kommunekoder (shipped as ``municipalities.csv`` beside this module)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def municipalities() -> dict[str, str]:
    """Kommunekode -> name."""
    text = resources.files("ledger").joinpath("municipalities.csv").read_text(encoding="utf-8")
    return {row["code"]: row["name"] for row in csv.DictReader(text.splitlines())}


def is_kommunekode(code: str) -> bool:
    return code in municipalities()


def municipality_name(code: str) -> str:
    return municipalities().get(code, code)
