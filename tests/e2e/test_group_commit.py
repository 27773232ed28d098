"""Group commit: appends that arrive together are committed in one transaction, and each keeps
its own atomicity, refusals and idempotency answer; the views follow the log on their own, and
a reader who names the position of its write reads it back. On real SQLite files and the real
PostgreSQL server, through the ledger and through a real `ledger serve`."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from click.testing import CliRunner

from api.observe import Metrics
from api.service import Busy, Service
from api.tokens import Token
from cli.main import cli
from ledger.application import AppendResult, Ledger
from ledger.config import Settings
from ledger.errors import BatchRefused, LedgerError
from ledger.stores.aio import AsyncStore
from projections.views import PAGE, Reader, ReadService, ServedViews, Views, When
from tests.support.server import Server, token
from tests.support.wire import WireCase, lines, ndjson

MAX_QUEUED = Settings().write_queue  # appends a server holds by default

CLIENTS = 16
Served = tuple[Server, str, str]  # the server, a municipality 101 token's secret, the store


def together(ledger: Ledger, *batches: list[dict[str, Any]]) -> list[AppendResult | LedgerError]:
    runs: list[Callable[[], AppendResult]] = [
        partial(ledger.append_lines, lines(batch)) for batch in batches
    ]
    return ledger.append_together(runs)


def codes(outcome: AppendResult | LedgerError) -> list[str]:
    assert isinstance(outcome, BatchRefused), outcome
    return [error.code for error in outcome.errors]


def test_appends_committed_together_keep_each_its_own_answer(store_url: str) -> None:
    opened, other = WireCase("P-GC-OPENED"), WireCase("P-GC-NEVER-OPENED")
    first = [opened.opened(), opened.event("ContactAttempted", channel="letter", reached=False)]
    later = [opened.event("ContactAttempted", channel="phone", reached=True)]
    half = [
        WireCase("P-GC-HALF").opened(),
        other.event("ContactAttempted", channel="letter", reached=False),
    ]
    conflicting = [{**first[0], "occurred_on": "2024-01-03"}]
    with Ledger(store_url) as ledger:
        outcomes = together(
            ledger,
            first,
            [other.event("ContactAttempted", channel="letter", reached=False)],
            later,  # valid only on the case the first append of the group opened
            first,  # sent again in the same group
            conflicting,
            half,
        )
        stored = [e.event.event_id for e in ledger.case_events("P-GC-OPENED")]
        half_stored = ledger.store.select_index([UUID(half[0]["event_id"])])
        report = ledger.verify()

    appended, refused, after, again, conflict, partly = outcomes
    assert isinstance(appended, AppendResult)
    assert isinstance(after, AppendResult)
    assert isinstance(again, AppendResult)
    assert (appended.appended, after.appended) == (2, 1)
    assert (again.appended, again.duplicates) == (0, 2)
    assert [r.position for r in again.results] == [r.position for r in appended.results]
    assert codes(refused) == ["case_not_open"]
    assert codes(conflict) == ["duplicate_conflict"]
    assert codes(partly) == ["case_not_open"]
    assert [str(e) for e in stored] == [
        first[0]["event_id"],
        first[1]["event_id"],
        later[0]["event_id"],
    ]
    assert half_stored == {}
    assert report.ok


def test_a_group_after_a_refused_one_continues_the_chain(store_url: str) -> None:
    case = WireCase("P-GC-CHAIN")
    with Ledger(store_url) as ledger:
        together(ledger, [case.opened()], [{**case.opened(), "municipality": "999"}])
        outcomes = together(
            ledger, [case.event("ContactAttempted", channel="letter", reached=False)]
        )
        report = ledger.verify("P-GC-CHAIN")

    assert isinstance(outcomes[0], AppendResult)
    assert outcomes[0].appended == 1
    assert report.ok
    assert report.checked == 2


# --- the command line ---------------------------------------------------------------------------


def test_a_large_import_leaves_the_views_behind_and_reads_fold_live(
    db_path: str, tmp_path: Path
) -> None:
    first = WireCase("P-GC-SMALL")
    small = tmp_path / "small.ndjson"
    small.write_bytes(ndjson([first.opened()]))
    cases = [WireCase(f"P-GC-IMPORT-{n}") for n in range(PAGE // 2 + 1)]
    batch = tmp_path / "import.ndjson"
    batch.write_bytes(ndjson(e for c in cases for e in (c.opened(), c.offer("O-1"))))
    runner = CliRunner()

    appended = runner.invoke(cli, ["--db", db_path, "append", "--json", str(small)])
    with Ledger(db_path) as ledger:
        caught_up = Views(ledger).position() == ledger.head_position()
    imported = runner.invoke(cli, ["--db", db_path, "append", "--json", str(batch)])
    with Ledger(db_path) as ledger:
        behind = Views(ledger).position() < ledger.head_position()
    read = runner.invoke(cli, ["--db", db_path, "status", "--json", cases[-1].person])

    assert appended.exit_code == 0, appended.output
    assert caught_up
    assert imported.exit_code == 0, imported.output
    assert behind
    assert read.exit_code == 0, read.output
    assert json.loads(read.output)["position"] == json.loads(imported.output)["position"]


# --- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def served(store_url: str, tmp_path: Path) -> Iterator[Served]:
    """A real `ledger serve`, a municipality 101 token's secret, and the store."""
    secret = token(store_url, "municipality", "101")
    with Server(store_url, tmp_path / "server.log") as server:
        yield server, secret, store_url


def at_once(
    server: Server, secret: str, bodies: list[list[dict[str, Any]]]
) -> list[httpx.Response]:
    """POST every body from its own keep-alive client, all released at the same moment."""
    start = threading.Barrier(len(bodies))
    answers: list[httpx.Response | None] = [None] * len(bodies)

    def post(index: int) -> None:
        with server.client(secret) as client:
            client.get("/healthz")  # connected before the race starts
            start.wait()
            answers[index] = client.post("/v1/events", json=bodies[index])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [answer for answer in answers if answer is not None]


def test_concurrent_duplicates_of_one_event_are_appended_once(
    served: Served,
) -> None:
    server, secret, _ = served
    case = WireCase("P-GC-SAME")
    with server.client(secret) as client:
        assert client.post("/v1/events", json=[case.opened()]).status_code == 200
    same = case.event("ContactAttempted", channel="letter", reached=False)

    answers = at_once(server, secret, [[same]] * CLIENTS)

    assert [a.status_code for a in answers] == [200] * CLIENTS
    statuses = sorted(a.json()["results"][0]["status"] for a in answers)
    assert statuses == ["appended"] + ["duplicate"] * (CLIENTS - 1)
    assert len({a.json()["results"][0]["position"] for a in answers}) == 1


def test_a_refused_request_leaves_the_concurrent_ones_stored(
    served: Served,
) -> None:
    server, secret, db = served
    cases = [WireCase(f"P-GC-MANY-{n}") for n in range(CLIENTS - 1)]
    bodies = [
        [c.opened(), c.event("ContactAttempted", channel="letter", reached=False)] for c in cases
    ]
    never = WireCase("P-GC-MANY-NEVER-OPENED")
    bodies.append([never.event("ContactAttempted", channel="letter", reached=False)])

    answers = at_once(server, secret, bodies)

    assert [a.status_code for a in answers] == [200] * (CLIENTS - 1) + [422]
    assert [e["code"] for e in answers[-1].json()["errors"]] == ["case_not_open"]
    with Ledger(db) as ledger:
        assert all(len(ledger.case_events(c.person)) == 2 for c in cases)


def test_reads_naming_their_write_position_see_their_writes(
    served: Served,
) -> None:
    server, secret, _ = served
    cases = [WireCase(f"P-GC-RYW-{n}") for n in range(CLIENTS)]
    seen: list[tuple[int, int]] = []

    def write_then_read(case: WireCase) -> None:
        with server.client(secret) as client:
            written = client.post("/v1/events", json=[case.opened(), case.offer("O-1")]).json()
            status = client.get(
                f"/v1/persons/{case.person}/status",
                params={"min_position": written["position"]},
            ).json()
            seen.append((status["position"], status["participation"]["offers"]))

    threads = [threading.Thread(target=write_then_read, args=(c,)) for c in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(seen) == CLIENTS
    assert all(offers == 1 for _, offers in seen)


async def views_reach(ledger: Ledger, position: int, within: float) -> bool:
    """The server's own wait for the views to reach a position."""
    store = await AsyncStore.open(ledger.settings)
    try:
        return await ServedViews(store).wait_for(position, within)
    finally:
        await store.close()


def test_views_converge_to_the_live_fold_after_a_burst(served: Served) -> None:
    server, secret, db = served
    cases = [WireCase(f"P-GC-BURST-{n}") for n in range(CLIENTS)]
    busy = WireCase("P-GC-BURST-BUSY")
    bodies = [[c.opened(), c.offer("O-1")] for c in cases]
    bodies.append([busy.opened()])
    at_once(server, secret, bodies)
    at_once(
        server,
        secret,
        [[busy.event("ContactAttempted", channel="letter", reached=False)] for _ in cases],
    )

    with Ledger(db) as ledger:
        views = Views(ledger)
        assert asyncio.run(views_reach(ledger, ledger.head_position(), within=30))
        reads = ReadService(ledger, views)
        operator = Reader("operator")
        for person in [*(c.person for c in cases), busy.person]:
            for kind in ("status", "sanctions", "history"):
                row = json.loads(reads.projection(kind, person, operator, When()).body)
                live = json.loads(reads.projection(kind, person, operator, When(), rows=False).body)
                row.pop("generated_at", None)  # the moment each was folded
                live.pop("generated_at", None)
                assert row == live, (person, kind)


# --- a full queue ------------------------------------------------------------------------------


def test_appends_past_a_full_queue_are_told_to_retry_and_store_nothing(db_path: str) -> None:
    openings = [WireCase(f"P-GC-Q-{n}").opened() for n in range(MAX_QUEUED + 8)]
    caller = Token("tok_test", "municipality", "101", "2024-01-01T00:00:00+00:00")

    async def flood() -> list[AppendResult | BaseException]:
        service = await Service.open(db_path, Metrics())
        try:
            return await asyncio.gather(
                *(service.append(caller, lines([opening])) for opening in openings),
                return_exceptions=True,
            )
        finally:
            await service.close()

    answers = asyncio.run(flood())

    told = [o["event_id"] for o, a in zip(openings, answers, strict=True) if isinstance(a, Busy)]
    done = [
        o["event_id"] for o, a in zip(openings, answers, strict=True) if isinstance(a, AppendResult)
    ]
    assert (len(told), len(done)) == (8, MAX_QUEUED)
    assert all(a.retry_after >= 1 for a in answers if isinstance(a, Busy))
    with Ledger(db_path) as ledger:
        assert ledger.store.select_index([UUID(e) for e in told]) == {}
        assert len(ledger.store.select_index([UUID(e) for e in done])) == MAX_QUEUED
