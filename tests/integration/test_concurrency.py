"""Concurrent writers on one case: every event stored exactly once, on both stores."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

import pytest

from ledger.application import Ledger
from ledger.stores.postgres import LedgerPostgresRecorder
from ledger.stores.postgres_views import PostgresViewRecorder
from tests.support.wire import WireCase, lines

WRITER = """
import json, sys, time
from pathlib import Path
from ledger.application import Ledger
from ledger.wire import Line

db, batches, go = sys.argv[1], json.loads(Path(sys.argv[2]).read_text()), Path(sys.argv[3])
while not go.exists():
    time.sleep(0.005)
with Ledger(db) as ledger:
    for batch in batches:
        ledger.append_lines([Line(n, raw.encode()) for n, raw in enumerate(batch, start=1)])
"""

EVENTS_PER_WRITER = 40


def test_two_processes_appending_to_one_person_store_every_event_exactly_once(
    store_url: str, tmp_path: Path
) -> None:
    case = WireCase("P-SHARED")
    with Ledger(store_url) as ledger:
        ledger.append_lines(lines([case.opened()]))
    mine = [case.event("ContactAttempted", channel="phone", reached=False) for _ in range(80)]
    first, second = mine[:EVENTS_PER_WRITER], mine[EVENTS_PER_WRITER:]
    # Each writer also re-sends a quarter of the other's events, racing it for the same ids.
    plans = [
        [[json.dumps(e)] for e in first] + [[json.dumps(e)] for e in second[::4]],
        [[json.dumps(e)] for e in second] + [[json.dumps(e)] for e in first[::4]],
    ]
    go = tmp_path / "go"
    writers = []
    for number, plan in enumerate(plans):
        plan_file = tmp_path / f"plan-{number}.json"
        plan_file.write_text(json.dumps(plan))
        writers.append(
            subprocess.Popen(
                [sys.executable, "-c", WRITER, store_url, str(plan_file), str(go)],
                stderr=subprocess.PIPE,
            )
        )
    time.sleep(0.5)
    go.touch()
    # Both writers are waited for (and their pipes closed) before either is judged.
    errors = [writer.communicate(timeout=120)[1].decode() for writer in writers]
    for writer, stderr in zip(writers, errors, strict=True):
        assert writer.returncode == 0, stderr

    with Ledger(store_url) as ledger:
        stored = ledger.case_events("P-SHARED")
        report = ledger.verify()
    ids = [str(s.event.event_id) for s in stored]
    assert len(ids) == 81
    assert len(set(ids)) == 81
    assert set(ids[1:]) == {e["event_id"] for e in mine}
    assert [s.version for s in stored] == list(range(1, 82))
    assert report.ok


@pytest.mark.postgres
def test_the_ledgers_postgresql_connections_prepare_no_statements(pg_url: str) -> None:
    """A conflict's ROLLBACK inside a pipeline makes psycopg deallocate the connection's
    prepared statements while one it sent by name may still be queued: so none are prepared."""
    with Ledger(pg_url) as ledger:
        ledger.append_lines(lines([WireCase("P-PREPARED").opened()]))
        stores = [
            cast(LedgerPostgresRecorder, ledger.store).datastore,
            cast(PostgresViewRecorder, ledger.view_recorder()).datastore,
        ]
        thresholds = set()
        for datastore in stores:
            with datastore.get_connection() as conn:
                thresholds.add(conn.prepare_threshold)

    assert thresholds == {None}


OPENER = """
import sys, time
from pathlib import Path
from ledger.application import Ledger
from projections.views import Views

db, go = sys.argv[1], Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
with Ledger(db) as ledger:
    Views(ledger).catch_up()
"""


def test_processes_opening_a_fresh_store_at_once_all_create_it(
    store_url: str, tmp_path: Path
) -> None:
    # Every process that opens a store runs its create statements; on a fresh store they race.
    go = tmp_path / "go"
    openers = [
        subprocess.Popen([sys.executable, "-c", OPENER, store_url, str(go)], stderr=subprocess.PIPE)
        for _ in range(8)
    ]
    time.sleep(1.0)
    go.touch()
    failures = [
        stderr.decode()
        for opener in openers
        for _, stderr in [opener.communicate(timeout=120)]
        if opener.returncode != 0
    ]
    assert failures == []
    with Ledger(store_url) as ledger:
        assert ledger.verify().ok
