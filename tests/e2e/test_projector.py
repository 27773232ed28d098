"""The views are kept by a process of the server's own (``api.projector``): it follows the
server's commits, is started again if it ends, and never outlives the server, even one killed
with ``kill -9``. Against a real `ledger serve` on a real SQLite file."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from api.projector import PROJECTOR_NICENESS
from bench.load import free_port
from bench.writes import children, event
from tests.support.server import LEDGER, NDJSON, Live, samples_served
from tests.support.wire import ndjson

WITHIN_S = 20.0


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with samples_served(tmp_path, ["municipality"]) as served:
        yield served


def projectors_of(pid: int) -> list[int]:
    """The server's projector processes: its children started by ``multiprocessing``."""
    found = []
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:  # ended meanwhile
            continue
        if b"spawn_main" in command:
            found.append(child)
    return found


def positions(client: httpx.Client) -> tuple[int, int]:
    """The ledger's head and the views' position, as /metrics says them."""
    values = {}
    for line in client.get("/metrics").text.splitlines():
        name, _, value = line.partition(" ")
        if name in {"ledger_head_position", "ledger_views_position"}:
            values[name] = int(value)
    return values["ledger_head_position"], values["ledger_views_position"]


def until(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WITHIN_S
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.1)
    pytest.fail(f"not within {WITHIN_S} s: {what}")


def new_case() -> bytes:
    """A batch opening a new case in municipality 101."""
    return ndjson([event(f"P-NEW-{uuid.uuid4().hex[:8]}", "ResponsibilityAssumed")])


def caught_up(client: httpx.Client) -> bool:
    head, views = positions(client)
    return views == head


def niceness(pid: int) -> int:
    """A process's nice value, as the system keeps it (``/proc/PID/stat``, field 19)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rpartition(")")[2].split()[16])


def test_the_projector_yields_the_cores_to_the_requests(live: Live) -> None:
    server = live.server.process.pid
    until(lambda: bool(projectors_of(server)), "the projector runs")
    (projector,) = projectors_of(server)
    until(
        lambda: niceness(projector) == niceness(server) + PROJECTOR_NICENESS,
        "the projector lowers its priority",
    )


def test_the_views_follow_the_servers_commits_from_a_process_of_their_own(live: Live) -> None:
    (projector,) = projectors_of(live.server.process.pid)
    with live.client("municipality") as client:
        answer = client.post("/v1/events", content=new_case(), headers=NDJSON)
        assert answer.status_code == 200, answer.text
        until(lambda: caught_up(client), "the views reach the appended event")
        head, _ = positions(client)
        assert head == answer.json()["position"]
    assert projectors_of(live.server.process.pid) == [projector]


def test_a_projector_that_ends_is_started_again_and_the_views_follow(live: Live) -> None:
    (first,) = projectors_of(live.server.process.pid)
    os.kill(first, signal.SIGKILL)
    with live.client("municipality") as client:
        until(
            lambda: projectors_of(live.server.process.pid) not in ([], [first]),
            "another projector is started",
        )
        answer = client.post("/v1/events", content=new_case(), headers=NDJSON)
        assert answer.status_code == 200, answer.text
        until(lambda: caught_up(client), "the views reach the event appended after the restart")
    assert "the views' projector ended" in live.server.log.read_text()


def test_the_projector_never_outlives_a_server_killed_with_kill_9(live: Live) -> None:
    projectors = projectors_of(live.server.process.pid)
    assert len(projectors) == 1
    live.server.kill()
    until(
        lambda: not any(Path(f"/proc/{pid}").exists() for pid in projectors),
        "the projector ends with its server",
    )


def test_ctrl_c_stops_the_server_and_its_projector_without_a_traceback(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    log = tmp_path / "serve.log"
    with log.open("ab") as sink:
        server = subprocess.Popen(
            [LEDGER, "--db", db, "serve", "--port", str(free_port())],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            start_new_session=True,  # a group of its own, as a terminal's foreground job is
        )
    try:
        until(lambda: len(projectors_of(server.pid)) == 1, "the projector starts")
        projectors = projectors_of(server.pid)
        os.killpg(server.pid, signal.SIGINT)  # what Ctrl+C sends
        assert server.wait(timeout=WITHIN_S) == 0
    finally:
        if server.poll() is None:
            server.kill()
    until(
        lambda: not any(Path(f"/proc/{pid}").exists() for pid in projectors),
        "the projector ends with its server",
    )
    assert "Traceback" not in log.read_text()
