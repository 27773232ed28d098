"""Danish first: every people-facing text has a Danish translation in the catalogue, formats
are Babel's, and the browser's language is honoured when it is one of ours. The command line's
Danish is checked in ``tests/integration/test_cli_in_danish.py``."""

from __future__ import annotations

import ast
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ledger.disclosure import (
    CATEGORIES,
    CONSENT_BASIS,
    INVESTIGATION_BASIS,
    NO_RECORDER,
    STORED_BASES,
    consent_basis,
)
from ledger.events import ConsentGiven
from ledger.i18n import DASH, LOCALE_DIR, Phrase, Words, language_of, read_back
from projections.views import REFUSED
from tests.support.paths import ROOT

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


PACKAGES = ("ledger", "api", "cli", "projections")


def error_classes() -> set[str]:
    """The names of every class rooted in LedgerError, read from the source."""
    bases: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    names = {
                        b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases
                    }
                    bases.setdefault(node.name, set()).update(names)
    found = {"LedgerError"}
    while grown := {name for name, of in bases.items() if of & found} - found:
        found |= grown
    return found


def marked_texts() -> set[str]:
    """Every text marked for the catalogue: by gettext's keywords, as a ``Phrase``, or as the
    message template of an error (its first argument)."""
    keywords: dict[str, object] = {**KEYWORDS, "Phrase": None, "__init__": (1,)} | dict.fromkeys(
        error_classes(), (1,)
    )
    found: set[str] = set()
    for package in PACKAGES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / package), METHODS, OPTIONS, keywords=keywords
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


def test_every_error_message_is_a_template_for_the_catalogue_never_a_formatted_string() -> None:
    """An error's message is its English template with named values, so that each face can
    say it in its reader's language: an f-string, ``%`` or ``.format`` would be English only."""
    classes = error_classes() | {"Phrase"}
    formatted = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in classes
                ):
                    continue
                for arg in node.args[:1]:
                    built = isinstance(arg, ast.JoinedStr | ast.BinOp) or (
                        isinstance(arg, ast.Call)
                        and isinstance(arg.func, ast.Attribute)
                        and arg.func.attr == "format"
                    )
                    if built:
                        formatted.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert len(error_classes()) > 30
    assert formatted == []


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


def test_every_legal_basis_the_access_log_stores_reads_in_danish_on_the_pages() -> None:
    """The log keeps each basis in English (the interface); the pages look it up by that text."""
    bases = {c.basis for c in CATEGORIES.values()} | {INVESTIGATION_BASIS, REFUSED}
    danish = Words("da")
    assert len(bases) > 10
    assert {basis for basis in bases if danish(basis) == basis} == set()
    assert danish(CATEGORIES["sanctions"].basis).startswith("AKL § 69 r: sanktioner fra")


def consent(evidence: str, recorded_by: str | None = "sagsbehandler:kbh-jonas") -> ConsentGiven:
    return ConsentGiven(
        event_id=UUID("76a80d37-61a8-5283-840a-0da5ad356583"),
        person="P-KBH-0002",
        municipality="101",
        occurred_on=date(2024, 3, 5),
        recorded_by=recorded_by,
        recipient="751",
        evidence=evidence,
    )


def test_the_consent_basis_is_stored_in_the_english_it_always_had() -> None:
    assert consent_basis(consent("samtykkeerklæring KBH-0002-SAM1")) == (
        "consent of the person given on 2024-03-05 (event 76a80d37-61a8-5283-840a-0da5ad356583), "
        "recorded by municipality 101 (sagsbehandler:kbh-jonas), evidence: samtykkeerklæring "
        "KBH-0002-SAM1"
    )
    assert consent_basis(consent("x", recorded_by=None)).endswith(
        "(no caseworker named), evidence: x"
    )


@pytest.mark.parametrize(
    "evidence",
    [
        "samtykkeerklæring KBH-0002-SAM1",
        "brev (scannet), side 2: underskrevet",
        "note: (event 1), recorded by municipality 999 (x), evidence: y",
        "linje et\nlinje to",
    ],
)
@pytest.mark.parametrize("recorded_by", ["sagsbehandler:kbh-jonas", "Jonas (vikar), KBH", None])
def test_a_stored_consent_basis_reads_back_into_the_values_it_was_said_with(
    evidence: str, recorded_by: str | None
) -> None:
    given = consent(evidence, recorded_by)
    read = CONSENT_BASIS.read(consent_basis(given))
    assert read == Phrase(
        CONSENT_BASIS.template,
        {
            "given_on": date(2024, 3, 5),
            "event": "76a80d37-61a8-5283-840a-0da5ad356583",
            "municipality": "101",
            "recorder": recorded_by or Phrase(NO_RECORDER),
            "evidence": evidence,
        },
    )


def test_a_consent_basis_reads_in_the_readers_language_with_the_date_as_it_writes_dates() -> None:
    stored = consent_basis(consent("brev (scannet), side 2: underskrevet", recorded_by=None))
    danish = Words("da").text(read_back(stored, STORED_BASES))
    english = Words("en").text(read_back(stored, STORED_BASES))
    assert danish == (
        "personens samtykke givet den 5. marts 2024 (hændelse "
        "76a80d37-61a8-5283-840a-0da5ad356583), registreret af kommune 101 (ingen sagsbehandler "
        "angivet), dokumentation: brev (scannet), side 2: underskrevet"
    )
    assert english == stored.replace("2024-03-05", "5 March 2024")


@pytest.mark.parametrize(
    "stored",
    [
        CATEGORIES["sanctions"].basis,
        (
            "consent of the person given on someday (event x), recorded by municipality 101 (y), "
            "evidence: z"
        ),
        "a basis an earlier release wrote",
    ],
    ids=["a fixed basis", "a date that is not one", "an unknown text"],
)
def test_a_stored_text_no_sentence_made_reads_back_as_it_is(stored: str) -> None:
    assert read_back(stored, STORED_BASES) == stored
