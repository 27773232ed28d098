"""Danish first on the command line: it speaks Danish unless asked for English (``--lang en``),
with labels, ja/nej and dashes instead of Python values, and ids never cut; the sample cases
in a real SQLite store."""

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
def wide() -> Iterator[None]:
    """A terminal wide enough that no cell wraps (the narrow one is tested on its own)."""
    width = console.width
    console.width = 220
    try:
        yield
    finally:
        console.width = width


@pytest.fixture
def filled(db_path: str) -> str:
    with Ledger(db_path) as ledger:
        ledger.append_lines(ndjson_lines(SAMPLE_CASES.read_bytes()))
    return db_path


def test_the_status_table_says_ja_and_nej_never_python_values(filled: str, wide: None) -> None:
    shown = CliRunner().invoke(cli, ["--db", filled, "status", "P-KBH-0002"])
    assert shown.exit_code == 0, shown.output
    for python in ("True", "False", "None", "absence_days_excused", "next_due_on"):
        assert python not in shown.output
    assert "frist overholdt: ja" in shown.output
    assert "overskredet nej" in shown.output
    assert "fraværsdage med lovlig grund 0" in shown.output
    assert "Statusrapport til Udlændingestyrelsen" in shown.output
    assert "2. september 2024" in shown.output


def test_the_status_table_is_english_with_lang_en(filled: str, wide: None) -> None:
    shown = CliRunner().invoke(cli, ["--db", filled, "--lang", "en", "status", "P-KBH-0002"])
    assert shown.exit_code == 0, shown.output
    assert "deadline met: yes" in shown.output
    assert "days of absence, excused 0" in shown.output
    assert "2 September 2024" in shown.output
    assert "True" not in shown.output


def test_json_output_is_never_translated(filled: str) -> None:
    danish = CliRunner().invoke(cli, ["--db", filled, "status", "P-KBH-0002", "--json"])
    english = CliRunner().invoke(
        cli, ["--db", filled, "--lang", "en", "status", "P-KBH-0002", "--json"]
    )
    first, second = json.loads(danish.output), json.loads(english.output)
    assert first["participation"]["absence_days_excused"] == 0
    assert first.keys() == second.keys()
    assert first["digest"] == second["digest"]


def test_sanctions_show_danish_amounts_labels_and_paragraphs(filled: str, wide: None) -> None:
    shown = CliRunner().invoke(cli, ["--db", filled, "sanctions", "P-KBH-0002"])
    assert shown.exit_code == 0, shown.output
    assert "1.251,68\N{NO-BREAK SPACE}kr." in shown.output
    assert "fradrag" in shown.output
    assert "AKL § 36" in shown.output
    assert "deduction" not in shown.output


def test_the_replay_labels_its_state_in_danish(filled: str, wide: None) -> None:
    shown = CliRunner().invoke(cli, ["--db", filled, "replay", "P-KBH-0001", "--explain"])
    assert shown.exit_code == 0, shown.output
    assert "sag åben ja" in shown.output
    assert "case_open" not in shown.output


def test_ids_are_never_cut_in_a_narrow_terminal(filled: str) -> None:
    made = CliRunner().invoke(
        cli, ["--db", filled, "token", "create", "--role", "investigator", "--json"]
    )
    token = json.loads(made.output)["token"]["id"]
    width = console.width
    console.width = 60
    try:
        listed = CliRunner().invoke(cli, ["--db", filled, "token", "list"])
    finally:
        console.width = width
    assert listed.exit_code == 0, listed.output
    assert "…" not in listed.output
    # A folded id continues in the same column on the next line.
    folded = r"│\s*(tok_[A-Za-z0-9]*)\s*│\s*(?:\S.*)?\n│\s*([A-Za-z0-9]*)\s*│"
    cells = re.findall(folded, listed.output)
    whole = {"".join(cell) for cell in cells}
    whole |= set(re.findall(r"tok_[A-Za-z0-9]{8,}", listed.output))
    assert token in whole


def test_token_create_tells_how_to_use_the_token(filled: str) -> None:
    made = CliRunner().invoke(cli, ["--db", filled, "token", "create", "--role", "investigator"])
    assert made.exit_code == 0, made.output
    secret = re.search(r"Bearer (\S+)\"", made.output)
    assert secret is not None
    assert "Authorization" in made.output
    assert "log ind" in made.output
    assert "ledger token revoke tok_" in made.output
    english = CliRunner().invoke(
        cli, ["--db", filled, "--lang", "en", "token", "create", "--role", "admin"]
    )
    assert "How to use it:" in english.output
    assert "sign in" not in english.output  # an administrator token has no pages


def test_an_error_is_told_in_danish_with_its_stable_code(filled: str) -> None:
    refused = CliRunner().invoke(cli, ["--db", filled, "status", "P-NOBODY"])
    assert refused.exit_code == 4
    assert "fejl unknown_person" in refused.output
