"""The real command line and a real `ledger serve` process, for the tests that drive them from
outside: crash, concurrency, fuzzing and log checks over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Self

import httpx

from bench.load import free_port
from ledger.application import Ledger
from ledger.wire import ndjson_lines
from tests.support.paths import SAMPLE_CASES

LEDGER = str(Path(sys.executable).parent / "ledger")
STARTUP_S = 30
NDJSON = {"Content-Type": "application/x-ndjson"}
JSON = {"Content-Type": "application/json"}


def token(db: str, role: str, municipality: str | None = None) -> str:
    """A new API token's secret, made with `ledger token create`."""
    where = ["--municipality", municipality] if municipality else []
    made = subprocess.run(
        [LEDGER, "--db", db, "token", "create", "--role", role, *where, "--json"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    secret: str = json.loads(made.stdout)["secret"]
    return secret


class Server:
    """`ledger serve` on a free port, its log in a file; killed or stopped on leaving."""

    def __init__(self, db: str, log: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = log
        with log.open("ab") as sink:
            self.process = subprocess.Popen(
                [LEDGER, "--db", db, "serve", "--port", self.url.rsplit(":", 1)[1]],
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_S
        with httpx.Client(base_url=self.url) as client:
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if client.get("/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"`ledger serve` did not start: {self.log.read_text()}")

    def client(self, secret: str | None) -> httpx.Client:
        """A client sending ``secret`` as its bearer token (None: no Authorization header)."""
        headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=60)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class Live(NamedTuple):
    """The fixture cases served by `ledger serve`, with a token for each role asked for."""

    db: str
    server: Server
    secrets: dict[str, str]

    def client(self, role: str) -> httpx.Client:
        return self.server.client(self.secrets[role])


@contextmanager
def samples_served(folder: Path, roles: Sequence[str]) -> Iterator[Live]:
    """The fixture cases in a new store in ``folder``, served; a municipality's token is 101's."""
    db = str(folder / "ledger.db")
    with Ledger(db) as ledger:
        ledger.append_lines(ndjson_lines(SAMPLE_CASES.read_bytes()))
    secrets = {role: token(db, role, "101" if role == "municipality" else None) for role in roles}
    with Server(db, folder / "serve.log") as server:
        yield Live(db, server, secrets)
