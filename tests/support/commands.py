"""Every command of `ledger`, found by walking its click groups as click does (a group may load
its commands when asked for them): what the help and the docs tests go through."""

from __future__ import annotations

import click


def ledger_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name  # every command listed can be had
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += ledger_commands(command, f"{prefix}{name} ")
    return found
