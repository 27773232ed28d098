"""The per-case limit on stored events: a case holds at most LEDGER_MAX_CASE_EVENTS events (by
default 10,000); an event past it is refused as `case_too_long`, naming the limit, and nothing of
its batch is stored (both stores, the command line and HTTP)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import Ledger
from ledger.case import STATE_WEIGHT
from ledger.config import DEFAULT_MAX_CASE_EVENTS
from ledger.errors import BatchRefused, StoreError, UnknownPerson
from tests.support.server import NDJSON, Server, token
from tests.support.wire import WireCase, lines, ndjson

LIMIT = {"LEDGER_MAX_CASE_EVENTS": "3"}


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    app = Ledger(store_url, LIMIT)
    yield app
    app.close()


def full_case(person: str) -> tuple[WireCase, list[dict[str, object]]]:
    case = WireCase(person)
    return case, [case.opened(), case.offer("O-1"), case.offer("O-2")]


def test_the_limit_is_ten_thousand_events_unless_configured(db_path: str) -> None:
    with Ledger(db_path) as default, Ledger(db_path, LIMIT) as configured:
        assert (default.max_case_events, configured.max_case_events) == (10_000, 3)
    assert DEFAULT_MAX_CASE_EVENTS == 10_000


@pytest.mark.parametrize("value", ["0", "-5", "many", "2.5"])
def test_a_limit_that_is_no_positive_whole_number_is_refused_naming_the_setting(
    db_path: str, value: str
) -> None:
    with pytest.raises(StoreError) as caught:
        Ledger(db_path, {"LEDGER_MAX_CASE_EVENTS": value})

    assert caught.value.field == "LEDGER_MAX_CASE_EVENTS"
    assert value in caught.value.message


def test_an_event_past_the_limit_is_refused_and_nothing_of_its_batch_is_stored(
    ledger: Ledger,
) -> None:
    case, events = full_case("P-FULL")
    ledger.append_lines(lines(events))
    other = WireCase("P-OTHER")

    with pytest.raises(BatchRefused) as caught:
        ledger.append_lines(lines([other.opened(), case.offer("O-3")]))

    [error] = caught.value.errors
    assert (error.line, error.code, error.field) == (2, "case_too_long", "person")
    assert "3 events" in error.message
    assert "LEDGER_MAX_CASE_EVENTS=3" in error.message
    assert len(ledger.case_events("P-FULL")) == 3
    with pytest.raises(UnknownPerson):
        ledger.case_events("P-OTHER")


def test_a_batch_that_would_carry_a_new_case_past_the_limit_is_refused_whole(
    ledger: Ledger,
) -> None:
    case, events = full_case("P-LONG")

    with pytest.raises(BatchRefused) as caught:
        ledger.append_lines(lines([*events, case.offer("O-3"), case.offer("O-4")]))

    assert [(e.line, e.code) for e in caught.value.errors] == [
        (4, "case_too_long"),
        (5, "case_too_long"),
    ]
    with pytest.raises(UnknownPerson):
        ledger.case_events("P-LONG")


def test_a_full_case_still_answers_resent_events_as_duplicates(ledger: Ledger) -> None:
    _, events = full_case("P-RESENT")
    ledger.append_lines(lines(events))

    again = ledger.append_lines(lines(events))

    assert (again.appended, again.duplicates) == (0, 3)


def test_the_command_line_refuses_an_event_past_the_limit_with_exit_code_1(
    db_path: str, tmp_path: Path
) -> None:
    case, events = full_case("P-CLI-FULL")
    batch = tmp_path / "batch.ndjson"
    batch.write_bytes(ndjson([*events, case.offer("O-3")]))

    result = CliRunner().invoke(cli, ["--db", db_path, "append", "--json", str(batch)], env=LIMIT)

    assert result.exit_code == 1
    [error] = json.loads(result.output)["errors"]
    assert (error["line"], error["code"], error["field"]) == (4, "case_too_long", "person")


def test_http_refuses_an_event_past_the_limit_with_422(
    db_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_MAX_CASE_EVENTS", "3")
    case, events = full_case("P-HTTP-FULL")
    secret = token(db_path, "municipality", case.municipality)
    with Server(db_path, tmp_path / "server.log") as server, server.client(secret) as client:
        stored = client.post("/v1/events", content=ndjson(events), headers=NDJSON)
        refused = client.post("/v1/events", content=ndjson([case.offer("O-3")]), headers=NDJSON)

    assert stored.status_code == 200, stored.text
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert (error["line"], error["code"], error["field"]) == (1, "case_too_long", "person")


def test_a_case_whose_kept_state_was_forgotten_is_still_checked_on_its_whole_history(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Room for two cases' states (each holds a period and an offer): appends to a third
    # forget the first, whose next append must be decided on its stored history, folded again.
    monkeypatch.setattr("ledger.application.KEPT_STATE_ENTRIES", 2 * (STATE_WEIGHT + 2))
    with Ledger(store_url) as app:
        first, second, third = WireCase("P-KEPT-1"), WireCase("P-KEPT-2"), WireCase("P-KEPT-3")
        for case in (first, second, third):
            app.append_lines(lines([case.opened(), case.offer("O-1")]))

        with pytest.raises(BatchRefused) as caught:
            app.append_lines(lines([first.opened()]))  # a new event id: no duplicate
        accepted = app.append_lines(lines([first.offer("O-2")]))

        assert caught.value.errors[0].code == "case_already_open"
        assert accepted.appended == 1
        assert len(app.case_events("P-KEPT-1")) == 3
