"""The example fixtures in a store: the case histories load cleanly, once; every broken line is
refused with what is pinned for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.clock import today_in_denmark
from ledger.errors import BatchRefused
from ledger.wire import ndjson_lines
from tests.support.paths import BAD_BATCHES, EXPECTED_REFUSALS, SAMPLE_CASES


def test_appending_the_fixtures_twice_stores_nothing_the_second_time(store_url: str) -> None:
    lines = ndjson_lines(SAMPLE_CASES.read_bytes())
    with Ledger(store_url) as ledger:
        first = ledger.append_lines(lines)
        second = ledger.append_lines(lines)
        report = ledger.verify()

    assert first.appended == len(lines)
    assert (second.appended, second.duplicates) == (0, len(lines))
    assert second.position == first.position
    assert report.ok
    assert report.checked == len(lines)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fixtures") / "ledger.db"
    with Ledger(str(path)) as ledger:
        ledger.append_lines(ndjson_lines(SAMPLE_CASES.read_bytes()))
    return path


@pytest.mark.parametrize("name", sorted(EXPECTED_REFUSALS))
def test_every_broken_line_is_refused_with_its_code_and_nothing_is_stored(
    loaded: Path, tmp_path: Path, name: str
) -> None:
    copy = tmp_path / "ledger.db"
    copy.write_bytes(loaded.read_bytes())
    with Ledger(str(copy)) as ledger:
        head = ledger.head_position()
        with pytest.raises(BatchRefused) as caught:
            ledger.append_lines(ndjson_lines((BAD_BATCHES / name).read_bytes()))
        assert ledger.head_position() == head
        assert ledger.store.count_index() == head

    got = [(e.line, e.code, e.field) for e in caught.value.errors]
    want = [(e["line"], e["code"], e["field"]) for e in EXPECTED_REFUSALS[name]]
    assert got == want


@pytest.mark.parametrize("name", sorted(EXPECTED_REFUSALS))
def test_every_refusal_of_the_bad_fixtures_says_what_is_pinned_for_it(
    loaded: Path, tmp_path: Path, name: str
) -> None:
    copy = tmp_path / "ledger.db"
    copy.write_bytes(loaded.read_bytes())
    with Ledger(str(copy)) as ledger, pytest.raises(BatchRefused) as caught:
        ledger.append_lines(ndjson_lines((BAD_BATCHES / name).read_bytes()))

    today = today_in_denmark().isoformat()
    got = [(e.line, e.message) for e in caught.value.errors]
    want = [(e["line"], str(e["message"]).format(today=today)) for e in EXPECTED_REFUSALS[name]]
    assert got == want
