"""A throwaway PostgreSQL server for the test session.

The cluster lives in a temporary directory, listens on a free TCP port on 127.0.0.1 and is
removed when it stops. `initdb` refuses to run as root, so as root every server binary runs as
the `postgres` system user (created by Debian's `postgresql` package); otherwise as the current
user. Clients connect as the superuser role `ledger` (password `ledger`) with password
authentication, so the URLs the tests hand out are used exactly as a deployment would use them.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
import pytest
from psycopg import sql

ROLE = "ledger"
PASSWORD = "ledger"  # noqa: S105 -- a throwaway test cluster on 127.0.0.1
HOST = "127.0.0.1"
SYSTEM_USER = "postgres"  # the superuser initdb creates, and the OS user that runs it as root
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
START_ATTEMPTS = 3  # a free port picked here may be taken before the server binds it
TIMEOUT_SECONDS = 120

BINARIES_MISSING = "PostgreSQL binaries not found (install the Debian package 'postgresql')"
SKIP_REASON = f"{BINARIES_MISSING}; PostgreSQL tests skipped"
CI_FAILURE = f"{BINARIES_MISSING}; under CI=true the PostgreSQL tests must run, not skip"


class PostgresClusterError(RuntimeError):
    """The test cluster could not be set up, started or stopped."""


def _has_server_binaries(bindir: Path) -> bool:
    return all((bindir / name).is_file() for name in SERVER_BINARIES)


def _version_key(bindir: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name))


def find_pg_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, or None when they are not installed.

    `pg_config --bindir` is asked first; Debian's client-only pg_config names /usr/bin, which has
    no server binaries, so the highest version under /usr/lib/postgresql is the fallback.
    """
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        try:
            answer = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=False, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            answer = None
        if answer is not None and answer.returncode == 0:
            bindir = Path(answer.stdout.strip())
            if answer.stdout.strip() and _has_server_binaries(bindir):
                return bindir
    candidates = [
        bindir
        for bindir in Path("/usr/lib/postgresql").glob("*/bin")
        if _has_server_binaries(bindir)
    ]
    return max(candidates, key=_version_key, default=None)


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def require_postgres() -> Path:
    """The server binaries' directory; skips the test without them, or fails it under CI=true."""
    bindir = find_pg_bindir()
    if bindir is None:
        if running_in_ci():
            pytest.fail(CI_FAILURE)
        pytest.skip(SKIP_REASON)
    return bindir


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresCluster:
    """One running PostgreSQL server in a temporary directory; `stop()` removes every trace."""

    def __init__(self, bindir: Path | None = None) -> None:
        found = bindir or find_pg_bindir()
        if found is None:
            raise PostgresClusterError(BINARIES_MISSING)
        self.bindir = found
        self._run_as: list[str] = []
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise PostgresClusterError(
                    f"running as root, but there is no '{SYSTEM_USER}' system user to run "
                    "initdb and the server as (install the Debian package 'postgresql')"
                ) from None
            runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
            if runuser is None:
                raise PostgresClusterError("running as root, but 'runuser' is not installed")
            self._run_as = [runuser, "-u", SYSTEM_USER, "--"]

        self.base = Path(tempfile.mkdtemp(prefix="ledger-pg-"))
        self.data_dir = self.base / "data"
        self.socket_dir = self.base / "sockets"
        self.log_file = self.base / "server.log"
        self.port = 0
        self._running = False
        try:
            for directory in (self.data_dir, self.socket_dir):
                directory.mkdir(mode=0o700)
            if owner is not None:
                for path in (self.base, self.data_dir, self.socket_dir):
                    os.chown(path, owner.pw_uid, owner.pw_gid)
            self._initdb()
            self._start()
            self._create_login_role()
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def url(self, database: str) -> str:
        return f"postgresql://{ROLE}:{PASSWORD}@{HOST}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Creates an empty database and returns its URL."""
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drops the database, ending any sessions still connected to it."""
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def stop(self) -> None:
        """Stops the server (fast shutdown) and removes its directory. Safe to call twice."""
        try:
            if self._running:
                self._running = False
                self._pg_ctl("stop", "-m", "fast")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def _initdb(self) -> None:
        self._run(
            "initdb",
            [
                str(self.bindir / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                SYSTEM_USER,
                # The socket is in a private directory; TCP clients must give the password.
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )

    def halt(self) -> None:
        """Stops the server (fast shutdown) but keeps its data: an outage, until `resume()`."""
        self._running = False
        self._pg_ctl("stop", "-m", "fast")

    def resume(self) -> None:
        """Starts a halted server again, on the same port, with the same data."""
        self._pg_ctl("start", "-o", self._options(), "-l", str(self.log_file))
        self._running = True

    def restart(self) -> None:
        """A server restart: every connection clients hold is dropped."""
        self.halt()
        self.resume()

    def _options(self) -> str:
        return " ".join(
            [
                f"-p {self.port}",
                f"-k '{self.socket_dir}'",
                f"-c listen_addresses={HOST}",
                # Durability is not under test; a throwaway cluster need not sync.
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )

    def _start(self) -> None:
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = _free_port()
            try:
                self._pg_ctl("start", "-o", self._options(), "-l", str(self.log_file))
            except PostgresClusterError:
                if attempt == START_ATTEMPTS or "could not bind" not in self._server_log():
                    raise
            else:
                self._running = True
                return

    def _create_login_role(self) -> None:
        # The one connection over the private socket, as the bootstrap superuser.
        with psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=SYSTEM_USER,
            dbname="postgres",
            autocommit=True,
        ) as connection:
            connection.execute(
                sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                    sql.Identifier(ROLE), sql.Literal(PASSWORD)
                )
            )

    def _admin(self, statement: sql.Composed) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(statement)

    def _pg_ctl(self, *arguments: str) -> None:
        self._run(
            f"pg_ctl {arguments[0]}",
            [
                str(self.bindir / "pg_ctl"),
                "--pgdata",
                str(self.data_dir),
                "--wait",
                "--timeout",
                str(TIMEOUT_SECONDS),
                *arguments,
            ],
        )

    def _run(self, what: str, command: list[str]) -> None:
        try:
            result = subprocess.run(
                [*self._run_as, *command],
                cwd=self.base,  # the postgres user may not be allowed into the caller's cwd
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
                timeout=TIMEOUT_SECONDS + 30,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PostgresClusterError(f"{what} could not be run: {error}") from error
        if result.returncode != 0:
            sections = {
                "stderr": result.stderr.strip(),
                "stdout": result.stdout.strip(),
                "server log": self._server_log(),
            }
            details = "\n".join(f"{name}:\n{text}" for name, text in sections.items() if text)
            raise PostgresClusterError(
                f"{what} failed with exit code {result.returncode}: {' '.join(command)}\n{details}"
            )

    def _server_log(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-40:])
