"""Appending: atomic batches, idempotency by event_id, references inside a batch (both stores)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ledger.application import Ledger
from ledger.errors import BatchRefused, UnknownPerson
from ledger.events import encode_event
from ledger.records import stream_id
from ledger.wire import ndjson_lines
from tests.support.wire import WireCase, event_id, lines


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    app = Ledger(store_url)
    yield app
    app.close()


def refused(
    ledger: Ledger, events: list[dict[str, object]]
) -> list[tuple[int | None, str, str | None]]:
    with pytest.raises(BatchRefused) as caught:
        ledger.append_lines(lines(events))
    return [(e.line, e.code, e.field) for e in caught.value.errors]


def test_a_batch_is_stored_in_order_with_versions_and_chained_hashes(ledger: Ledger) -> None:
    case = WireCase("P-A")
    result = ledger.append_lines(lines([case.opened(), case.offer("O-1"), case.absence("O-1")]))

    assert (result.appended, result.duplicates, result.position) == (3, 0, 3)
    assert [r.position for r in result.results] == [1, 2, 3]
    stored = ledger.case_events("P-A")
    assert [s.version for s in stored] == [1, 2, 3]
    assert stored[0].prev_hash == "0" * 64
    assert stored[1].prev_hash == stored[0].hash
    assert stored[2].prev_hash == stored[1].hash
    assert ledger.verify().ok


def test_resending_a_batch_stores_nothing_and_reports_duplicates(ledger: Ledger) -> None:
    case = WireCase("P-A")
    batch = [case.opened(), case.offer("O-1")]
    first = ledger.append_lines(lines(batch))
    again = ledger.append_lines(lines(batch))

    assert (again.appended, again.duplicates) == (0, 2)
    assert [r.status for r in again.results] == ["duplicate", "duplicate"]
    assert [r.position for r in again.results] == [r.position for r in first.results]
    assert again.position == first.position
    assert len(ledger.case_events("P-A")) == 2


def test_a_duplicate_inside_one_batch_is_stored_once(ledger: Ledger) -> None:
    case = WireCase("P-A")
    opened = case.opened()
    result = ledger.append_lines(lines([opened, opened]))

    assert (result.appended, result.duplicates) == (1, 1)
    assert result.results[0].position == result.results[1].position


def test_the_same_event_id_with_other_content_is_a_duplicate_conflict(ledger: Ledger) -> None:
    case = WireCase("P-A")
    opened = case.opened()
    ledger.append_lines(lines([opened]))
    changed = {**opened, "residence_basis": "UDL § 9"}

    assert refused(ledger, [changed]) == [(1, "duplicate_conflict", "event_id")]


def test_the_same_event_id_for_another_person_is_a_duplicate_conflict(ledger: Ledger) -> None:
    first, second = WireCase("P-A"), WireCase("P-B")
    opened = first.opened()
    ledger.append_lines(lines([opened]))
    stolen = second.opened(event_id=opened["event_id"])

    assert refused(ledger, [stolen]) == [(1, "duplicate_conflict", "event_id")]


def test_a_refused_event_refuses_the_whole_batch_and_nothing_is_stored(ledger: Ledger) -> None:
    good, other = WireCase("P-A"), WireCase("P-B")
    batch = [good.opened(), good.offer("O-1"), other.absence("O-9")]

    assert refused(ledger, batch) == [(3, "case_not_open", None)]
    assert ledger.head_position() == 0
    with pytest.raises(UnknownPerson):
        ledger.case_events("P-A")
    assert ledger.store.select_index([stream_id("x")]) == {}
    assert ledger.store.count_index() == 0


def test_every_refused_event_of_a_batch_is_listed_with_its_line(ledger: Ledger) -> None:
    case = WireCase("P-A")
    batch = [
        case.opened(),
        case.absence("O-404"),
        case.event("DanishTestPassed", test="pd9"),
        case.event("FollowUpHeld", mode="phone", goals_met=False, municipality="147"),
    ]
    assert refused(ledger, batch) == [
        (2, "unknown_offer", "offer_id"),
        (3, "invalid_field", "test"),
        (4, "not_responsible", "municipality"),
    ]


def test_events_later_in_a_batch_may_reference_earlier_ones(ledger: Ledger) -> None:
    case = WireCase("P-A")
    absence = case.absence("O-1")
    batch = [
        case.opened(),
        case.offer("O-1"),
        absence,
        case.event(
            "SanctionImposed", sanction_id="S-1", kind="deduction", grounds=[absence["event_id"]]
        ),
        case.event("SanctionOverturned", sanction_id="S-1", by="ankestyrelsen"),
    ]
    assert ledger.append_lines(lines(batch)).appended == 5


def test_a_batch_may_hold_events_of_many_persons(ledger: Ledger) -> None:
    cases = [WireCase(f"P-{n}", municipality) for n, municipality in enumerate(["101", "751"])]
    batch = [c.opened() for c in cases] + [c.offer("O-1") for c in cases]
    result = ledger.append_lines(lines(batch))

    assert result.appended == 4
    assert [s.version for s in ledger.case_events("P-0")] == [1, 2]
    assert [s.version for s in ledger.case_events("P-1")] == [1, 2]


def test_personal_data_is_stored_only_encrypted(ledger: Ledger) -> None:
    case = WireCase("P-A")
    personal = {"cpr": "010190-1234", "name": "Amina Testesen", "birth_date": "1990-01-01"}
    ledger.append_lines(lines([case.opened(personal=personal)]))

    raw = ledger.store.select_stream(stream_id("P-A"))[0].state
    assert b"010190" not in raw
    assert b"Amina" not in raw
    opened = ledger.case_events("P-A")[0].event
    assert opened.personal is not None
    assert opened.personal.cpr == "010190-1234"


def test_a_line_is_stored_as_its_canonical_json_however_it_was_written(ledger: Ledger) -> None:
    case = WireCase("P-A")
    events = [case.opened(personal={"cpr": "010190-1234"}), case.offer("O-1")]
    # Keys in reverse order, spaced, every character outside ASCII escaped.
    written = [json.dumps(dict(reversed(e.items())), separators=(" , ", " : ")) for e in events]
    ledger.append_lines(ndjson_lines("\n".join(written).encode()))

    oid = stream_id("P-A")
    rows = ledger.store.select_stream(oid)
    stored = [
        ledger.ledger_mapper.record(oid, r.originator_version, r.topic, r.state) for r in rows
    ]
    kept = ledger.case_events("P-A", open_personal=False)
    assert [r.event_json for r in stored] == [encode_event(s.event) for s in kept]
    assert not {r.event_json.decode() for r in stored} & set(written)
    assert b"personal" not in stored[0].event_json
    assert stored[0].sealed is not None
    assert ledger.verify().ok


def test_resending_an_event_with_personal_data_is_a_duplicate(ledger: Ledger) -> None:
    case = WireCase("P-A")
    opened = case.opened(personal={"cpr": "010190-1234"})
    ledger.append_lines(lines([opened]))

    assert ledger.append_lines(lines([opened])).duplicates == 1
    other = {**opened, "personal": {"cpr": "020290-1234"}}
    assert refused(ledger, [other]) == [(1, "duplicate_conflict", "event_id")]


def test_forgetting_a_person_erases_personal_data_but_keeps_every_chain(ledger: Ledger) -> None:
    case = WireCase("P-A")
    ledger.append_lines(lines([case.opened(personal={"name": "Amina"}), case.offer("O-1")]))
    hashes = [s.hash for s in ledger.case_events("P-A")]

    assert ledger.forget("P-A").key_destroyed
    after = ledger.case_events("P-A")
    assert after[0].personal_erased
    assert after[0].event.personal is None
    assert [s.hash for s in after] == hashes
    assert ledger.verify().ok
    assert not ledger.forget("P-A").key_destroyed


def test_a_new_ledger_on_the_same_store_sees_what_another_stored(store_url: str) -> None:
    case = WireCase("P-A")
    with Ledger(store_url) as first:
        first.append_lines(lines([case.opened()]))
    with Ledger(store_url) as second:
        result = second.append_lines(lines([case.offer("O-1")]))
        assert [r.position for r in result.results] == [2]
        assert second.case_events("P-A")[1].event.event_id.hex == event_id("P-A/2").replace("-", "")
