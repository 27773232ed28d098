"""Security review, as tests, against real stores: hostile references and text are refused or
stored verbatim and harmless, no personal data or password reaches a log or an error, and
over-sized amounts and lines are refused. The SQL scan and the catalogue's bounds are in
``tests/unit/test_security_scan.py``; the server's roles and log in
``tests/e2e/test_security_http.py``."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import Ledger
from ledger.errors import BatchRefused
from ledger.wire import MAX_LINE_BYTES, Line
from tests.support.wire import WireCase, lines

HOSTILE = [
    "'; DROP TABLE stored_events; --",
    "Robert'); DROP TABLE ledger_event_ids;--",
    '{"$gt": ""}',
    "1 OR 1=1",
    "<script>alert(1)</script>",
    "\\x00' UNION SELECT key FROM ledger_person_keys --",
]


# --- hostile references and text -----------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_person_reference_is_refused_and_harms_nothing(
    store_url: str, hostile: str
) -> None:
    with Ledger(store_url) as ledger:
        ledger.append_lines(lines([WireCase("P-OK").opened()]))
        with pytest.raises(BatchRefused) as refused:
            ledger.append_lines(lines([WireCase(hostile).opened()]))
        report = ledger.verify()
        stored = ledger.case_events("P-OK")

    assert [(e.code, e.field) for e in refused.value.errors] == [("invalid_field", "person")]
    assert report.ok
    assert report.checked == len(stored) == 1


@pytest.mark.parametrize("field", ["event_id", "municipality", "occurred_on"])
def test_hostile_ids_are_refused(db_path: str, field: str) -> None:
    event = WireCase("P-OK").opened()
    event[field] = HOSTILE[0]
    with Ledger(db_path) as ledger, pytest.raises(BatchRefused) as refused:
        ledger.append_lines(lines([event]))
    assert [e.field for e in refused.value.errors] == [field]


def test_hostile_free_text_is_stored_verbatim_and_harms_nothing(store_url: str) -> None:
    case = WireCase("P-TEXT")
    opened = case.opened(residence_basis=" ".join(HOSTILE), recorded_by=HOSTILE[0])
    offer = case.offer("O-1")
    retraction = case.event("EventRetracted", retracts=offer["event_id"], reason=HOSTILE[1])
    with Ledger(store_url) as ledger:
        ledger.append_lines(lines([opened, offer, retraction]))
        stored = ledger.case_events("P-TEXT")
        report = ledger.verify()
        again = ledger.append_lines(lines([opened, offer, retraction]))

    assert stored[0].event.residence_basis == " ".join(HOSTILE)  # type: ignore[union-attr]
    assert stored[0].event.recorded_by == HOSTILE[0]
    assert stored[2].event.reason == HOSTILE[1]  # type: ignore[union-attr]
    assert report.ok
    assert report.checked == 3
    assert again.duplicates == 3


# --- no secret in any log ------------------------------------------------------------------------

NAME, CPR = "Amina Hansen", "010190-1234"


def test_no_personal_data_reaches_a_log_or_an_error(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    case = WireCase("P-LOG")
    opened = case.opened(personal={"name": NAME, "cpr": CPR})
    changed = {**opened, "personal": {"name": NAME, "cpr": "020290-4321"}}
    cpr_as_person = WireCase(CPR).opened()
    with Ledger(store_url) as ledger:
        ledger.append_lines(lines([opened]))
        with pytest.raises(BatchRefused) as refused:
            ledger.append_lines(lines([changed, cpr_as_person]))
        ledger.case_events("P-LOG")
        ledger.forget("P-LOG")
    cli_refusal = CliRunner().invoke(
        cli, ["--db", store_url, "append", "-"], input=json.dumps(cpr_as_person)
    )

    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text}" for r in caplog.records)
    told = " ".join(e.message for e in refused.value.errors) + cli_refusal.output
    for secret in (NAME, CPR, "020290-4321"):
        assert secret not in logged
        assert secret not in told


def test_the_database_password_is_never_shown_nor_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # eventsourcing reads LEDGER_-prefixed settings first: give up on the closed port sooner.
    monkeypatch.setenv("LEDGER_POSTGRES_CONNECT_TIMEOUT", "1")
    url = "postgresql://ledger:s3cret-pw@127.0.0.1:1/nowhere"

    result = CliRunner().invoke(cli, ["--db", url, "verify", "--json"])

    assert result.exit_code == 1
    assert "127.0.0.1:1/nowhere" in result.output
    assert "s3cret-pw" not in result.output
    assert "s3cret-pw" not in caplog.text


# --- every input has a size limit ----------------------------------------------------------------


@pytest.mark.parametrize("amount", ["1e30", "10000000.01", "NaN", "Infinity"])
def test_amounts_have_a_bound(db_path: str, amount: str) -> None:
    case = WireCase("P-AMOUNT")
    benefit = case.event("BenefitGranted", benefit="integrationsydelse", monthly_amount_dkk=amount)
    with Ledger(db_path) as ledger, pytest.raises(BatchRefused) as refused:
        ledger.append_lines(lines([case.opened(), benefit]))
    assert [(e.line, e.field) for e in refused.value.errors] == [(2, "monthly_amount_dkk")]


def test_a_line_longer_than_the_limit_is_refused_unread(db_path: str) -> None:
    line = b'{"type": "' + b"x" * MAX_LINE_BYTES + b'"}'
    with Ledger(db_path) as ledger, pytest.raises(BatchRefused) as refused:
        ledger.append_lines([Line(1, line)])
    [error] = refused.value.errors
    assert (error.code, error.event_id) == ("invalid_json", None)
    assert str(MAX_LINE_BYTES) in error.message
