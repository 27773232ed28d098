"""Load on the HTTP API: a server on a free loopback port, and concurrent clients against it.

``serving`` runs ``ledger serve`` in a child process for as long as a ``with`` block lasts.
``measure`` keeps ``clients`` keep-alive connections busy for a fixed time and reports
throughput and latency percentiles. The clients speak just enough HTTP/1.1 themselves (GET,
Content-Length bodies): a full client library would spend more of the machine's time than the
server it is measuring.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from statistics import quantiles
from typing import IO
from urllib.parse import urlencode, urlsplit

STARTUP_S = 60.0
STOP_S = 10.0


class ServerFailed(RuntimeError):
    """The server did not come up, or a request did not get a well-formed answer."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(db: str, log: Path | None = None, *, web: bool = False) -> Iterator[str]:
    """``ledger serve`` on ``db`` (with the web pages when ``web``) at a free loopback port;
    yields its base URL."""
    port = free_port()
    with contextlib.ExitStack() as stack:
        stderr: IO[bytes] | int = (
            stack.enter_context(log.open("ab")) if log is not None else subprocess.DEVNULL
        )
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-c",
                "from cli.main import main; main()",
                "--db",
                db,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *(["--web"] if web else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(wait_until_healthy(base, process))
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def wait_until_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"the server exited with code {process.returncode}")
        with contextlib.suppress(OSError, ServerFailed):
            connection = await _Connection.open(base, token=None)
            try:
                if await connection.get("/healthz") == 200:
                    return
            finally:
                await connection.close()
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


async def _run(
    base_url: str,
    paths: Sequence[str],
    token: str | None,
    clients: int,
    seconds: float,
    cookie: str | None,
) -> tuple[list[float], float]:
    latencies: list[float] = []
    connections = [await _Connection.open(base_url, token, cookie) for _ in range(clients)]
    started = time.perf_counter()
    deadline = started + seconds

    async def client(connection: _Connection, offset: int) -> None:
        turn = offset
        while time.perf_counter() < deadline:
            path = paths[turn % len(paths)]
            turn += 1
            sent = time.perf_counter()
            status = await connection.get(path)
            latencies.append(time.perf_counter() - sent)
            if status != 200:
                raise ServerFailed(f"GET {path} answered {status}")

    try:
        await asyncio.gather(*(client(c, i) for i, c in enumerate(connections)))
    finally:
        for connection in connections:
            await connection.close()
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
    latencies, elapsed = asyncio.run(_run(base_url, paths, token, clients, seconds, cookie))
    figures = summary(latencies, elapsed)
    return {
        "requests_per_s": figures["per_s"],
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
    }


def web_session(base_url: str, secret: str) -> str:
    """Sign in to the web pages with ``secret`` as a browser does (the form, its CSRF token);
    the session cookie as ``name=value``."""
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80)
    try:
        connection.request("GET", "/web/sign-in")
        form = connection.getresponse()
        page = form.read().decode()
        cookie = _cookie(form.getheader("set-cookie"))
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        if cookie is None or csrf is None:
            raise ServerFailed("the sign-in page set no session or CSRF token")
        body = urlencode({"token": secret, "csrf": csrf.group(1)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        connection.request("POST", "/web/sign-in", body, headers)
        signed = connection.getresponse()
        signed.read()
        session = _cookie(signed.getheader("set-cookie"))
        if signed.status != 303 or session is None:
            raise ServerFailed(f"signing in answered {signed.status}")
        return session
    finally:
        connection.close()


def _cookie(header: str | None) -> str | None:
    return header.split(";", 1)[0] if header else None


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
    connections = [await _Connection.open(base_url, token) for _ in bodies]
    deadline = time.perf_counter() + seconds

    async def client(number: int, connection: _Connection, make: Callable[[], bytes]) -> None:
        while time.perf_counter() < deadline:
            body = make()
            sent = time.perf_counter()
            status = await connection.send("POST", "/v1/events", body)
            answers.append((number, time.perf_counter() - sent))
            if status not in accepted:
                raise ServerFailed(f"POST /v1/events answered {status}")

    try:
        await asyncio.gather(
            *(
                client(n, c, make)
                for n, (c, make) in enumerate(zip(connections, bodies, strict=True))
            )
        )
    finally:
        for connection in connections:
            await connection.close()
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
