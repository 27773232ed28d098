"""Refusals in the reader's language: every refusal of the bad fixtures reads in Danish at the
terminal (the default), in English with ``--lang en``, while ``--json`` keeps the English the
interface pins; the sample cases in a real SQLite store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from cli.output import console
from ledger.application import Ledger
from ledger.clock import today_in_denmark
from ledger.errors import BatchRefused
from ledger.i18n import Words
from ledger.wire import ndjson_lines
from tests.support.paths import BAD_BATCHES, EXPECTED_REFUSALS, SAMPLE_CASES

# Words the English refusals use that no Danish sentence of ours does.
ENGLISH = re.compile(r"\b(the|is|was|not|must|expected|got|before|after|never|only)\b")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("refusals") / "ledger.db"
    with Ledger(str(path)) as ledger:
        ledger.append_lines(ndjson_lines(SAMPLE_CASES.read_bytes()))
    return path


@pytest.fixture
def wide() -> Iterator[None]:
    width = console.width
    console.width = 300
    try:
        yield
    finally:
        console.width = width


def refused(loaded: Path, tmp_path: Path, name: str) -> BatchRefused:
    copy = tmp_path / "ledger.db"
    copy.write_bytes(loaded.read_bytes())
    with Ledger(str(copy)) as ledger, pytest.raises(BatchRefused) as caught:
        ledger.append_lines(ndjson_lines((BAD_BATCHES / name).read_bytes()))
    return caught.value


@pytest.mark.parametrize("name", sorted(EXPECTED_REFUSALS))
def test_every_refusal_of_the_bad_fixtures_reads_in_danish_and_in_english_as_pinned(
    loaded: Path, tmp_path: Path, name: str
) -> None:
    errors = refused(loaded, tmp_path, name).errors
    today = today_in_denmark().isoformat()
    pinned = [str(e["message"]).format(today=today) for e in EXPECTED_REFUSALS[name]]
    danish = [error.said(Words("da")) for error in errors]

    assert [error.message for error in errors] == pinned
    for english, said in zip(pinned, danish, strict=True):
        assert said != english
        assert ENGLISH.findall(said) == [], said


def test_a_refused_batch_reads_in_danish_at_the_terminal_and_english_with_lang_en(
    loaded: Path, tmp_path: Path, wide: None
) -> None:
    db = str(tmp_path / "ledger.db")
    Path(db).write_bytes(loaded.read_bytes())
    batch = str(BAD_BATCHES / "unknown_type.ndjson")

    danish = CliRunner().invoke(cli, ["--db", db, "append", batch])
    english = CliRunner().invoke(cli, ["--db", db, "--lang", "en", "append", batch])

    assert danish.exit_code == english.exit_code == 1
    assert "Afvist: " in danish.output
    assert "intet blev gemt" in danish.output
    assert "findes ikke i hændelseskataloget" in danish.output
    assert "nothing was stored" not in danish.output
    assert "nothing was stored" in english.output
    assert "is not in the event catalogue" in english.output


def test_json_refusals_at_the_terminal_stay_in_english_whatever_the_language(
    loaded: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "ledger.db")
    Path(db).write_bytes(loaded.read_bytes())
    batch = str(BAD_BATCHES / "unknown_type.ndjson")

    answer = CliRunner().invoke(cli, ["--db", db, "append", batch, "--json"])

    assert answer.exit_code == 1
    got = [
        (e["line"], e["code"], e["field"], e["message"])
        for e in json.loads(answer.output)["errors"]
    ]
    assert got == [
        (e["line"], e["code"], e["field"], e["message"])
        for e in EXPECTED_REFUSALS["unknown_type.ndjson"]
    ]


def test_an_unknown_person_is_told_in_danish_by_default_and_in_english_on_request(
    loaded: Path,
) -> None:
    danish = CliRunner().invoke(cli, ["--db", str(loaded), "status", "NOPE"])
    english = CliRunner().invoke(cli, ["--db", str(loaded), "--lang", "en", "status", "NOPE"])

    assert danish.exit_code == english.exit_code == 4
    assert "fejl unknown_person (person): registret har ingen sag for person 'NOPE'" in (
        danish.output
    )
    assert "error unknown_person (person): the ledger holds no case for person 'NOPE'" in (
        english.output
    )


def test_a_bad_option_value_is_refused_in_danish(loaded: Path) -> None:
    refused = CliRunner().invoke(
        cli, ["--db", str(loaded), "status", "P-KBH-0001", "--as-of", "2024-13-01"]
    )

    assert refused.exit_code == 2
    assert "'2024-13-01' er ikke en kalenderdato (ÅÅÅÅ-MM-DD)" in refused.output


def test_the_replay_explains_in_danish_with_babel_dates_and_its_json_stays_english(
    loaded: Path, wide: None
) -> None:
    db = str(loaded)
    danish = CliRunner().invoke(cli, ["--db", db, "replay", "P-KBH-0002", "--explain"])
    english = CliRunner().invoke(
        cli, ["--db", db, "--lang", "en", "replay", "P-KBH-0002", "--explain"]
    )
    as_json = CliRunner().invoke(cli, ["--db", db, "replay", "P-KBH-0002", "--explain", "--json"])

    assert danish.exit_code == english.exit_code == as_json.exit_code == 0
    assert "INL § 19 stk. 1 første kontrakt senest 2. oktober 2024 (101)" in danish.output
    assert "AKL § 36 fradrag på 1.251,68 kr. pålagt af 101" in danish.output
    assert "INL § 19 stk. 1 first contract due by 2 October 2024 (101)" in english.output
    explanations = {
        rule["explanation"] for step in json.loads(as_json.output) for rule in step["rules"]
    }
    assert "first contract due by 2024-10-02 (101)" in explanations
    assert "deduction of 1251.68 DKK imposed by 101" in explanations
