"""Faults are answers: a PostgreSQL server that is down or restarts, and days far outside the
years a case can hold, give typed errors with their statuses and exit codes, never a 500 or a
traceback. The outages are real: a PostgreSQL server of this module's own is stopped and
started again (the session's server is shared with other tests and is left alone)."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import Ledger
from ledger.errors import UnknownPerson
from ledger.wire import ndjson_lines
from tests.support.paths import SAMPLE_CASES
from tests.support.pg import PostgresCluster, require_postgres
from tests.support.server import LEDGER, Server, token
from tests.support.wire import WireCase

PERSON = "P-KBH-0003"
STATUS = f"/v1/persons/{PERSON}/status"
WARM_REQUESTS = 24  # enough at once to fill both of the server's connection pools
RECOVERY_S = 30  # how long /healthz may take to say ok again once the store is back


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    with PostgresCluster(require_postgres()) as own:
        yield own


class Served:
    def __init__(self, cluster: PostgresCluster, folder: Path) -> None:
        self.url = cluster.create_database(f"faults_{uuid.uuid4().hex}")
        with Ledger(self.url) as ledger:
            ledger.append_lines(ndjson_lines(SAMPLE_CASES.read_bytes()))
        self.investigator = token(self.url, "investigator")
        self.municipality = token(self.url, "municipality", "101")
        self.server = Server(self.url, folder / "serve.log")

    def warm(self) -> None:
        """Requests at once, so each pool holds several connections the restart will drop."""
        with (
            self.server.client(self.investigator) as client,
            ThreadPoolExecutor(WARM_REQUESTS) as pool,
        ):
            answers = list(pool.map(lambda _: client.get(STATUS), range(WARM_REQUESTS)))
        assert {a.status_code for a in answers} == {200}


def healthz_once_back(server: Server) -> httpx.Response:
    """``/healthz`` after the store is back: it says ok again within a bounded time (the
    pool's connections to the stopped server are found dead and replaced first)."""
    deadline = time.monotonic() + RECOVERY_S
    with server.client(None) as anyone:
        answer = anyone.get("/healthz")
        while answer.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
            answer = anyone.get("/healthz")
    return answer


@pytest.mark.slow
@pytest.mark.postgres
def test_after_a_postgresql_restart_not_one_request_fails(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    served = Served(cluster, tmp_path)
    with served.server:
        served.warm()
        cluster.restart()
        case = WireCase("P-RESTART")
        with (
            served.server.client(served.investigator) as investigator,
            served.server.client(served.municipality) as municipality,
        ):
            reads = [investigator.get(STATUS) for _ in range(WARM_REQUESTS)]
            append = municipality.post("/v1/events", json=[case.opened()])
            after = investigator.get("/v1/persons/P-RESTART/status")

    assert [r.status_code for r in reads] == [200] * WARM_REQUESTS
    assert append.status_code == 200, append.text
    assert after.status_code == 200, after.text


@pytest.mark.slow
@pytest.mark.postgres
def test_while_postgresql_is_down_requests_are_503_store_unavailable_and_healthz_says_so(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    served = Served(cluster, tmp_path)
    with served.server:
        served.warm()
        cluster.halt()
        try:
            with (
                served.server.client(None) as anyone,
                served.server.client(served.investigator) as investigator,
                served.server.client(served.municipality) as municipality,
            ):
                health = anyone.get("/healthz")
                read = investigator.get(STATUS)
                append = municipality.post("/v1/events", json=[WireCase("P-DOWN").opened()])
        finally:
            cluster.resume()
        healthy = healthz_once_back(served.server)
    log = served.server.log.read_text()

    assert (health.status_code, health.json()["status"]) == (503, "unavailable")
    for answer in (read, append):
        assert answer.status_code == 503, answer.text
        assert [e["code"] for e in answer.json()["errors"]] == ["store_unavailable"]
        assert int(answer.headers["Retry-After"]) > 0
    assert health.headers["Retry-After"] == read.headers["Retry-After"]
    assert healthy.json() == {"status": "ok", "store": "ok"}
    assert "Traceback" not in log
    assert "internal_error" not in read.text + append.text


def test_healthz_answers_ok_when_the_store_answers(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    with Ledger(db):
        pass
    with Server(db, tmp_path / "serve.log") as server, server.client(None) as anyone:
        health = anyone.get("/healthz")

    assert (health.status_code, health.json()) == (200, {"status": "ok", "store": "ok"})


# --- days far away, on the command line ------------------------------------------------------


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("faults") / "ledger.db")
    with Ledger(db) as ledger:
        ledger.append_lines(ndjson_lines(SAMPLE_CASES.read_bytes()))
    return db


@pytest.mark.parametrize(
    "options",
    [
        ["status", PERSON, "--as-of", "0001-01-01"],
        ["status", PERSON, "--as-of", "9999-12-31"],
        ["history", PERSON, "--as-of", "2026-02-30"],
        ["sanctions", PERSON, "--known-at", "0001-01-01T00:00:00+23:59"],
        ["status", PERSON, "--known-at", "9999-12-31T23:59:59-23:59"],
        ["deadlines", "--municipality", "101", "--on", "9999-12-31"],
        ["replay", PERSON, "--until", "0001-01-01"],
    ],
)
def test_a_day_outside_the_years_on_the_command_line_is_a_usage_error_without_traceback(
    loaded: str, options: list[str]
) -> None:
    result = CliRunner().invoke(cli, ["--db", loaded, *options, "--json"])

    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_the_edges_of_the_years_are_answered(loaded: str) -> None:
    first = CliRunner().invoke(
        cli, ["--db", loaded, "status", PERSON, "--json", "--as-of", "1900-01-01"]
    )
    last = CliRunner().invoke(
        cli, ["--db", loaded, "status", PERSON, "--json", "--as-of", "2100-12-31"]
    )

    assert (first.exit_code, last.exit_code) == (0, 0), first.output + last.output
    assert json.loads(last.stdout)["as_of"] == "2100-12-31"


def test_a_request_for_any_day_of_the_years_is_answered_over_http(
    loaded: str, tmp_path: Path
) -> None:
    secret = token(loaded, "investigator")
    with Server(loaded, tmp_path / "serve.log") as server, server.client(secret) as client:
        answers = [
            client.get(f"/v1/persons/{PERSON}/{kind}", params={"as_of": day})
            for kind in ("history", "sanctions", "status")
            for day in ("1900-01-01", "2100-12-31")
        ]

    assert [a.status_code for a in answers] == [200] * len(answers), [a.text for a in answers]


# --- a full disk -------------------------------------------------------------------------------
# The room left on the disk is set with RLIMIT_FSIZE in the child process: a write that would make
# a file larger than the limit fails as on a full disk (Python ignores SIGXFSZ, so the write
# returns the error instead of killing the process). Stepping the limit through the sizes at which
# opening the store, appending the events and updating the views each stop fitting meets every
# point at which a real disk could fill up.

ROOM_STEPS = range(16 * 1024, 96 * 1024, 8 * 1024)
DISK_EVENT = WireCase("P-DISK").opened()


@pytest.fixture(scope="module")
def viewed(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample cases appended by `ledger append`, so the views are up to date."""
    db = str(tmp_path_factory.mktemp("viewed") / "ledger.db")
    result = CliRunner().invoke(cli, ["--db", db, "append", str(SAMPLE_CASES)])
    assert result.exit_code == 0, result.output
    return db


def with_room(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [LEDGER, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        preexec_fn=limited,
    )


def stored(db: str, person: str) -> bool:
    with Ledger(db) as ledger:
        try:
            return bool(ledger.case_events(person, open_personal=False))
        except UnknownPerson:
            return False


@pytest.mark.slow
def test_at_any_room_left_an_append_is_stored_and_said_or_refused_typed_never_a_traceback(
    viewed: str, tmp_path: Path
) -> None:
    batch = tmp_path / "batch.ndjson"
    batch.write_text(json.dumps(DISK_EVENT) + "\n")
    outcomes = set()
    for limit in ROOM_STEPS:
        db = str(tmp_path / f"room-{limit}.db")
        shutil.copy(viewed, db)
        run = with_room(limit, "--db", db, "append", "--json", str(batch))

        assert "Traceback" not in run.stderr, (limit, run.stderr)
        answer = json.loads(run.stdout)
        if run.returncode == 0:
            assert answer["appended"] == 1
            assert stored(db, "P-DISK")
            outcomes.add("stored, views behind" if "views_behind" in answer else "stored")
        else:
            assert run.returncode == 1
            assert {e["code"] for e in answer["errors"]} <= {"store_error", "cannot_write"}
            assert not stored(db, "P-DISK")
            outcomes.add("refused")

    assert outcomes == {"refused", "stored, views behind", "stored"}


def test_the_views_left_behind_by_a_full_disk_catch_up_and_reads_answer_meanwhile(
    viewed: str, tmp_path: Path
) -> None:
    batch = tmp_path / "batch.ndjson"
    batch.write_text(json.dumps(DISK_EVENT) + "\n")
    for limit in ROOM_STEPS:
        db = str(tmp_path / f"room-{limit}.db")
        shutil.copy(viewed, db)
        run = with_room(limit, "--db", db, "append", "--json", str(batch))
        if run.returncode == 0 and "views_behind" in json.loads(run.stdout):
            break
    else:
        pytest.fail("no room size left the views behind")
    read = CliRunner().invoke(cli, ["--db", db, "status", "P-DISK", "--json"])

    assert "visningerne er bagud" in " ".join(run.stderr.split())  # Danish by default
    assert read.exit_code == 0, read.output
    assert json.loads(read.stdout)["person"] == "P-DISK"


def test_at_any_room_left_token_create_makes_a_token_or_answers_typed(
    viewed: str, tmp_path: Path
) -> None:
    answers = set()
    for limit in ROOM_STEPS:
        db = str(tmp_path / f"room-{limit}.db")
        shutil.copy(viewed, db)
        run = with_room(limit, "--db", db, "token", "create", "--role", "admin", "--json")

        assert "Traceback" not in run.stderr, (limit, run.stderr)
        assert run.returncode in {0, 1}
        answer = json.loads(run.stdout)
        answers.add("secret" in answer or answer["errors"][0]["code"])

    assert True in answers
    assert answers - {True} <= {"store_error", "cannot_write", "store_unavailable"}


def test_an_export_to_a_full_device_is_a_typed_error(loaded: str) -> None:
    run = subprocess.run(
        [LEDGER, "--db", loaded, "export", "--json", "--output", "/dev/full"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert [e["code"] for e in json.loads(run.stdout)["errors"]] == ["cannot_write"]
