"""Fresh stores for the benchmark, and what a child process needs to open one.

Every figure runs on an empty store of the kind asked for: a temporary SQLite file, or a schema
of its own on the given PostgreSQL server, dropped afterwards. A store's environment is handed to
the ledger and to child processes explicitly; this process's own environment is never changed.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import psycopg

from bench.load import ServerFailed, ledger_command
from ledger.application import Ledger
from ledger.config import is_postgres_url


def as_installed(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` for a command timed as a user meets it: an installation compiles the ledger's
    modules once (pip does so when it installs), so a command run again never compiles them.
    A development environment that forbids writing bytecode would time the compiler on every
    run; the first of a measurement's runs writes the cache and the least of them counts."""
    return {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass(frozen=True)
class Store:
    """One empty store: a SQLite file (``schema`` None), or a PostgreSQL schema of its own."""

    db: str
    schema: str | None

    def overrides(self, mapper: str | None = None) -> dict[str, str]:
        """The ledger's environment on this store (with another stored-event mapper)."""
        env = {"POSTGRES_SCHEMA": self.schema} if self.schema else {}
        return env | ({"MAPPER_TOPIC": mapper} if mapper else {})

    def ledger(self, mapper: str | None = None) -> Ledger:
        return Ledger(self.db, self.overrides(mapper))

    def make_tables(self) -> None:
        """The ledger's tables, with nothing in them."""
        self.ledger().close()

    def child_env(self) -> dict[str, str]:
        """The environment of a child process on this store: this process's, and the store's."""
        return {**os.environ, **self.overrides()}

    def installed_env(self) -> dict[str, str]:
        """``child_env`` as an installed ledger runs: with its bytecode cached (see
        ``as_installed``)."""
        return as_installed(self.child_env())

    def token(self, role: str, *where: str, tree: Path | None = None) -> str:
        """A new API token's secret, made with ``ledger token create`` as an operator would
        (by the source tree ``tree``, default the working directory's)."""
        made = subprocess.run(  # noqa: S603 - our own interpreter, our own command
            ledger_command(self.db, "token", "create", "--role", role, *where, "--json", tree=tree),
            check=False,
            env=self.child_env(),
            cwd=tree,
            capture_output=True,
        )
        if made.returncode != 0:
            said = made.stderr.decode(errors="replace").strip().splitlines()
            raise ServerFailed(
                f"`ledger token create` exited with code {made.returncode}"
                + (f": {said[-1]}" if said else "")
            )
        secret: str = msgspec.json.decode(made.stdout)["secret"]
        return secret


@dataclass
class Stores:
    """Hands out fresh, empty stores of one kind (``target``: ``sqlite`` or a PostgreSQL URL)
    and removes them afterwards."""

    target: str
    folder: Path
    made: list[Store] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "postgresql" if is_postgres_url(self.target) else "sqlite"

    def new(self, name: str | None = None) -> Store:
        label = name or f"bench-{len(self.made) + 1}"
        if is_postgres_url(self.target):
            schema = f"bench_{label.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(self.target, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            store = Store(self.target, schema)
        else:
            store = Store(str(self.folder / f"{label}.db"), None)
        self.made.append(store)
        return store

    @contextlib.contextmanager
    def fresh(self, mapper: str | None = None) -> Iterator[Ledger]:
        """The ledger on a new store, closed on leaving (the store stays until ``drop``)."""
        with self.new().ledger(mapper) as ledger:
            yield ledger

    def drop(self) -> None:
        schemas = [store.schema for store in self.made if store.schema]
        if schemas:
            with psycopg.connect(self.target, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
