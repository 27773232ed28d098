"""Every command of `ledger`, found by walking its click groups: what the help and the docs tests
go through."""

from __future__ import annotations

import click


def ledger_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += ledger_commands(command, f"{prefix}{name} ")
    return found
