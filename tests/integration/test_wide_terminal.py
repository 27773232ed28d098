"""Ids are never cut at the terminal: in a narrow one a long id folds within its cell, and
``--wide`` prints every line as long as its content so ids stay on one line to copy; the sample
cases in a real SQLite store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from cli.main import cli
from cli.output import console
from ledger.application import Ledger
from ledger.wire import ndjson_lines
from tests.support.paths import SAMPLE_CASES


@pytest.fixture
def filled(db_path: str) -> str:
    with Ledger(db_path) as ledger:
        ledger.append_lines(ndjson_lines(SAMPLE_CASES.read_bytes()))
    return db_path


@pytest.fixture
def narrow() -> Iterator[int]:
    width = console.width
    console.width = 60
    try:
        yield 60
    finally:
        console.width = width


def test_wide_keeps_every_token_id_on_one_line_and_the_terminal_width_after(
    filled: str, narrow: int
) -> None:
    made = CliRunner().invoke(
        cli, ["--db", filled, "token", "create", "--role", "investigator", "--json"]
    )
    token = json.loads(made.output)["token"]["id"]

    listed = CliRunner().invoke(cli, ["--db", filled, "--wide", "token", "list"])

    assert listed.exit_code == 0, listed.output
    assert re.search(rf"│ {token}\s+│", listed.output)
    assert max(len(line) for line in listed.output.splitlines()) > narrow
    assert console.width == narrow


def test_wide_keeps_sanction_ids_and_dates_of_the_worklist_whole_on_their_line(
    filled: str, narrow: int
) -> None:
    sanctions = CliRunner().invoke(cli, ["--db", filled, "--wide", "sanctions", "P-KBH-0002"])
    worklist = CliRunner().invoke(
        cli, ["--db", filled, "--wide", "deadlines", "--municipality", "101", "--on", "2025-06-01"]
    )

    assert sanctions.exit_code == worklist.exit_code == 0, sanctions.output + worklist.output
    assert re.search(r"│ KBH-0002-S1\s+│ fradrag\s+│ AKL § 36\s+│", sanctions.output)
    rows = [line for line in worklist.output.splitlines() if line.startswith("│ P-")]
    assert rows
    assert all(re.match(r"│ P-[A-Z]+-\d{4}\s+│", row) for row in rows)
