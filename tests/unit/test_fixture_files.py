"""The example fixtures themselves: the case histories cover the catalogue, and the bad batches
cover every error code, each with the refusals pinned for it."""

from __future__ import annotations

from collections import Counter

from ledger.errors import WIRE_CODES
from ledger.events import EVENT_TYPES, decode_event
from ledger.wire import ndjson_lines
from tests.support.paths import BAD_BATCHES, EXPECTED_REFUSALS, SAMPLE_CASES


def test_the_case_histories_cover_the_catalogue() -> None:
    events = [decode_event(line.raw) for line in ndjson_lines(SAMPLE_CASES.read_bytes())]
    types = Counter(e.type for e in events)

    assert len(events) >= 300
    assert len({e.person for e in events}) >= 10
    assert len({e.municipality for e in events}) >= 4
    assert set(types) == set(EVENT_TYPES)


def test_every_bad_fixture_file_has_its_expected_errors() -> None:
    assert {path.name for path in BAD_BATCHES.glob("*.ndjson")} == set(EXPECTED_REFUSALS)


def test_the_bad_fixtures_cover_every_error_code() -> None:
    codes = {e["code"] for errors in EXPECTED_REFUSALS.values() for e in errors}
    assert codes >= WIRE_CODES
