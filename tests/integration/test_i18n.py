"""Danish first: every people-facing text has a Danish translation in the catalogue, formats
are Babel's, and the command line speaks Danish unless asked for English (``--lang en``),
with labels, ja/nej and dashes instead of Python values, and ids never cut."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from click.testing import CliRunner

from cli.main import cli
from cli.output import console
from ledger.application import Ledger
from ledger.i18n import DASH, LOCALE_DIR, Words, language_of
from ledger.wire import ndjson_lines
from tests.support.paths import ROOT, SAMPLE_CASES

# Where people-facing texts are written, and the gettext keywords that mark them.
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {
    "_": None,
    "N_": None,
    "words": None,
    "gettext": None,
    "ngettext": (1, 2),
    "plural": (1, 2),
}


def marked_texts() -> set[str]:
    found: set[str] = set()
    for package in ("ledger", "api", "cli"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / package), METHODS, OPTIONS, keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_marked_text_has_a_danish_translation() -> None:
    with (LOCALE_DIR / "da" / "LC_MESSAGES" / "ledger.po").open("rb") as source:
        catalogue = read_po(source)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and (m.string if isinstance(m.string, str) else all(m.string))
    }
    texts = marked_texts()
    assert len(texts) > 300
    assert texts - translated == set()
    assert {m.id for m in catalogue if m.fuzzy and m.id} == set()


def test_amounts_and_dates_are_written_as_danish_readers_write_them() -> None:
    danish, english = Words("da"), Words("en")
    assert danish.amount(Decimal("1251.68")) == "1.251,68\N{NO-BREAK SPACE}kr."
    assert danish.date(date(2024, 3, 5)) == "5. marts 2024"
    assert danish.date("2024-03-05") == "5. marts 2024"
    assert danish.number(12345) == "12.345"
    assert (danish.yes_no(True), danish.yes_no(False), danish.yes_no(None)) == ("ja", "nej", DASH)
    assert english.date(date(2024, 3, 5)) == "5 March 2024"
    assert english.yes_no(True) == "yes"
    assert danish.moment("2024-03-05T10:03:00+00:00") == "5. mar. 2024 11.03.00"  # Danish time


@pytest.mark.parametrize(
    ("header", "language"),
    [(None, "da"), ("en-GB,en;q=0.9", "en"), ("de-DE,de;q=0.9", "da"), ("sv, en;q=0.5", "en")],
)
def test_the_browsers_language_is_honoured_when_it_is_one_of_ours(
    header: str | None, language: str
) -> None:
    assert language_of(header) == language


# --- the command line ----------------------------------------------------------------------


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
