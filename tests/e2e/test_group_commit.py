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
import psycopg
import pytest
from click.testing import CliRunner

from api.observe import Metrics
from api.service import Busy, Service
from api.tokens import Token
from cli.main import cli
from ledger.application import AppendResult, Ledger
from ledger.config import Settings
from ledger.errors import BatchRefused, LedgerError, StoreError
from ledger.records import stream_id
from ledger.stores.aio import AsyncStore
from projections.views import PAGE, Reader, ReadService, ServedViews, Views, When
from tests.support.server import Server, token
from tests.support.tamper import execute
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


def test_an_event_sent_again_in_a_later_group_is_a_duplicate_and_the_group_is_stored(
    store_url: str,
) -> None:
    case, other = WireCase("P-GC-RESENT"), WireCase("P-GC-RESENT-OTHER")
    contact = case.event("ContactAttempted", channel="letter", reached=False)
    later = case.event("ContactAttempted", channel="phone", reached=True)
    with Ledger(store_url) as ledger:
        (first,) = together(ledger, [case.opened(), contact])
        outcomes = together(ledger, [contact], [other.opened()], [later])
        report = ledger.verify()

    assert isinstance(first, AppendResult)
    again, opened, appended = outcomes
    assert isinstance(again, AppendResult)
    assert (again.appended, again.duplicates) == (0, 1)
    assert again.results[0].position == first.results[1].position
    assert isinstance(opened, AppendResult)
    assert isinstance(appended, AppendResult)
    assert (opened.appended, appended.appended) == (1, 1)
    assert report.ok
    assert report.checked == 4


def test_a_case_another_writer_changed_meanwhile_leaves_the_group_stored(store_url: str) -> None:
    case, other = WireCase("P-GC-STALE"), WireCase("P-GC-STALE-OTHER")
    with Ledger(store_url) as ledger, Ledger(store_url) as elsewhere:
        together(ledger, [case.opened()])  # this ledger now knows the case at version 1
        elsewhere.append_lines(
            lines([case.event("ContactAttempted", channel="letter", reached=False)])
        )
        outcomes = together(
            ledger,
            [case.event("ContactAttempted", channel="phone", reached=True)],
            [other.opened()],
        )
        versions = [e.version for e in ledger.case_events(case.person)]
        report = ledger.verify()

    assert [o.appended for o in outcomes if isinstance(o, AppendResult)] == [1, 1]
    assert versions == [1, 2, 3]
    assert report.ok


def test_an_event_sent_twice_in_one_group_is_answered_as_in_two_groups(store_url: str) -> None:
    def answers(outcomes: list[AppendResult | LedgerError]) -> list[object]:
        """Each answer, positions told relative to the first's."""
        first = outcomes[0]
        assert isinstance(first, AppendResult)
        return [
            (
                o.appended,
                o.duplicates,
                [(r.status, r.position == first.position) for r in o.results],
            )
            if isinstance(o, AppendResult)
            else codes(o)
            for o in outcomes
        ]

    seen: dict[str, list[object]] = {}
    with Ledger(store_url) as ledger:
        for groups in ("one", "two"):
            case = WireCase(f"P-GC-TWICE-{groups}")
            together(ledger, [case.opened()])
            contact = case.event("ContactAttempted", channel="letter", reached=False)
            batches = [[contact], [contact], [{**contact, "reached": True}]]
            seen[groups] = answers(
                together(ledger, *batches)
                if groups == "one"
                else [together(ledger, batch)[0] for batch in batches]
            )

    assert seen["one"] == seen["two"]
    assert seen["one"] == [
        (1, 0, [("appended", True)]),
        (0, 1, [("duplicate", True)]),
        ["duplicate_conflict"],
    ]


def test_the_positions_a_group_answers_are_where_its_events_are_stored(store_url: str) -> None:
    a, b, c = WireCase("P-GC-POS-A"), WireCase("P-GC-POS-B"), WireCase("P-GC-POS-C")
    offer = a.offer("O-1")
    batches = [
        [a.opened(), offer],
        [b.opened()],
        [offer],  # nothing new: answers the head as the appends before it left it
        [WireCase("P-GC-POS-NEVER").offer("O-1")],  # refused
        [c.opened(), b.offer("O-1")],
    ]
    with Ledger(store_url) as ledger:
        # More events than an append outside a group tries positions, should it be handed
        # positions the group took.
        together(ledger, *([WireCase(f"P-GC-POS-BEFORE-{n}").opened()] for n in range(10)))
        outcomes = together(ledger, *batches)
        answered = [o for o in outcomes if isinstance(o, AppendResult)]
        ids = [UUID(r.event_id) for o in answered for r in o.results]
        stored = {str(k): v.position for k, v in ledger.store.select_index(ids).items()}
        after = ledger.append_lines(lines([c.offer("O-1")]))  # outside any group
        report = ledger.verify()

    assert [[r.position for r in o.results] for o in answered] == [
        [stored[r.event_id] for r in o.results] for o in answered
    ]
    assert [o.position for o in answered] == [12, 13, 13, 15]
    assert [[r.position for r in o.results] for o in answered] == [[11, 12], [13], [12], [14, 15]]
    assert after.position == 16
    assert report.ok


def test_an_append_that_reads_its_case_sees_what_its_group_wrote_before_it(
    store_url: str,
) -> None:
    case = WireCase("P-GC-READS")
    offer = case.offer("O-1")
    retraction = case.event("EventRetracted", retracts=offer["event_id"], reason="entered twice")
    read: list[int] = []
    with Ledger(store_url) as ledger:

        def read_then_retract() -> AppendResult:
            read.append(len(ledger.case_events(case.person)))
            return ledger.append_lines(lines([retraction]))

        outcomes = ledger.append_together(
            [partial(ledger.append_lines, lines([case.opened(), offer])), read_then_retract]
        )
        report = ledger.verify()

    assert [o.appended for o in outcomes if isinstance(o, AppendResult)] == [2, 1]
    assert read == [2]
    assert report.ok


# --- what PostgreSQL does with a group ----------------------------------------------------------


def xmins(store: str, positions: list[int]) -> set[str]:
    """The (sub)transactions that wrote the rows at these positions."""
    with psycopg.connect(store) as conn:
        rows = conn.execute(
            "SELECT xmin::text FROM ledger_events WHERE notification_id = ANY(%s)", (positions,)
        ).fetchall()
    return {row[0] for row in rows}


def test_a_group_of_appends_is_written_by_one_insert_not_one_savepoint_each(pg_url: str) -> None:
    cases = [WireCase(f"P-GC-ONE-{n}") for n in range(8)]
    with Ledger(pg_url) as ledger:
        outcomes = together(ledger, *([c.opened()] for c in cases))

    positions = [o.position for o in outcomes if isinstance(o, AppendResult)]
    assert positions == list(range(1, 9))
    assert len(xmins(pg_url, [p for p in positions if p is not None])) == 1


def test_a_request_the_store_refuses_leaves_the_others_of_its_group_stored(pg_url: str) -> None:
    refused = WireCase("P-GC-STORE-REFUSES")
    a, b = WireCase("P-GC-STORE-A"), WireCase("P-GC-STORE-B")
    with Ledger(pg_url) as ledger:
        execute(
            pg_url,
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by the store'; END $$; "
            "CREATE TRIGGER refuse BEFORE INSERT ON ledger_events FOR EACH ROW "
            f"WHEN (NEW.originator_id = '{stream_id(refused.person)}') EXECUTE FUNCTION refuse()",
        )
        outcomes = together(ledger, [a.opened()], [refused.opened()], [b.opened()])
        stored = [n.originator_id for n in ledger.store.iter_notifications()]
        report = ledger.verify()

    first, store_error, last = outcomes
    assert isinstance(first, AppendResult)
    assert isinstance(last, AppendResult)
    assert isinstance(store_error, StoreError)
    assert store_error.code == "store_error"
    assert stored == [stream_id(a.person), stream_id(b.person)]
    assert report.ok


def test_a_group_whose_commit_fails_answers_store_error_for_every_append_it_was_to_store(
    pg_url: str,
) -> None:
    a, b = WireCase("P-GC-COMMIT-A"), WireCase("P-GC-COMMIT-B")
    with Ledger(pg_url) as ledger:
        ledger.append_lines(lines([WireCase("P-GC-COMMIT-BEFORE").opened()]))
        # A constraint checked only at commit, once every row was sent and accepted.
        execute(
            pg_url,
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$; "
            "CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON ledger_events "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()",
        )
        opening = a.opened()
        outcomes = together(
            ledger,
            [opening],
            [WireCase("P-GC-COMMIT-NEVER").offer("O-1")],
            [b.opened()],
        )
        head = ledger.head_position()
        execute(pg_url, "DROP TRIGGER refuse ON ledger_events")
        again = together(ledger, [opening], [a.offer("O-1")])
        report = ledger.verify()

    assert [o.code for o in outcomes if isinstance(o, LedgerError)] == [
        "store_error",
        "batch_refused",
        "store_error",
    ]
    assert codes(outcomes[1]) == ["case_not_open"]
    assert head == 1
    assert [o.appended for o in again if isinstance(o, AppendResult)] == [1, 1]
    assert report.ok


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
