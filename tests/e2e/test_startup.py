"""What a command loads: the PostgreSQL stack, the HTTP stack and rich's progress bars only when
a command needs them (measured in a fresh interpreter, as a user starts `ledger`); `--help` in
the language `--lang` names, after it or before, still without Babel."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

from cli.context import PROGRESS_THRESHOLD
from cli.main import COMMAND_MODULES
from ledger.stores.views import PAGE
from tests.support.wire import WireCase, ndjson

# Modules a command on a SQLite store has no use for.
UNNEEDED_ON_SQLITE = ("psycopg", "psycopg_pool", "eventsourcing.postgres", "litestar", "uvicorn")

# Runs `ledger` with the given arguments, then prints which of the named modules it loaded.
PROBE = """
import json, sys
from cli.main import main
watched, sys.argv = json.loads(sys.argv[1]), ["ledger", *sys.argv[2:]]
try:
    main()
except SystemExit as done:
    if done.code:
        raise
print(json.dumps(sorted(name for name in watched if name in sys.modules)), file=sys.stderr)
"""


def started(args: list[str], watched: tuple[str, ...]) -> tuple[str, list[str]]:
    """What `ledger` printed on stdout, and which of ``watched`` it loaded."""
    env = {name: value for name, value in os.environ.items() if name != "LEDGER_LANG"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(watched), *args],
        capture_output=True,
        check=False,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode(), list(json.loads(done.stderr.decode().splitlines()[-1]))


def loaded(args: list[str], watched: tuple[str, ...]) -> list[str]:
    return started(args, watched)[1]


def test_help_loads_no_store_driver_no_http_stack_no_progress_bar_and_no_babel() -> None:
    watched = (
        *(*UNNEEDED_ON_SQLITE, "rich.progress", "eventsourcing", "asyncio", "projections"),
        *("api.web", "babel", "jinja2"),
    )
    assert loaded(["--help"], watched) == []


def test_help_prints_through_click_alone_without_rich_or_logging() -> None:
    # rich's console and tables were a fifth of `ledger --help`'s start-up (issue 12).
    watched = ("rich", "rich.console", "rich.table", "logging")
    assert loaded(["--help"], watched) == []
    assert loaded(["serve", "--help"], watched) == []
    assert loaded(["append", "--help"], watched) == []


@pytest.mark.parametrize(
    "args", [["--help", "--lang", "en"], ["--lang=en", "--help"]], ids=" ".join
)
def test_help_in_the_language_lang_names_after_it_or_before_loads_no_babel(args: list[str]) -> None:
    printed, modules = started(args, ("babel", "rich", "logging", "eventsourcing"))
    assert printed.startswith("Usage: ledger [OPTIONS] COMMAND [ARGS]...")
    assert "Show this message and exit." in printed
    assert modules == []


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    case = WireCase("P-LAZY")
    path = tmp_path / "batch.ndjson"
    path.write_bytes(ndjson([case.opened(personal={"name": "Amina"}), case.offer("O-1")]))
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["append", "--json", "{batch}"],
        ["status", "P-LAZY", "--json"],
        ["verify", "--json"],
        ["token", "create", "--role", "admin", "--json"],
    ],
    ids=["append", "status", "verify", "token"],
)
def test_a_sqlite_command_loads_neither_postgresql_nor_the_http_stack(
    db_path: str, batch: Path, command: list[str]
) -> None:
    assert loaded(["--db", db_path, "append", str(batch)], ()) == []  # the case to read

    args = [arg.format(batch=batch) for arg in command]
    assert loaded(["--db", db_path, *args], UNNEEDED_ON_SQLITE) == []


@pytest.fixture
def import_file(tmp_path: Path) -> Path:
    """A batch of more events than a page of the views' catch-up and than a progress bar's
    least: an import."""
    cases = [WireCase(f"P-IMPORT-{n}") for n in range(max(PAGE, PROGRESS_THRESHOLD) // 2 + 1)]
    path = tmp_path / "import.ndjson"
    path.write_bytes(ndjson(e for case in cases for e in (case.opened(), case.offer("O-1"))))
    return path


def test_an_import_into_a_pipe_loads_no_projections_no_rich_and_no_other_command_or_crypto(
    db_path: str, import_file: Path
) -> None:
    # The views are left to catch up later, the bar is drawn only on a terminal, the commands
    # of other modules are not the import's, and no key is touched and no personal data sealed
    # (the import's events carry none): none of them is loaded.
    watched = (
        "cryptography",
        "projections",
        "rich",
        "rich.console",
        "rich.progress",
        *set(COMMAND_MODULES.values()),
    )

    assert loaded(["--db", db_path, "append", "--json", str(import_file)], watched) == []


def test_an_import_in_a_terminal_draws_its_progress_bar_on_stderr(
    db_path: str, import_file: Path
) -> None:
    args = ["--db", db_path, "--lang", "en", "append", "--json", str(import_file)]
    controller, terminal = pty.openpty()
    env = {name: value for name, value in os.environ.items() if name != "LEDGER_LANG"}
    with os.fdopen(controller, "rb") as screen:
        try:
            command = subprocess.Popen(
                [sys.executable, "-c", PROBE, "[]", *args],
                stdout=subprocess.PIPE,
                stderr=terminal,
                env=env | {"COLUMNS": "120"},
            )
        finally:
            os.close(terminal)  # the command holds the terminal now; its end closes it
        drawn = b""
        while chunk := _read_some(screen):  # read as it draws, so it never waits on a full pty
            drawn += chunk
        printed, _ = command.communicate(timeout=120)

    assert command.returncode == 0
    assert json.loads(printed)["appended"] == import_file.read_bytes().count(b"\n")
    assert b"Appending" in drawn


def _read_some(screen: IO[bytes]) -> bytes:
    """What the terminal shows next; nothing once the command's end has closed it."""
    try:
        return screen.read1(65536)
    except OSError:  # EIO: no process holds the terminal any more
        return b""
