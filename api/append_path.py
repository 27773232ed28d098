"""``POST /v1/events`` answered at the ASGI level: the hot path of a busy server.

Appends are what the API does most under load, and on the event loop Litestar's layers around
the append route cost more than the append itself (profiled with 64 clients appending one event
each: the authentication middleware, the role guard, the strict-input hook, dependency injection,
parameter parsing and the response machinery held about half of the loop's time). So
``AppendPath`` stands in front of the Litestar app and answers a plain append itself, with what
the Litestar route (``api.app.append_events``) uses too: ``bearer_secret`` and the token waves
for who is asking, ``APPEND_ROLES`` for who may, ``batch_lines`` for the body and
``Service.append`` for the write.

Plain means: ``POST /v1/events`` with no query string; one ``Authorization: Bearer`` header
naming a live token of a role that may append; one ``Content-Type`` header that is exactly a
type the API reads, without parameters; no ``Content-Encoding``; one ``Content-Length`` within
the body limit; a whole body that is a batch of at most ``MAX_BATCH_EVENTS`` lines. Any other
request (and one whose token the store did not answer for) goes to the Litestar app unchanged,
with the body read so far handed on, so every refusal of a request is the route's own, word for
word: status, errors in the caller's language, headers. What the append itself refuses or fails
with is answered by the app's own exception handlers, as Litestar answers it. The OpenAPI
document describes the Litestar route, which this path answers for.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPReceiveMessage,
    HTTPRequestEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
    WebSocketReceiveMessage,
)

from api.roles import Role
from ledger.errors import LedgerError
from ledger.wire import Line, json_array_items, ndjson_lines

if TYPE_CHECKING:
    from litestar import Litestar

    from api.service import Service
    from api.tokens import Token

APPEND_PATH = "/v1/events"
APPEND_ROLES: tuple[Role, ...] = ("municipality",)
MAX_BODY_BYTES = 16 << 20
MAX_BATCH_EVENTS = 10_000
JSON = "application/json"
NDJSON = ("application/x-ndjson", "application/ndjson")
BODY_TYPES = (JSON, *NDJSON)  # INTERFACE.md: every other body is 415


class TooLarge(LedgerError):
    code = "too_large"


def bearer_secret(authorization: str) -> str | None:
    """The secret of an ``Authorization: Bearer TOKEN`` header; None when it names none."""
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None


def batch_lines(body: bytes, media_type: str) -> list[Line]:
    """The lines of a batch body: NDJSON, or the items of a JSON array; refused when the batch
    is longer than the API takes."""
    lines = ndjson_lines(body) if media_type in NDJSON else json_array_items(body)
    if len(lines) > MAX_BATCH_EVENTS:
        raise TooLarge(
            "a batch holds at most {MAX_BATCH_EVENTS} events, not {count}",
            MAX_BATCH_EVENTS=MAX_BATCH_EVENTS,
            count=len(lines),
        )
    return lines


# The request headers the plain path reads, each of which it takes only when sent once.
_READ = frozenset({b"authorization", b"content-type", b"content-length", b"content-encoding"})
_BODY_TYPES = frozenset(kind.encode() for kind in BODY_TYPES)
_ANSWER_TYPE = (b"content-type", JSON.encode())


class _Plain(NamedTuple):
    """What a plain append request says in its headers."""

    secret: str
    media_type: str


def _plain(headers: Iterable[tuple[bytes, bytes]]) -> _Plain | None:
    """The headers of a plain append request, or None when the Litestar route is to judge."""
    read: dict[bytes, bytes] = {}
    for name, value in headers:
        if name in _READ:
            if name in read:
                return None
            read[name] = value
    length = read.get(b"content-length", b"")
    media_type = read.get(b"content-type")
    secret = bearer_secret(read.get(b"authorization", b"").decode("latin-1"))
    if (
        secret is None
        or media_type not in _BODY_TYPES
        or b"content-encoding" in read
        or not length.isdigit()
        or int(length) > MAX_BODY_BYTES
    ):
        return None
    return _Plain(secret, media_type.decode())


def _replaying(body: bytes, *, complete: bool, receive: Receive) -> Receive:
    """``receive`` with ``body``, already read from it, handed out first."""
    pending = [body]

    async def replay() -> HTTPReceiveMessage | WebSocketReceiveMessage:
        if pending:
            again: HTTPRequestEvent = {
                "type": "http.request",
                "body": pending.pop(),
                "more_body": not complete,
            }
            return again
        return await receive()

    return replay


async def _appender(service: Service, secret: str) -> Token | None:
    """The live token with ``secret`` if it may append. None when it may not, is unknown, or
    the store did not answer: the route then asks again and answers what it finds."""
    try:
        token = await service.tokens.authenticate(secret)
    except Exception:  # noqa: BLE001 - the route's to answer, as it answers it
        return None
    return token if token is not None and token.role in APPEND_ROLES else None


async def _body(receive: Receive) -> tuple[bytes, bool]:
    """The body of a request, and whether it came whole (not: the caller went away first)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


class AppendPath:
    """The Litestar ``app``, with plain appends answered before it (see the module)."""

    def __init__(self, app: Litestar) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != ScopeType.HTTP
            or scope["path"] != APPEND_PATH
            or scope["method"] != "POST"
            or scope["query_string"]
        ):
            await self.app(scope, receive, send)
            return
        plain = _plain(scope["headers"])
        service: Service = self.app.state.service
        token = None if plain is None else await _appender(service, plain.secret)
        if plain is None or token is None:
            await self.app(scope, receive, send)
            return
        body, whole = await _body(receive)
        try:
            lines = batch_lines(body, plain.media_type) if whole else None
        except LedgerError:
            lines = None
        if lines is None:  # the route refuses it, in its own words
            await self.app(scope, _replaying(body, complete=whole, receive=receive), send)
            return
        # What the route's layers would have told the log (``api.observe``).
        scope["path_template"] = APPEND_PATH
        scope["user"], scope["auth"] = token, token.id
        try:
            result = await service.append(token, lines)
        except Exception as exc:  # noqa: BLE001 - answered as the app answers it
            await self._refused(scope, receive, send, exc)
            return
        answer = msgspec.json.encode(result)
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 200,
            "headers": [_ANSWER_TYPE, (b"content-length", str(len(answer)).encode())],
        }
        await send(start)
        await send({"type": "http.response.body", "body": answer, "more_body": False})

    async def _refused(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        """The answer of the app's exception handler for ``exc`` (the most specific class
        handled, as Litestar picks it)."""
        handlers = self.app.exception_handlers
        handler = next(handlers[cls] for cls in type(exc).__mro__ if cls in handlers)
        request: Request[Any, Any, Any] = Request(scope, receive, send)
        answer: ASGIApp = handler(request, exc).to_asgi_response(app=None, request=request)
        await answer(scope, receive, send)
