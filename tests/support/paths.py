"""Where the tests find the checkout they test: its root and the sample cases committed in it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CASES = ROOT / "fixtures" / "cases.ndjson"
