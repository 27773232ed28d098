"""The command line's help: every command has some, and the README names every command."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.support.commands import ledger_commands
from tests.support.paths import ROOT

README = ROOT / "README.md"


@pytest.mark.parametrize(("name", "command"), ledger_commands(cli))
def test_every_command_has_help_and_is_documented(name: str, command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert (command.help or "").strip()
    assert f"ledger {name}" in README.read_text()
