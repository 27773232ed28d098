"""Crash safety: `ledger append`, or `ledger serve` in the middle of `POST /v1/events`, killed
with SIGKILL at a random moment of a batch import leaves the batch stored completely or not at
all, on both stores; the ledger still verifies, and the same batch sent again stores exactly
what is missing."""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from bench.workload import workload
from ledger.application import Ledger
from ledger.events import encode_event
from ledger.wire import ndjson_lines
from tests.support.server import LEDGER, NDJSON, Server, token
from tests.support.wire import WireCase, ndjson

KILLS = 6
HTTP_KILLS = 4
NEW_EVENTS = 2950  # new cases a batch opens; plus one event for each long-running case
MUNICIPALITY = "101"


def long_running(store_url: str) -> list[WireCase]:
    """Cases every batch continues, opened before the first batch."""
    cases = [WireCase(f"P-LONG-{n}", MUNICIPALITY) for n in range(50)]
    with Ledger(store_url) as ledger:
        ledger.append_lines(ndjson_lines(ndjson(c.opened() for c in cases)))
    return cases


def continued(cases: list[WireCase]) -> bytes:
    return ndjson(c.event("ContactAttempted", channel="letter", reached=False) for c in cases)


def batch(round_: int, cases: list[WireCase]) -> bytes:
    """New cases of every kind and municipality, and one more event in each long-running case."""
    return (
        b"\n".join(encode_event(e) for e in workload(NEW_EVENTS, seed=round_))
        + b"\n"
        + (continued(cases))
    )


def municipal_batch(round_: int, cases: list[WireCase]) -> bytes:
    """What one municipality's case system sends: new cases of its own, with personal data,
    and one more event in each long-running case."""
    new = []
    for number in range(NEW_EVENTS // 10):
        case = WireCase(f"P-H{round_}-{number}", MUNICIPALITY)
        new.append(case.opened(personal={"name": "Amina Hansen"}))
        new += [case.event("ContactAttempted", channel="phone", reached=False) for _ in range(9)]
    return ndjson(new) + continued(cases)


def check_after_kill(store_url: str, data: bytes, acknowledged: bool, what: str) -> str:
    """All or nothing stored, everything acknowledged stored, the ledger verifies, and the same
    batch sent again stores exactly what is missing; how the kill landed."""
    lines = ndjson_lines(data)
    with Ledger(store_url) as ledger:
        ids = [UUID(json.loads(line.raw)["event_id"]) for line in lines]
        stored = len(ledger.store.select_index(ids))
        report = ledger.verify()
        again = ledger.append_lines(lines)
    what += f", {stored} of {len(lines)} stored"
    assert stored in {0, len(lines)}, what
    assert stored == len(lines) or not acknowledged, what
    assert report.ok, (what, report.first_failure)
    assert (again.duplicates, again.appended) == (stored, len(lines) - stored), what
    return "acknowledged" if acknowledged else "complete" if stored else "nothing"


def append_in_a_process(db: str, path: Path, delay: float | None) -> tuple[bool, int]:
    """Run the real CLI on a batch, SIGKILL it after ``delay`` seconds (unless it finished);
    (acknowledged, exit code)."""
    command = [LEDGER, "--db", db, "append", "--json", str(path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as writer:
        if delay is not None:
            time.sleep(delay)
            writer.kill()
        out, err = writer.communicate(timeout=120)
    assert writer.returncode in {0, -9}, err.decode()
    acknowledged = writer.returncode == 0 and "appended" in json.loads(out)
    return acknowledged, writer.returncode


@pytest.mark.slow
def test_a_killed_batch_import_is_all_or_nothing_and_can_be_sent_again(
    store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    rng = random.Random()
    inside_before = _killed_inside_a_transaction(request)
    cases = long_running(store_url)

    path = tmp_path / "batch-0.ndjson"
    path.write_bytes(batch(0, cases))
    first: list[tuple[bool, int]] = []
    commit = seconds_to_commit(
        store_url, lambda: first.append(append_in_a_process(store_url, path, None))
    )
    assert first == [(True, 0)]

    outcomes = []
    for round_ in range(1, KILLS + 1):
        path = tmp_path / f"batch-{round_}.ndjson"
        path.write_bytes(batch(round_, cases))
        delay = rng.uniform(0.5 * commit, 1.2 * commit)
        acknowledged, code = append_in_a_process(store_url, path, delay)
        what = f"round {round_}: killed after {delay:.3f}s, exit {code}"
        outcomes.append(check_after_kill(store_url, path.read_bytes(), acknowledged, what))

    with Ledger(store_url) as ledger:
        final = ledger.verify()
    assert final.ok, final.first_failure
    assert final.checked == len(cases) + (KILLS + 1) * (NEW_EVENTS + len(cases))
    inside = _killed_inside_a_transaction(request) - inside_before
    print(f"{KILLS} kills around {commit:.2f}s: {outcomes}; inside a transaction: {inside}")


@pytest.mark.slow
def test_a_server_killed_during_a_batch_leaves_it_all_or_nothing(
    store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    rng = random.Random()
    inside_before = _killed_inside_a_transaction(request)
    cases = long_running(store_url)
    secret = token(store_url, "municipality", MUNICIPALITY)
    log = tmp_path / "serve.log"

    first: list[httpx.Response] = []
    with Server(store_url, log) as server, server.client(secret) as client:
        commit = seconds_to_commit(
            store_url,
            lambda: first.append(
                client.post("/v1/events", content=municipal_batch(0, cases), headers=NDJSON)
            ),
        )
    assert first[0].status_code == 200, first[0].text

    outcomes = []
    for round_ in range(1, HTTP_KILLS + 1):
        data = municipal_batch(round_, cases)
        delay = rng.uniform(0.3 * commit, 1.2 * commit)
        with Server(store_url, log) as server:
            response = post_while_killing(server, secret, data, delay)
        acknowledged = response is not None and response.status_code == 200
        what = f"round {round_}: server killed after {delay:.3f}s, answered {response}"
        outcomes.append(check_after_kill(store_url, data, acknowledged, what))

    inside = _killed_inside_a_transaction(request) - inside_before
    print(f"{HTTP_KILLS} server kills around {commit:.2f}s: {outcomes}; inside: {inside}")


def seconds_to_commit(store_url: str, run: Callable[[], object]) -> float:
    """Run an undisturbed import in the background and time how long until a reader of the
    store sees its batch committed: the moment the kills are drawn around."""
    with Ledger(store_url) as ledger:
        before = ledger.head_position()
        worker = threading.Thread(target=run)
        started = time.monotonic()
        worker.start()
        while ledger.head_position() == before and worker.is_alive():
            time.sleep(0.002)
        committed = time.monotonic() - started
        worker.join()
    return committed


def post_while_killing(
    server: Server, secret: str, data: bytes, delay: float
) -> httpx.Response | None:
    """POST a batch and SIGKILL the server ``delay`` seconds later; its answer, if one came."""
    answers: list[httpx.Response] = []
    with server.client(secret) as client:

        def post() -> None:
            with contextlib.suppress(httpx.TransportError):
                answers.append(client.post("/v1/events", content=data, headers=NDJSON))

        poster = threading.Thread(target=post)
        poster.start()
        time.sleep(delay)
        server.kill()
        poster.join()
    return answers[0] if answers else None


def _killed_inside_a_transaction(request: pytest.FixtureRequest) -> int:
    """How many clients the PostgreSQL server saw vanish inside a transaction (none counted
    on SQLite, which leaves no such trace)."""
    if "pg_url" not in request.fixturenames:
        return 0
    log = request.getfixturevalue("pg_cluster").log_file.read_text(errors="replace")
    return log.count("unexpected EOF on client connection with an open transaction")


@pytest.mark.slow
def test_a_server_killed_during_group_commits_keeps_every_acknowledged_request_whole(
    store_url: str, tmp_path: Path
) -> None:
    """Many clients appending small batches at once, so their requests are committed in groups;
    the server killed at a random moment: every request is stored whole or not at all, every
    acknowledged one whole, and the ledger verifies."""
    rng = random.Random()
    secret = token(store_url, "municipality", MUNICIPALITY)
    sent: list[tuple[list[str], bool]] = []  # each request's event ids, and whether it was acked
    for round_ in range(HTTP_KILLS):
        with Server(store_url, tmp_path / "server.log") as server:

            def keep_posting(client_no: int, server: Server = server, round_: int = round_) -> None:
                with server.client(secret) as client:
                    for n in range(10_000):
                        case = WireCase(f"P-GROUP-{round_}-{client_no}-{n}", MUNICIPALITY)
                        body = [
                            case.opened(),
                            case.event("ContactAttempted", channel="letter", reached=False),
                            case.event("ContactAttempted", channel="phone", reached=True),
                        ]
                        ids = [event["event_id"] for event in body]
                        try:
                            answer = client.post("/v1/events", json=body)
                        except httpx.TransportError:
                            sent.append((ids, False))
                            return
                        sent.append((ids, answer.status_code == 200))

            clients = [threading.Thread(target=keep_posting, args=(c,)) for c in range(16)]
            for client in clients:
                client.start()
            time.sleep(rng.uniform(0.5, 1.5))
            server.kill()
            for client in clients:
                client.join()
    with Ledger(store_url) as ledger:
        stored = [len(ledger.store.select_index([UUID(i) for i in ids])) for ids, _ in sent]
        report = ledger.verify()
    acknowledged = [count for count, (_, acked) in zip(stored, sent, strict=True) if acked]
    assert set(stored) <= {0, 3}
    assert acknowledged
    assert set(acknowledged) == {3}
    assert report.ok, report.first_failure
