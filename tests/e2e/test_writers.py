"""Eight writers at once, as `ledger append` processes or through two `ledger serve` processes:
no event lost or duplicated, and a reader following the global order never sees it skip a
position that is filled in later; on both stores."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.wire import ndjson_lines
from tests.support.server import LEDGER, NDJSON, Server, token
from tests.support.wire import WireCase, ndjson

WRITERS = 8
BATCHES = 3
SHARED_CASES = 4
EVENTS_PER_CASE = 8  # in each batch: for each shared case, and for each of the writer's own

Batch = list[dict[str, Any]]
Answer = dict[str, Any]


def open_shared_cases(store_url: str) -> list[WireCase]:
    shared = [WireCase(f"P-SHARED-{n}") for n in range(SHARED_CASES)]
    with Ledger(store_url) as ledger:
        ledger.append_lines(ndjson_lines(ndjson(case.opened() for case in shared)))
    return shared


def plans(shared: list[WireCase]) -> list[list[Batch]]:
    """Every writer's batches: events for the shared cases and its own cases, interleaved; its
    last batch also re-sends the first batch of the next writer, racing it for the same ids."""
    plans: list[list[Batch]] = []
    for writer in range(WRITERS):
        own = [WireCase(f"P-W{writer}-{n}") for n in range(2)]
        batches: list[Batch] = [[case.opened() for case in own]]
        for _ in range(BATCHES):
            for _ in range(EVENTS_PER_CASE):
                batches[-1] += [
                    case.event("ContactAttempted", channel="phone", reached=False)
                    for case in (*shared, *own)
                ]
            batches.append([])
        plans.append(batches[:BATCHES])
    for writer, batches in enumerate(plans):
        batches[-1] += plans[(writer + 1) % WRITERS][0]
    return plans


def write(db: str, batches: list[Path]) -> list[Answer]:
    answers = []
    for path in batches:
        done = subprocess.run(
            [LEDGER, "--db", db, "append", "--json", str(path)],
            capture_output=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
        answers.append(json.loads(done.stdout))
    return answers


class Follower(threading.Thread):
    """Reads the global order as it grows, as a projection or the status feed does."""

    def __init__(self, db: str) -> None:
        super().__init__()
        self.db = db
        self.seen: list[int] = []
        self.reads = 0  # reads that found new events
        self.stop = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            with Ledger(self.db) as ledger:
                while not self.stop.is_set():
                    self._poll(ledger)
                self._poll(ledger)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.failure = exc

    def _poll(self, ledger: Ledger) -> None:
        after = self.seen[-1] if self.seen else 0
        rows = ledger.store.select_notifications(after, 500, inclusive_of_start=False)
        self.seen += [row.id for row in rows]
        self.reads += bool(rows)


def followed(store_url: str, writers: Callable[[], list[Answer]]) -> tuple[list[Answer], Follower]:
    """Run the writers while a follower reads the global order."""
    follower = Follower(store_url)
    follower.start()
    try:
        answers = writers()
    finally:
        follower.stop.set()
        follower.join()
    return answers, follower


def check_nothing_lost(
    store_url: str, sent: list[str], answers: list[Answer], follower: Follower
) -> None:
    with Ledger(store_url) as ledger:
        rows = list(ledger.store.iter_notifications())
        report = ledger.verify()
        cases = list(ledger.iter_cases(ledger.head_position()))
    stored = [str(e.event.event_id) for case in cases for e in case]
    versions = {case[0].event.person: [e.version for e in case] for case in cases}
    unique = set(sent)

    assert follower.failure is None
    assert len(stored) == len(set(stored)) == len(unique) + SHARED_CASES  # with their openings
    assert unique <= set(stored)
    assert sum(a["appended"] for a in answers) == len(unique)
    assert sum(a["appended"] + a["duplicates"] for a in answers) == len(sent)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
    assert follower.seen == sorted(set(follower.seen))
    assert follower.seen == [row.id for row in rows]
    assert report.ok, report.first_failure
    print(
        f"{len(unique)} events by {WRITERS} writers, {len(sent) - len(unique)} re-sent; "
        f"followed in {follower.reads} reads"
    )


@pytest.mark.slow
def test_eight_writer_processes_lose_and_duplicate_nothing(store_url: str, tmp_path: Path) -> None:
    batches = plans(open_shared_cases(store_url))
    files = [[tmp_path / f"writer-{w}-{n}.ndjson" for n in range(BATCHES)] for w in range(WRITERS)]
    for paths, own in zip(files, batches, strict=True):
        for path, batch in zip(paths, own, strict=True):
            path.write_bytes(ndjson(batch))

    def writers() -> list[Answer]:
        with ThreadPoolExecutor(WRITERS) as pool:
            return [a for run in pool.map(lambda f: write(store_url, f), files) for a in run]

    answers, follower = followed(store_url, writers)

    sent = [event["event_id"] for own in batches for batch in own for event in batch]
    check_nothing_lost(store_url, sent, answers, follower)


@pytest.mark.slow
def test_eight_writers_through_two_servers_lose_and_duplicate_nothing(
    store_url: str, tmp_path: Path
) -> None:
    batches = plans(open_shared_cases(store_url))
    secret = token(store_url, "municipality", "101")
    with (
        Server(store_url, tmp_path / "first.log") as first,
        Server(store_url, tmp_path / "second.log") as second,
    ):

        def post(writer: int) -> list[Answer]:
            with (first, second)[writer % 2].client(secret) as client:
                answers = []
                for batch in batches[writer]:
                    sent = client.post("/v1/events", content=ndjson(batch), headers=NDJSON)
                    assert sent.status_code == 200, sent.text
                    answers.append(sent.json())
                return answers

        def writers() -> list[Answer]:
            with ThreadPoolExecutor(WRITERS) as pool:
                return [a for run in pool.map(post, range(WRITERS)) for a in run]

        answers, follower = followed(store_url, writers)

    sent = [event["event_id"] for own in batches for batch in own for event in batch]
    check_nothing_lost(store_url, sent, answers, follower)
