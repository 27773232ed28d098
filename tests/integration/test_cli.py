"""The command line as INTERFACE.md promises it: output and exit codes, on real stores (its help
is checked in ``tests/unit/test_cli_help.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from cli.output import console
from ledger.application import Ledger
from ledger.stores.views import PAGE
from projections.views import Views
from tests.support.paths import SAMPLE_CASES
from tests.support.wire import CorrectionAfterMove, WireCase, correction_after_move, ndjson


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def batch_file(tmp_path: Path) -> Path:
    case = WireCase("P-CLI")
    path = tmp_path / "batch.ndjson"
    path.write_bytes(ndjson([case.opened(personal={"name": "Amina"}), case.offer("O-1")]))
    return path


def test_append_prints_counts_and_position_as_json(
    runner: CliRunner, db_path: str, batch_file: Path
) -> None:
    first = runner.invoke(cli, ["--db", db_path, "append", "--json", str(batch_file)])
    again = runner.invoke(cli, ["--db", db_path, "append", "--json", str(batch_file)])

    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"appended": 2, "duplicates": 0, "position": 2}
    assert json.loads(again.output) == {"appended": 0, "duplicates": 2, "position": 2}


def test_append_reads_stdin_and_the_ledger_db_environment(
    runner: CliRunner, db_path: str, batch_file: Path
) -> None:
    result = runner.invoke(
        cli, ["append", "--json", "-"], input=batch_file.read_bytes(), env={"LEDGER_DB": db_path}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["appended"] == 2


def test_a_refused_batch_prints_every_error_and_exits_1(runner: CliRunner, db_path: str) -> None:
    body = b'{"type":"Nope"}\n\nnot json\n'
    result = runner.invoke(cli, ["--db", db_path, "append", "--json", "-"], input=body)

    assert result.exit_code == 1
    errors = json.loads(result.output)["errors"]
    assert [(e["line"], e["code"], e["field"]) for e in errors] == [
        (1, "unknown_type", "type"),
        (3, "invalid_json", None),
    ]
    assert set(errors[0]) == {"line", "event_id", "code", "field", "message"}


def test_a_refused_batch_is_shown_to_people_as_a_table(runner: CliRunner, db_path: str) -> None:
    result = runner.invoke(
        cli, ["--db", db_path, "--lang", "en", "append", "-"], input=b'{"type":"Nope"}\n'
    )
    assert result.exit_code == 1
    assert "unknown_type" in result.output
    assert "nothing was stored" in result.output


def test_events_prints_ndjson_with_what_the_ledger_added(
    runner: CliRunner, db_path: str, batch_file: Path
) -> None:
    runner.invoke(cli, ["--db", db_path, "append", str(batch_file)])
    result = runner.invoke(cli, ["--db", db_path, "events", "P-CLI"])

    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["type"] for r in rows] == ["ResponsibilityAssumed", "OfferMade"]
    assert [r["position"] for r in rows] == [1, 2]
    assert [r["version"] for r in rows] == [1, 2]
    assert all(len(r["hash"]) == 64 and r["recorded_at"].endswith("+00:00") for r in rows)
    assert rows[0]["personal"] == {"name": "Amina"}


def test_events_after_forgetting_shows_personal_data_erased(
    runner: CliRunner, db_path: str, batch_file: Path
) -> None:
    runner.invoke(cli, ["--db", db_path, "append", str(batch_file)])
    with Ledger(db_path) as ledger:
        ledger.forget("P-CLI")
    rows = [
        json.loads(line)
        for line in runner.invoke(cli, ["--db", db_path, "events", "P-CLI"]).output.splitlines()
    ]
    assert rows[0]["personal"] is None
    assert rows[0]["personal_erased"] is True


def test_an_unknown_person_exits_4(runner: CliRunner, db_path: str) -> None:
    result = runner.invoke(cli, ["--db", db_path, "events", "P-NOBODY"])
    assert result.exit_code == 4
    assert "P-NOBODY" in result.output


def test_usage_errors_exit_2(runner: CliRunner, db_path: str) -> None:
    assert runner.invoke(cli, ["--db", db_path, "append"]).exit_code == 2
    assert runner.invoke(cli, ["--db", db_path, "append", "/no/such/file"]).exit_code == 2


def test_a_store_that_cannot_be_opened_is_an_error_not_a_traceback(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["--db", str(tmp_path / "missing" / "x.db"), "verify"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "store_error" in result.output


# --- the second edition's append-time law, through the command line (both stores) -------------


def append_file(runner: CliRunner, db: str, path: Path, events: list[dict[str, Any]]) -> Result:
    path.write_bytes(ndjson(events))
    return runner.invoke(cli, ["--db", db, "append", "--json", str(path)])


def refused_through_the_cli(
    runner: CliRunner, store_url: str, tmp_path: Path, event: dict[str, Any]
) -> list[tuple[str, str | None]]:
    result = append_file(runner, store_url, tmp_path / "refused.ndjson", [event])
    assert result.exit_code == 1, result.output
    return [(e["code"], e["field"]) for e in json.loads(result.output)["errors"]]


@pytest.fixture
def moved_case(runner: CliRunner, store_url: str, tmp_path: Path) -> CorrectionAfterMove:
    found = correction_after_move("P-CLI-MOVED")
    setup = append_file(runner, store_url, tmp_path / "setup.ndjson", found.hvidovre + found.odense)
    assert setup.exit_code == 0, setup.output
    return found


def test_the_cli_refuses_a_record_backdated_to_before_the_municipality_was_responsible(
    runner: CliRunner, store_url: str, tmp_path: Path, moved_case: CorrectionAfterMove
) -> None:
    """Responsibility in valid time (INL § 4, § 18; DOMAIN.md: "an event's `occurred_on` must
    fall in a period in which its municipality was responsible"): Odense, responsible from the
    move on 2025-07-01, cannot record a contact attempt dated 2025-06-20."""
    refused = refused_through_the_cli(runner, store_url, tmp_path, moved_case.backdated)
    assert refused == [("not_responsible", "municipality")]


def test_the_cli_refuses_a_later_municipality_retracting_an_earlier_ones_sanction(
    runner: CliRunner, store_url: str, tmp_path: Path, moved_case: CorrectionAfterMove
) -> None:
    """Corrections by the recorder (INL § 19 stk. 8, bill remark: "en komplet historik";
    DOMAIN.md: "only the municipality that recorded an event may retract it")."""
    refused = refused_through_the_cli(runner, store_url, tmp_path, moved_case.foreign_retraction)
    assert refused == [("not_responsible", "municipality")]


def test_the_cli_lets_the_leaving_municipality_retract_its_own_record_after_the_move(
    runner: CliRunner, store_url: str, tmp_path: Path, moved_case: CorrectionAfterMove
) -> None:
    """Corrections by the recorder (DOMAIN.md: "only the municipality that recorded an event
    may retract it (even after the person moved away)")."""
    path = tmp_path / "own.ndjson"
    result = append_file(runner, store_url, path, [moved_case.own_retraction])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["appended"] == 1


def test_a_rule_violation_is_refused_input_and_exits_1(
    runner: CliRunner, store_url: str, tmp_path: Path, moved_case: CorrectionAfterMove
) -> None:
    """Mandatory takeover (INL § 18 stk. 2: "Tilflytningskommunen skal overtage
    integrationsprogrammet, hvis flytningen er af væsentlig betydning ..."): code
    `rule_violation`, the message naming the paragraph."""
    case = moved_case.case
    onwards = case.moved("751", on="2025-08-01")
    refused = case.event("TakeoverDecided", "2025-08-05", approved=False, ground="mandatory")
    result = append_file(runner, store_url, tmp_path / "takeover.ndjson", [onwards, refused])
    assert result.exit_code == 1
    (error,) = json.loads(result.output)["errors"]
    assert (error["line"], error["code"], error["field"]) == (2, "rule_violation", "approved")
    assert "INL § 18 stk. 2" in error["message"]


def test_reports_for_people_name_the_rule_pack_and_its_revision(
    runner: CliRunner, db_path: str
) -> None:
    fixtures = SAMPLE_CASES
    runner.invoke(cli, ["--db", db_path, "append", str(fixtures)])

    latest = runner.invoke(cli, ["--db", db_path, "status", "P-KBH-0002"])
    first = runner.invoke(cli, ["--db", db_path, "status", "P-KBH-0002", "--rule-revision", "1"])

    assert latest.exit_code == first.exit_code == 0, latest.output + first.output
    assert "regelsæt akl-2015/inl-2014 revision 2" in " ".join(latest.output.split())
    assert "regelsæt akl-2015/inl-2014 revision 1" in " ".join(first.output.split())
    english = runner.invoke(cli, ["--db", db_path, "--lang", "en", "status", "P-KBH-0002"])
    assert "rule pack akl-2015/inl-2014 revision 2" in " ".join(english.output.split())


def test_a_table_of_sanctions_the_law_supports_has_no_column_for_what_it_does_not(
    runner: CliRunner, db_path: str
) -> None:
    """The column for what the law does not support is shown only when a sanction lacks
    something, so sound sanctions keep an 80-column terminal's room for ids and dates."""
    runner.invoke(cli, ["--db", db_path, "append", str(SAMPLE_CASES)])

    sound = runner.invoke(cli, ["--db", db_path, "sanctions", "P-KBH-0002"])
    flagged = runner.invoke(cli, ["--db", db_path, "sanctions", "P-KBH-0004"])

    assert sound.exit_code == flagged.exit_code == 0, sound.output + flagged.output
    assert "KBH-0002-S1" in "".join(sound.output.split())
    assert "støttet" not in sound.output
    assert "støttet" in flagged.output


def test_the_sanctions_table_says_what_the_law_does_not_support(
    runner: CliRunner, db_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AKL § 40 a stk. 1: a suspension only of help under §§ 22, 23 and 25; the table shows
    what the view's ``unsupported`` lists, in Danish first."""
    fixtures = SAMPLE_CASES
    runner.invoke(cli, ["--db", db_path, "append", str(fixtures)])
    monkeypatch.setattr(console, "width", 220)  # no cell wraps

    danish = runner.invoke(cli, ["--db", db_path, "sanctions", "P-KBH-0004"])
    english = runner.invoke(cli, ["--lang", "en", "--db", db_path, "sanctions", "P-KBH-0004"])

    assert danish.exit_code == english.exit_code == 0, danish.output + english.output
    assert "ikke støttet af loven" in danish.output
    assert "hjælp ikke efter AKL §§ 22, 23, 25" in danish.output
    assert "help not under AKL §§ 22, 23, 25" in english.output


def test_after_an_import_the_views_lag_and_every_read_answers_with_the_imported_events(
    runner: CliRunner, store_url: str, tmp_path: Path
) -> None:
    """`ledger append` of more than a page of events leaves the views behind (they are not
    even loaded); the next command's reads fold the events, so they answer with them."""
    cases = [WireCase(f"P-CLI-IMPORT-{n}") for n in range(PAGE // 2 + 1)]
    last = cases[-1]
    events = [e for case in cases for e in (case.opened(), case.offer("O-1"))]
    events.append(last.absence("O-1", on="2024-02-05"))
    imported = append_file(runner, store_url, tmp_path / "import.ndjson", events)
    with Ledger(store_url) as ledger:
        lagging = Views(ledger).position() < ledger.head_position()

    status = runner.invoke(cli, ["--db", store_url, "status", "--json", last.person])
    sanctions = runner.invoke(cli, ["--db", store_url, "sanctions", "--json", last.person])
    history = runner.invoke(cli, ["--db", store_url, "history", "--json", last.person])

    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["appended"] == len(events) > PAGE
    assert lagging
    assert status.exit_code == sanctions.exit_code == history.exit_code == 0, status.output
    assert json.loads(status.output)["position"] == len(events)
    assert json.loads(sanctions.output)["position"] == len(events)
    assert len(json.loads(history.output)["entries"]) == 3
