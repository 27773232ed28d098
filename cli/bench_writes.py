"""HTTP writes as a user meets them, each figure next to its baseline from the same run.

``python -m cli.bench_writes --store sqlite|URL [--before TREE]`` starts ``ledger serve`` on a
fresh store and measures:
- 64 keep-alive clients appending one event each, three rounds in a row (events/s, p50, p99
  and the server's resident memory after each round), against raw one-row commits into the
  same kind of store;
- one-event appends, one client, to a large case (9,000 events: the per-case limit leaves room
  for the appends) against a 50-event case;
- small-case appends by 16 clients alone, and while four more clients append to the large case.

``--before TREE`` names a source tree of another revision of this project (a ``git worktree``
of it): its server is measured first, on a store of its own, in the same run. Prints JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import psycopg

from api.load import free_port, measure_appends, summary, wait_until_healthy
from ledger.application import Ledger
from ledger.config import is_postgres_url
from ledger.wire import ndjson_lines

CLIENTS = 64
SMALL_CLIENTS = 16
HAMMERS = 4
ROUNDS = 3
LARGE_EVENTS = 9_000
SMALL_EVENTS = 50
SEQUENTIAL = 200
RAW_SECONDS = 3.0
MUNICIPALITY = "101"
STARTUP_S = 60.0

CLI = "from cli.main import main; main()"


class Store:
    """A fresh store: a SQLite file, or a schema of its own in a PostgreSQL database."""

    def __init__(self, target: str, folder: Path, name: str) -> None:
        self.target = target
        self.env = dict(os.environ)
        if is_postgres_url(target):
            self.schema: str | None = f"bench_{name}_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(target, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{self.schema}"')
            self.env["POSTGRES_SCHEMA"] = self.schema
            self.db = target
        else:
            self.schema = None
            self.db = str(folder / f"{name}.db")

    def ledger(self) -> Ledger:
        return Ledger(self.db, {"POSTGRES_SCHEMA": self.schema} if self.schema else {})

    def drop(self) -> None:
        if self.schema is not None:
            with psycopg.connect(self.target, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{self.schema}" CASCADE')


def event(person: str, type_: str = "ContactAttempted") -> dict[str, Any]:
    """A new event of ``person``: a contact attempt, or the case's opening."""
    fields: dict[str, Any] = (
        {"category": "refugee", "residence_basis": "UDL § 7 stk. 1"}
        if type_ == "ResponsibilityAssumed"
        else {"channel": "letter", "reached": False}
    )
    return {
        "type": type_,
        "event_id": str(uuid.uuid4()),
        "person": person,
        "municipality": MUNICIPALITY,
        "occurred_on": "2024-01-10" if fields.get("channel") else "2024-01-02",
        **fields,
    }


def one_event(person: str) -> Callable[[], bytes]:
    """A client's next body: one new event in the case of ``person``."""
    return lambda: json.dumps([event(person)]).encode()


@contextlib.contextmanager
def server(store: Store, tree: Path | None, log: Path) -> Iterator[tuple[str, int]]:
    """``ledger serve`` of ``tree`` (default: this one) on the store; (base URL, pid)."""
    port = free_port()
    with log.open("ab") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-c", CLI, "--db", store.db, "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            cwd=tree,
            env=store.env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(wait_until_healthy(base, process))
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def token(store: Store, tree: Path | None) -> str:
    made = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-c",
            CLI,
            "--db",
            store.db,
            "token",
            "create",
            "--role",
            "municipality",
            "--municipality",
            MUNICIPALITY,
            "--json",
        ],
        check=True,
        capture_output=True,
        cwd=tree,
        env=store.env,
    )
    secret: str = json.loads(made.stdout)["secret"]
    return secret


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def opened(store: Store, prefix: str, number: int, events: int = 1) -> list[str]:
    """``number`` cases of ``events`` events each, stored through the ledger in-process."""
    persons = [f"{prefix}-{n}" for n in range(number)]
    batch = []
    for person in persons:
        batch.append(event(person, "ResponsibilityAssumed"))
        batch += [event(person) for _ in range(events - 1)]
    with store.ledger() as ledger:
        for start in range(0, len(batch), 5000):
            some = batch[start : start + 5000]
            ledger.append_lines(ndjson_lines(b"\n".join(json.dumps(e).encode() for e in some)))
    return persons


def raw_commits_per_s(store: Store) -> float:
    """One-row durable commits into a scratch table of the same store, for RAW_SECONDS."""
    row = (uuid.uuid4().hex, b"x" * 300)
    done = 0
    if store.schema is not None:
        with psycopg.connect(store.target, autocommit=True) as conn:
            table = f'"{store.schema}".raw_commits'
            conn.execute(f"CREATE TABLE {table} (id text, body bytea)")
            started = time.perf_counter()
            while time.perf_counter() - started < RAW_SECONDS:
                conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", row)
                done += 1
            return round(done / (time.perf_counter() - started), 1)
    lite = sqlite3.connect(store.db, isolation_level=None)
    try:
        lite.execute("CREATE TABLE raw_commits (id TEXT, body BLOB)")
        started = time.perf_counter()
        while time.perf_counter() - started < RAW_SECONDS:
            lite.execute("BEGIN IMMEDIATE")
            lite.execute("INSERT INTO raw_commits VALUES (?, ?)", row)
            lite.execute("COMMIT")
            done += 1
        return round(done / (time.perf_counter() - started), 1)
    finally:
        lite.close()


def measure(target: str, tree: Path | None, folder: Path, seconds: float) -> dict[str, Any]:
    name = "before" if tree else "after"
    store = Store(target, folder, name)
    try:
        small = opened(store, f"P-W-{name}", CLIENTS + SMALL_CLIENTS)
        (large,) = opened(store, f"P-LARGE-{name}", 1, LARGE_EVENTS)
        (fifty,) = opened(store, f"P-FIFTY-{name}", 1, SMALL_EVENTS)
        secret = token(store, tree)
        figures: dict[str, Any] = {"raw_one_row_commits_per_s": raw_commits_per_s(store)}
        with server(store, tree, folder / f"{name}.log") as (base, pid):
            rounds = []
            for _ in range(ROUNDS):
                answers = measure_appends(
                    base, secret, [one_event(c) for c in small[:CLIENTS]], seconds
                )
                rounds.append(
                    summary([s for _, s in answers], seconds) | {"server_rss_mb": rss_mb(pid)}
                )
            figures["http_appends_64_clients"] = rounds
            sequential: dict[str, Any] = {}
            for label, person in (("large_case", large), ("fifty_event_case", fifty)):
                answers = measure_appends(base, secret, [one_event(person)], seconds / 2)
                sequential[label] = summary([s for _, s in answers], seconds / 2)
            sequential["ratio_p50"] = round(
                sequential["large_case"]["p50_ms"] / sequential["fifty_event_case"]["p50_ms"], 2
            )
            figures["one_event_append"] = sequential
            others = [one_event(c) for c in small[CLIENTS:]]
            alone = measure_appends(base, secret, others, seconds)
            hammers = [one_event(large) for _ in range(HAMMERS)]
            mixed = measure_appends(base, secret, others + hammers, seconds, frozenset({200, 422}))
            beside = [s for n, s in mixed if n < SMALL_CLIENTS]
            figures["small_cases_16_clients"] = {
                "alone": summary([s for _, s in alone], seconds),
                "beside_4_on_large_case": summary(beside, seconds),
                "ratio": round(len(beside) / max(1, len(alone)), 2),
            }
        return figures
    finally:
        store.drop()


@click.command()
@click.option("--store", "target", default="sqlite", metavar="sqlite|URL")
@click.option("--before", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--seconds", default=10.0, show_default=True)
def main(target: str, before: Path | None, seconds: float) -> None:
    """Measure HTTP writes (and, with --before, another revision's first)."""
    with tempfile.TemporaryDirectory(prefix="ledger-bench-writes-") as folder:
        results: dict[str, Any] = {"store": "postgresql" if is_postgres_url(target) else "sqlite"}
        if before is not None:
            results["before"] = measure(target, before.resolve(), Path(folder), seconds)
        results["after"] = measure(target, None, Path(folder), seconds)
    click.echo(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
