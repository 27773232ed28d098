"""The command line's help: every command has some, and the README names every command."""

from __future__ import annotations

import importlib

import click
import pytest
from click.testing import CliRunner

from cli.main import COMMAND_MODULES, cli
from tests.support.commands import ledger_commands
from tests.support.paths import ROOT

README = ROOT / "README.md"


@pytest.mark.parametrize(("name", "command"), ledger_commands(cli))
def test_every_command_has_help_and_is_documented(name: str, command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert (command.help or "").strip()
    assert f"ledger {name}" in README.read_text()


@pytest.mark.parametrize("module", sorted(set(COMMAND_MODULES.values())))
def test_every_command_of_a_command_module_is_listed_under_that_module(module: str) -> None:
    """`ledger` loads a command module when one of the commands listed under it is asked for:
    a command left out of the list could never be run."""
    defined = {command.name for command in importlib.import_module(module).commands}

    assert defined == {name for name, home in COMMAND_MODULES.items() if home == module}
