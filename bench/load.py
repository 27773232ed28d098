"""Load on the HTTP API: a server on a free loopback port, and concurrent clients against it.

``server`` (``serving``: its URL alone) runs ``ledger serve`` in a child process for as long as
a ``with`` block lasts. ``measure`` keeps ``clients`` keep-alive connections busy for a fixed
time and reports throughput and latency percentiles; ``measure_appends`` does the same with
POSTed batches. Their clients speak just enough HTTP/1.1 themselves (one keep-alive connection
each, Content-Length bodies): on this 2-core machine an httpx client per caller halved the
requests per second measured from the same server (/healthz, 16 clients: 784 against 1,528), so
a full client library would measure itself more than the server. What is not timed (waiting for
the server, signing in to the pages) uses httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from statistics import quantiles
from typing import IO
from urllib.parse import urlsplit

import httpx

STARTUP_S = 60.0
STOP_S = 10.0
CLI = "import sys; from cli.main import main; sys.argv[0] = 'ledger'; main()"


class ServerFailed(RuntimeError):
    """The server did not come up, or a request did not get the answer it must."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ledger_command(db: str, *args: str, tree: Path | None = None) -> list[str]:
    """The argument vector of ``ledger --db db args…`` run by this interpreter (in the source
    tree of the working directory, when one is given to the child), or by the interpreter of
    ``tree``'s own environment (``.venv``) when it has one, so another revision is measured
    with the packages it depends on."""
    own = tree / ".venv" / "bin" / "python" if tree is not None else None
    python = str(own) if own is not None and own.exists() else sys.executable
    return [python, "-c", CLI, "--db", db, *args]


@contextlib.contextmanager
def server(
    db: str,
    log: Path | None = None,
    *,
    web: bool = False,
    env: Mapping[str, str] | None = None,
    tree: Path | None = None,
) -> Iterator[tuple[str, int]]:
    """``ledger serve`` on ``db`` (with the web pages when ``web``) at a free loopback port,
    with the environment ``env`` (default: this process's), from the source tree ``tree``
    (default: the working directory's); yields its base URL and process id."""
    port = free_port()
    with contextlib.ExitStack() as stack:
        stderr: IO[bytes] | int = (
            stack.enter_context(log.open("ab")) if log is not None else subprocess.DEVNULL
        )
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            ledger_command(
                db,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *(["--web"] * web),
                tree=tree,
            ),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
            cwd=tree,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(wait_until_healthy(base, process))
            yield base, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def serving(
    db: str, log: Path | None = None, *, web: bool = False, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """``server`` of this source tree; yields its base URL."""
    with server(db, log, web=web, env=env) as (base, _):
        yield base


async def wait_until_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_S
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerFailed(f"the server exited with code {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise ServerFailed(f"the server did not answer /healthz within {STARTUP_S} s")


class _Connection:
    """One keep-alive HTTP/1.1 connection that sends GETs and reads whole answers."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: bytes
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.headers = headers

    @classmethod
    async def open(cls, base: str, token: str | None, cookie: str | None = None) -> _Connection:
        url = urlsplit(base)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        reader, writer = await asyncio.open_connection(host, port)
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        auth += f"Cookie: {cookie}\r\n" if cookie else ""
        return cls(reader, writer, f"Host: {host}:{port}\r\n{auth}\r\n".encode())

    async def get(self, path: str) -> int:
        """Send one GET and read its answer; the status code."""
        return await self.send("GET", path)

    async def send(self, method: str, path: str, body: bytes = b"") -> int:
        """Send one request (a JSON body, if any) and read its answer; the status code."""
        sized = (
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
            if body
            else b""
        )
        self.writer.write(f"{method} {path} HTTP/1.1\r\n".encode() + sized + self.headers + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        length = None
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise ServerFailed(f"an answer without Content-Length: {status_line}")
        await self.reader.readexactly(length)
        return int(status_line.split(" ", 2)[1])

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def _get_load(
    base_url: str,
    paths: Sequence[str],
    token: str | None,
    clients: int,
    seconds: float,
    cookie: str | None,
) -> tuple[list[float], float]:
    latencies: list[float] = []
    callers = [await _Connection.open(base_url, token, cookie) for _ in range(clients)]
    started = time.perf_counter()
    deadline = started + seconds

    async def client(caller: _Connection, offset: int) -> None:
        turn = offset
        while time.perf_counter() < deadline:
            path = paths[turn % len(paths)]
            turn += 1
            sent = time.perf_counter()
            status = await caller.get(path)
            latencies.append(time.perf_counter() - sent)
            if status != 200:
                raise ServerFailed(f"GET {path} answered {status}")

    try:
        await asyncio.gather(*(client(c, i) for i, c in enumerate(callers)))
    finally:
        for caller in callers:
            await caller.close()
    return latencies, time.perf_counter() - started


def measure(
    base_url: str,
    paths: Sequence[str],
    token: str | None,
    clients: int = 16,
    seconds: float = 5,
    cookie: str | None = None,
) -> dict[str, float]:
    """GET ``paths`` (round robin) from ``clients`` concurrent connections for ``seconds``:
    ``{requests_per_s, p50_ms, p99_ms}``, with a bearer ``token`` or a session ``cookie``
    (``name=value``, see ``web_session``). Every answer must be 200."""
    latencies, elapsed = asyncio.run(_get_load(base_url, paths, token, clients, seconds, cookie))
    figures = summary(latencies, elapsed)
    return {
        "requests_per_s": figures["per_s"],
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
    }


def web_session(base_url: str, secret: str) -> str:
    """Sign in to the web pages with ``secret`` as a browser does (the form, its CSRF token);
    the session cookie as ``name=value``."""
    with httpx.Client(base_url=base_url) as client:
        form = client.get("/web/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        if not form.cookies or csrf is None:
            raise ServerFailed("the sign-in page set no session or CSRF token")
        signed = client.post("/web/sign-in", data={"token": secret, "csrf": csrf.group(1)})
        session = signed.headers.get("set-cookie")
        if signed.status_code != 303 or session is None:
            raise ServerFailed(f"signing in answered {signed.status_code}")
        return str(session.split(";", 1)[0])


async def _append_load(
    base_url: str,
    token: str,
    bodies: Sequence[Callable[[], bytes]],
    seconds: float,
    accepted: frozenset[int],
) -> list[tuple[int, float]]:
    """Each of ``bodies`` one keep-alive client POSTing what it makes to ``/v1/events`` for
    ``seconds``; (client, latency) of each answer, which must be one of ``accepted``."""
    answers: list[tuple[int, float]] = []
    callers = [await _Connection.open(base_url, token) for _ in bodies]
    deadline = time.perf_counter() + seconds

    async def client(number: int, caller: _Connection, make: Callable[[], bytes]) -> None:
        while time.perf_counter() < deadline:
            body = make()
            sent = time.perf_counter()
            status = await caller.send("POST", "/v1/events", body)
            answers.append((number, time.perf_counter() - sent))
            if status not in accepted:
                raise ServerFailed(f"POST /v1/events answered {status}")

    try:
        await asyncio.gather(
            *(client(n, c, make) for n, (c, make) in enumerate(zip(callers, bodies, strict=True)))
        )
    finally:
        for caller in callers:
            await caller.close()
    return answers


def measure_appends(
    base_url: str,
    token: str,
    bodies: Sequence[Callable[[], bytes]],
    seconds: float,
    accepted: frozenset[int] = frozenset({200}),
) -> list[tuple[int, float]]:
    """POST the batches ``bodies`` make, one keep-alive client each, for ``seconds``: (client,
    latency in seconds) of every answer."""
    return asyncio.run(_append_load(base_url, token, bodies, seconds, accepted))


def summary(latencies: Sequence[float], seconds: float) -> dict[str, float]:
    """``{per_s, p50_ms, p99_ms}`` of answers that took ``latencies`` over ``seconds``."""
    if len(latencies) < 2:
        return {"per_s": round(len(latencies) / seconds, 1), "p50_ms": 0.0, "p99_ms": 0.0}
    cuts = quantiles(latencies, n=100, method="inclusive")
    return {
        "per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
    }
