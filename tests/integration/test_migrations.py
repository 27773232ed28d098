"""Schema migrations on real stores: a new store reaches the latest version, an existing one is
upgraded in place, concurrent openers migrate once, and a store from a newer release is refused.

The stores made by the first release are committed fixtures: ``release-1.sqlite`` as the file,
``release-1.postgres.sql`` as a plain ``pg_dump`` restored with psql into a fresh database.
"""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import Ledger
from ledger.checkpoints import load_public_key
from ledger.errors import StoreTooNew
from ledger.stores.migrations import BASELINE, LATEST, MIGRATIONS, VERSIONS_TABLE
from projections.views import Views
from tests.support.evidence import locked_away
from tests.support.paths import ROOT
from tests.support.pg import PostgresCluster

STORES = ROOT / "fixtures" / "stores"
RELEASE_1_EVENTS = 428


def recorded(db: str) -> list[tuple[int, str]]:
    """The migrations a store records, read past the ledger."""
    if db.startswith("postgresql://"):
        with psycopg.connect(db) as conn:
            rows = conn.execute(f"SELECT number, name FROM {VERSIONS_TABLE} ORDER BY number")
            return [(row[0], row[1]) for row in rows]
    with closing(sqlite3.connect(db)) as conn:
        return list(conn.execute(f"SELECT number, name FROM {VERSIONS_TABLE} ORDER BY number"))


def record_version(db: str, number: int, name: str) -> None:
    """What a newer release's migration leaves in the store."""
    insert = f"INSERT INTO {VERSIONS_TABLE} VALUES ({number}, '{name}', '2031-01-01T00:00:00Z')"
    if db.startswith("postgresql://"):
        with psycopg.connect(db) as conn:
            conn.execute(insert)
        return
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(insert)


ALL = [(m.number, m.name) for m in MIGRATIONS]


def open_and_close(db: str) -> None:
    Ledger(db).close()


def test_a_new_store_records_every_migration_once(store_url: str) -> None:
    with Ledger(store_url) as ledger:
        assert ledger.store.check_schema() == LATEST
    assert recorded(store_url) == ALL


def test_opening_a_store_at_the_latest_version_applies_nothing_again(store_url: str) -> None:
    open_and_close(store_url)
    before = _applied_at(store_url)
    open_and_close(store_url)
    with Ledger(store_url) as ledger:
        assert ledger.store.check_schema() == LATEST
    assert _applied_at(store_url) == before


def _applied_at(db: str) -> list[Any]:
    query = f"SELECT number, applied_at FROM {VERSIONS_TABLE} ORDER BY number"
    if db.startswith("postgresql://"):
        with psycopg.connect(db) as conn:
            return [tuple(row) for row in conn.execute(query)]
    with closing(sqlite3.connect(db)) as conn:
        return list(conn.execute(query))


def test_processes_opening_a_new_store_at_once_migrate_it_once(store_url: str) -> None:
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(open_and_close, [store_url] * 8))
    assert recorded(store_url) == ALL


# --- a store made by the first release ------------------------------------------------------


def view_rows(db: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The stored view rows and the views' tracking position, read past the ledger."""
    if db.startswith("postgresql://"):
        with psycopg.connect(db) as conn:
            rows = conn.execute("SELECT * FROM ledger_views ORDER BY person, kind").fetchall()
            tracking = conn.execute(
                "SELECT * FROM ledger_tracking ORDER BY application_name"
            ).fetchall()
            return [(*r[:6], bytes(r[6]), r[7]) for r in rows], [tuple(t) for t in tracking]
    with closing(sqlite3.connect(db)) as conn:
        return (
            list(conn.execute("SELECT * FROM ledger_views ORDER BY person, kind")),
            list(conn.execute("SELECT * FROM tracking ORDER BY application_name")),
        )


def assert_upgraded_in_place(db: str, public_key: Path) -> None:
    views_before = view_rows(db)
    assert views_before[0], "the release's store holds view rows"

    with Ledger(db) as ledger:
        views = Views(ledger)
        report = views.verify(public_key=load_public_key(public_key, "key"))
        position = views.position()
        served = [views.served(row) for row in views.recorder.iter_views(None)]
        feed = views.recorder.select_feed(0, 1000)

    assert recorded(db) == ALL
    assert LATEST > BASELINE, "the upgrade applied the migrations after the first release's"
    # The status feed starts with one item per person, made from the release's status rows.
    statuses = sorted(
        (row[4], row[0], row[3], row[5]) for row in views_before[0] if row[1] == "status"
    )
    assert [(i.position, i.person, i.as_of, i.digest) for i in feed] == statuses
    assert [i.seq for i in feed] == list(range(1, len(statuses) + 1))
    assert report.ok, report.failures
    assert report.checked == RELEASE_1_EVENTS
    assert report.checkpoint is not None
    assert report.checkpoint.signature_checked
    assert position == RELEASE_1_EVENTS
    assert view_rows(db) == views_before
    assert None not in served


def test_a_sqlite_store_of_the_first_release_is_upgraded_in_place(tmp_path: Path) -> None:
    db = str(tmp_path / "release-1.sqlite")
    shutil.copyfile(STORES / "release-1.sqlite", db)
    with closing(sqlite3.connect(db)) as conn:
        tokens = list(conn.execute("SELECT * FROM ledger_api_tokens ORDER BY id"))
        logged = list(conn.execute("SELECT * FROM ledger_access_log ORDER BY id"))

    assert_upgraded_in_place(db, STORES / "release-1.checkpoint.pub")

    with closing(sqlite3.connect(db)) as conn:
        assert list(conn.execute("SELECT * FROM ledger_api_tokens ORDER BY id")) == tokens
        assert list(conn.execute("SELECT * FROM ledger_access_log ORDER BY id")) == logged


@contextmanager
def restored(cluster: PostgresCluster, dump: Path, name: str) -> Iterator[str]:
    url = cluster.create_database(name)
    try:
        psql = str(cluster.bindir / "psql")
        subprocess.run(
            [psql, "-d", url, "-v", "ON_ERROR_STOP=1", "-q", "-f", str(dump)],
            check=True,
            capture_output=True,
        )
        yield url
    finally:
        cluster.drop_database(name)


@pytest.mark.postgres
def test_a_postgres_store_of_the_first_release_is_upgraded_in_place(
    pg_cluster: PostgresCluster,
) -> None:
    with restored(pg_cluster, STORES / "release-1.postgres.sql", "release_1") as url:
        with psycopg.connect(url) as conn:
            tokens = conn.execute("SELECT * FROM ledger_api_tokens ORDER BY id").fetchall()
            logged = conn.execute("SELECT * FROM ledger_access_log ORDER BY id").fetchall()
            assert logged, "the release's store holds access log rows"

        assert_upgraded_in_place(url, STORES / "release-1.postgres.checkpoint.pub")

        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT * FROM ledger_api_tokens ORDER BY id").fetchall() == tokens
            assert conn.execute("SELECT * FROM ledger_access_log ORDER BY id").fetchall() == logged


# --- a store from a newer release -----------------------------------------------------------


@pytest.fixture
def newer_store(store_url: str) -> str:
    open_and_close(store_url)
    record_version(store_url, LATEST + 1, "from_the_future")
    return store_url


def test_a_store_migrated_by_a_newer_release_is_refused_naming_both_versions(
    newer_store: str,
) -> None:
    with pytest.raises(StoreTooNew) as refused:
        Ledger(newer_store)

    assert refused.value.code == "store_too_new"
    assert f"schema version {LATEST + 1} (from_the_future)" in refused.value.message
    assert f"latest, version {LATEST} ({MIGRATIONS[-1].name})" in refused.value.message
    assert recorded(newer_store) == [*ALL, (LATEST + 1, "from_the_future")]


def test_a_read_only_copy_of_a_newer_store_is_refused_too(tmp_path: Path, db_path: str) -> None:
    open_and_close(db_path)
    record_version(db_path, LATEST + 1, "from_the_future")

    with locked_away(db_path, tmp_path) as copy, pytest.raises(StoreTooNew):
        Ledger(copy)


def test_the_command_line_refuses_a_newer_store_with_its_code_and_no_traceback(
    newer_store: str,
) -> None:
    result = CliRunner().invoke(cli, ["--db", newer_store, "verify", "--json"])

    assert result.exit_code == 1
    assert '"code":"store_too_new"' in result.output.replace(" ", "")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_server_does_not_start_on_a_newer_store_and_says_why(newer_store: str) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ledger"), "--db", newer_store, "serve", "--port", "0"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert done.returncode == 1
    assert "store_too_new" in done.stderr
    assert "Traceback" not in done.stderr
