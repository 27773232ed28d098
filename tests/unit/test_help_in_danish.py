"""Danish first on the command line too: `ledger --help`, every command's help and click's usage
errors are Danish by default and English with ``--lang en`` or ``LEDGER_LANG=en``; the
commands' and options' English texts each have their Danish translation in the catalogue."""

from __future__ import annotations

import click
import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from cli.context import SpokenCommand
from cli.main import cli
from ledger.i18n import LOCALE_DIR, translations
from tests.support.commands import ledger_commands

COMMANDS = [("", cli), *ledger_commands(cli)]
# Each run gets its language from the command line or from here, never from the tester's shell.
DEFAULT_ENV: dict[str, str | None] = {"LEDGER_LANG": None}
ENGLISH = [(["--lang", "en"], DEFAULT_ENV), ([], {"LEDGER_LANG": "en"})]


def _danish() -> dict[str, str]:
    with (LOCALE_DIR / "da" / "LC_MESSAGES" / "ledger.po").open("rb") as source:
        return {m.id: m.string for m in read_po(source) if isinstance(m.id, str) and m.id}


def _help_texts(command: click.Command) -> list[str]:
    """The command's English help and its options' (click's own --help is click's word)."""
    assert isinstance(command, SpokenCommand)
    options = [p for p in command.params if isinstance(p, click.Option)]
    return [command.help_source(), *(option.help or "" for option in options)]


def _ledger(args: list[str], env: dict[str, str | None] = DEFAULT_ENV) -> click.testing.Result:
    return CliRunner(env=env).invoke(cli, args, prog_name="ledger")


@pytest.mark.parametrize(
    ("name", "command"), COMMANDS, ids=[name or "ledger" for name, _ in COMMANDS]
)
def test_every_help_text_of_a_command_and_its_options_has_a_danish_translation(
    name: str, command: click.Command
) -> None:
    danish = _danish()
    texts = [text for text in _help_texts(command) if text]
    assert texts, f"ledger {name} has no help"
    assert [text for text in texts if not danish.get(text)] == []


def test_ledger_help_is_danish_by_default() -> None:
    result = _ledger(["--help"])
    assert result.exit_code == 0
    for word in ("Brug: ledger [TILVALG] KOMMANDO [ARGUMENTER]...", "Tilvalg:", "Kommandoer:"):
        assert word in result.output
    assert "Registret over integrationssager" in result.output
    assert "Vis denne hjælp og afslut." in result.output
    assert "[standard: da]" in result.output
    assert "Usage:" not in result.output


def test_a_command_help_is_danish_by_default_with_its_names_and_metavars_unchanged() -> None:
    result = _ledger(["status", "--help"])
    assert result.exit_code == 0
    assert "Brug: ledger status [TILVALG] PERSON" in result.output
    assert "Tilvalg:" in result.output
    assert "Statusrapport om PERSON til Udlændingestyrelsen" in result.output
    assert "--as-of" in result.output
    assert "--json" in result.output
    assert "Skriv maskinlæsbar JSON på stdout." in result.output


def test_a_subgroup_command_help_is_danish_and_says_required_in_danish() -> None:
    result = _ledger(["token", "create", "--help"])
    assert "Lav et token." in result.output
    assert "--role [municipality|immigration_service|investigator|admin]" in result.output
    assert "[påkrævet]" in result.output


@pytest.mark.parametrize(("lang", "env"), ENGLISH, ids=["--lang en", "LEDGER_LANG=en"])
@pytest.mark.parametrize("command", [[], ["status"], ["token", "create"]], ids=" ".join)
def test_help_is_english_with_lang_en(
    lang: list[str], env: dict[str, str | None], command: list[str]
) -> None:
    result = _ledger([*lang, *command, "--help"], env)
    assert result.exit_code == 0
    assert f"Usage: ledger {' '.join(command)} [OPTIONS]".replace("  ", " ") in result.output
    assert "Options:" in result.output
    assert "Show this message and exit." in result.output
    assert "Brug:" not in result.output
    assert "Tilvalg:" not in result.output


def test_lang_en_before_the_groups_own_help_gives_english() -> None:
    result = _ledger(["--lang", "en", "--help"])
    assert "The integration case ledger" in result.output
    assert "Commands:" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--help", "--lang", "en"],
        ["--help", "--lang=en"],
        ["--lang=en", "--help"],
        ["-h", "--wide", "--lang", "en"],
        ["--db", "--lang", "--help", "--lang", "en"],  # the first --lang is --db's value
    ],
    ids=" ".join,
)
def test_the_groups_help_is_in_the_language_lang_names_wherever_it_stands_among_its_options(
    args: list[str],
) -> None:
    result = _ledger(args)
    assert result.exit_code == 0
    assert result.output.startswith("Usage: ledger [OPTIONS] COMMAND [ARGS]...")
    assert "The integration case ledger" in result.output
    assert "Brug:" not in result.output


def test_lang_da_after_the_groups_help_outranks_the_environments_english() -> None:
    result = _ledger(["--help", "--lang", "da"], {"LEDGER_LANG": "en"})
    assert result.output.startswith("Brug: ledger [TILVALG] KOMMANDO [ARGUMENTER]...")


def test_lang_before_a_command_still_sets_the_commands_help_and_errors() -> None:
    assert _ledger(["--lang=en", "status", "--help"]).output.startswith(
        "Usage: ledger status [OPTIONS] PERSON"
    )
    assert "Error: Missing argument 'PERSON'." in _ledger(["--lang=en", "status"]).output


def test_a_lang_that_is_not_ours_after_the_help_leaves_the_help_danish() -> None:
    assert _ledger(["--help", "--lang", "fr"]).output.startswith("Brug: ledger [TILVALG]")


@pytest.mark.parametrize(
    ("command", "danish", "english"),
    [
        ([], "ledger [TILVALG] KOMMANDO [ARGUMENTER]...", "ledger [OPTIONS] COMMAND [ARGS]..."),
        (["bench"], "ledger bench [TILVALG]", "ledger bench [OPTIONS]"),
        (
            ["token"],
            "ledger token [TILVALG] KOMMANDO [ARGUMENTER]...",
            "ledger token [OPTIONS] COMMAND [ARGS]...",
        ),
        (
            ["token", "revoke"],
            "ledger token revoke [TILVALG] ID",
            "ledger token revoke [OPTIONS] ID",
        ),
    ],
    ids=["ledger", "bench", "token", "token revoke"],
)
def test_the_usage_lines_placeholders_are_danish_by_default_and_english_with_lang_en(
    command: list[str], danish: str, english: str
) -> None:
    """click's placeholders are said in the language; an argument's name (ID) is the one the
    help text uses, in both."""
    assert _ledger([*command, "--help"]).output.startswith(f"Brug: {danish}\n")
    assert _ledger(["--lang", "en", *command, "--help"]).output.startswith(f"Usage: {english}\n")


def test_a_usage_error_reads_danish_by_default() -> None:
    result = _ledger(["status"])
    assert result.exit_code == 2
    assert "Brug: ledger status [TILVALG] PERSON" in result.output
    assert "Prøv 'ledger status --help' for at få hjælp." in result.output
    assert "Fejl: Mangler argumentet 'PERSON'." in result.output


@pytest.mark.parametrize(("lang", "env"), ENGLISH, ids=["--lang en", "LEDGER_LANG=en"])
def test_a_usage_error_reads_english_with_lang_en(
    lang: list[str], env: dict[str, str | None]
) -> None:
    result = _ledger([*lang, "status"], env)
    assert result.exit_code == 2
    assert "Error: Missing argument 'PERSON'." in result.output


def test_the_catalogue_reads_every_message_and_plural_as_babel_reads_the_po() -> None:
    with (LOCALE_DIR / "da" / "LC_MESSAGES" / "ledger.po").open("rb") as source:
        messages = [m for m in read_po(source) if m.id]
    catalogue = translations("da")
    for message in messages:
        if isinstance(message.id, str):
            assert catalogue.gettext(message.id) == message.string
        else:
            one, other = message.id
            assert catalogue.ngettext(one, other, 1) == message.string[0]
            assert catalogue.ngettext(one, other, 2) == message.string[1]
