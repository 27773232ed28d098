"""The command line as INTERFACE.md promises it: output, exit codes, help."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import Ledger
from tests.wire import WireCase, ndjson

README = Path(__file__).parent.parent / "README.md"


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
    result = runner.invoke(cli, ["--db", db_path, "append", "-"], input=b'{"type":"Nope"}\n')
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


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


@pytest.mark.parametrize(("name", "command"), _commands(cli))
def test_every_command_has_help_and_is_documented(
    runner: CliRunner, name: str, command: click.Command
) -> None:
    result = runner.invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert (command.help or "").strip()
    assert f"ledger {name}" in README.read_text()
