"""Printing for the command line: JSON for machines, rich tables and colours for people."""

from __future__ import annotations

import sys
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

from ledger.errors import ErrorDetail

_json = msgspec.json.Encoder(decimal_format="string")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def emit_json(value: Any) -> None:
    sys.stdout.buffer.write(_json.encode(value) + b"\n")
    sys.stdout.flush()


def error_table(errors: list[ErrorDetail], title: str) -> Table:
    table = Table(title=title, title_style="bold red", show_lines=False)
    for column in ("line", "code", "field", "message"):
        table.add_column(column, overflow="fold")
    for error in errors:
        table.add_row(
            "" if error.line is None else str(error.line),
            f"[red]{error.code}[/red]",
            error.field or "",
            error.message,
        )
    return table


def key_value_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, value)
    return table
