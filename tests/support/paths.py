"""Where the tests find the checkout they test: its root and the sample cases committed in it."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CASES = ROOT / "fixtures" / "cases.ndjson"
BAD_BATCHES = ROOT / "fixtures" / "bad"
# What each bad batch must be refused with: line, code, field and message (`{today}` filled in).
EXPECTED_REFUSALS: dict[str, list[dict[str, object]]] = json.loads(
    (BAD_BATCHES / "expected.json").read_text()
)
