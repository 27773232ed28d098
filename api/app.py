"""The HTTP API (INTERFACE.md, "HTTP API"): routes, roles, and errors as JSON, in one place.

A thin face over ``api.service``: each handler checks who is asking (a bearer token and its
role), calls one method and returns its answer. Every error, whatever raised it, leaves as
``{"errors": [...]}`` with the status INTERFACE.md names; nothing the caller sends produces a
500 (the catch-all handler exists for the server's own faults, and logs them).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, Response, Router, delete, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import ResponseHeader, State
from litestar.di import Provide
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    SerializationException,
    ValidationException,
)
from litestar.handlers import HTTPRouteHandler
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
    DefineMiddleware,
)
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.params import Parameter
from litestar.types import ASGIApp

from api.observe import Metrics, Observed
from api.service import (
    AccessLogPage,
    Service,
    StatusFeed,
    StatusRequest,
    StatusRetraction,
)
from api.tokens import IssuedToken, Role, Token, UnknownToken
from ledger.application import AppendResult, VerifyReport
from ledger.errors import (
    WIRE_CODES,
    BatchRefused,
    ConcurrentWrites,
    DuplicateConflict,
    ErrorDetail,
    Forbidden,
    InvalidField,
    InvalidJson,
    LedgerError,
    StoreError,
    UnknownPerson,
)
from ledger.events import EVENT_TYPES
from ledger.rulepacks import LATEST_REVISION, check_revision
from ledger.wire import Line, json_array_items, ndjson_lines
from projections.views import When

logger = logging.getLogger("ledger.api")

MAX_BODY_BYTES = 16 << 20
MAX_BATCH_EVENTS = 10_000
MAX_POSITION = 2**63 - 1  # positions are 64-bit integers in both stores
NDJSON = ("application/x-ndjson", "application/ndjson")
WITHHELD = "Disclosure-Withheld"
BEARER = "BearerToken"


class Errors(msgspec.Struct, frozen=True):
    errors: list[ErrorDetail]


class Health(msgspec.Struct, frozen=True):
    status: str


class NewToken(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: Role
    municipality: str | None = None


class TooLarge(LedgerError):
    code = "too_large"


# --- errors: one mapping, for every route --------------------------------------------------


def errors_response(
    status: int, errors: list[ErrorDetail], headers: dict[str, str] | None = None
) -> Response[Errors]:
    return Response(Errors(errors), status_code=status, headers=headers)


LEDGER_STATUSES: dict[type[LedgerError], int] = {
    Forbidden: 403,
    UnknownPerson: 404,
    UnknownToken: 404,
    TooLarge: 413,
    StoreError: 503,
    ConcurrentWrites: 503,
}
HTTP_CODES = {
    401: "unauthorized",
    403: Forbidden.code,
    404: "not_found",
    405: "method_not_allowed",
    413: TooLarge.code,
}


def ledger_status(exc: LedgerError) -> int:
    if isinstance(exc, BatchRefused):
        if any(e.code == Forbidden.code for e in exc.errors):
            return 403
        return 409 if exc.is_conflict_only else 422
    return next((s for cls, s in LEDGER_STATUSES.items() if isinstance(exc, cls)), 422)


def on_ledger_error(_: Request[Any, Any, Any], exc: LedgerError) -> Response[Errors]:
    errors = exc.errors if isinstance(exc, BatchRefused) else [exc.detail()]
    return errors_response(ledger_status(exc), errors)


def on_http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Errors]:
    if exc.status_code == 400:
        # Litestar's own refusals of parameters and bodies are refused input, as ours are.
        return errors_response(422, _refusals(exc))
    status = exc.status_code
    code = HTTP_CODES.get(status, "http_error")
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return errors_response(status, [ErrorDetail(None, None, code, None, exc.detail)], headers)


def _refusals(exc: HTTPException) -> list[ErrorDetail]:
    if isinstance(exc.__cause__, SerializationException):
        return [
            ErrorDetail(None, None, InvalidJson.code, None, f"the body is not JSON: {exc.detail}")
        ]
    extra = (
        exc.extra if isinstance(exc, ValidationException) and isinstance(exc.extra, list) else []
    )
    details = [
        ErrorDetail(
            None,
            None,
            InvalidField.code,
            str(item.get("key")) if item.get("key") else None,
            str(item.get("message", exc.detail)),
        )
        for item in extra
        if isinstance(item, dict)
    ]
    return details or [ErrorDetail(None, None, InvalidField.code, None, exc.detail)]


def on_fault(_: Request[Any, Any, Any], exc: Exception) -> Response[Errors]:
    logger.error("unhandled fault", exc_info=exc)
    detail = ErrorDetail(None, None, "internal_error", None, "the server failed; it is logged")
    return errors_response(500, [detail])


# --- who is asking -------------------------------------------------------------------------


def service_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Service:
    service: Service = connection.app.state.service
    return service


def provide_service(state: State) -> Service:
    service: Service = state.service
    return service


class BearerAuth(AbstractAuthenticationMiddleware):
    """Every ``/v1`` call names a live token: ``Authorization: Bearer TOKEN``."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        scheme, _, secret = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthorizedException("send Authorization: Bearer TOKEN")
        token = await service_of(connection).tokens.authenticate(secret.strip())
        if token is None:
            raise NotAuthorizedException("the token is unknown or revoked")
        return AuthenticationResult(user=token, auth=token.id)


def allow(
    *roles: Role,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    # A coroutine: Litestar would run a plain function on a worker thread, one hop a request.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.user.role not in roles:
            raise PermissionDeniedException(
                f"the {connection.user.role} role may not do this; allowed: {', '.join(roles)}"
            )

    return guard


Caller = Request[Token, str, State]


def caller_of(request: Caller) -> Token:
    return request.user


# --- the documented shape of answers, and the routes ----------------------------------------


ERROR_MEANINGS = {
    401: "no token, or an unknown or revoked one",
    403: "the token's role or municipality may not do this (code `forbidden`)",
    404: "no such person, or not a case the calling municipality is responsible for now "
    "(the same answer: no existence oracle), or no such token",
    409: "only `duplicate_conflict` refusals: an event_id already stored with other content",
    413: "the body or the batch is too large",
    422: "refused input: one error object for every refused event or parameter; codes "
    + ", ".join(f"`{code}`" for code in sorted(WIRE_CODES - {DuplicateConflict.code})),
    503: "the store is unavailable or too contended; try again",
}


@dataclass
class V1Operation(Operation):
    """Litestar documents its parameter refusals as 400; this API answers them 422."""

    def __post_init__(self) -> None:
        if self.responses is not None:
            self.responses.pop("400", None)


def v1(
    method: type[HTTPRouteHandler],
    path: str,
    roles: Sequence[Role],
    summary: str,
    *,
    errors: Sequence[int] = (),
    answer: str | None = None,
    **options: Any,
) -> HTTPRouteHandler:
    """A ``/v1`` route: who may call it, and every status it can answer with."""
    responses = {
        status: ResponseSpec(Errors, description=ERROR_MEANINGS[status], generate_examples=False)
        for status in (401, 403, 422, 503, *errors)
    }
    if answer is not None:  # JSON made by a projection, served as the bytes it was stored as
        responses[200] = ResponseSpec(dict[str, Any], description=answer, generate_examples=False)
    options.setdefault("operation_class", V1Operation)
    return method(path, guards=[allow(*roles)], summary=summary, responses=responses, **options)


_ENVELOPE = Schema(
    type=OpenAPIType.OBJECT,
    description="One event (DOMAIN.md, 'Event catalogue'); the fields of its type besides.",
    required=["type", "event_id", "person", "municipality", "occurred_on"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, enum=sorted(EVENT_TYPES)),
        "event_id": Schema(type=OpenAPIType.STRING, format="uuid"),  # type: ignore[arg-type]
        "person": Schema(type=OpenAPIType.STRING, pattern=r"^[A-Za-z0-9._:-]{1,64}$"),
        "municipality": Schema(type=OpenAPIType.STRING, pattern=r"^[0-9]{3}$"),
        "occurred_on": Schema(type=OpenAPIType.STRING, format="date"),  # type: ignore[arg-type]
        "recorded_by": Schema(type=OpenAPIType.STRING, max_length=64),
    },
)


@dataclass
class EventBatchOperation(V1Operation):
    """The batch body is read by the ledger's wire module, so it is described by hand."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.request_body = RequestBody(
            required=True,
            description=f"An atomic batch of at most {MAX_BATCH_EVENTS} events: a JSON array, "
            "or NDJSON (one event a line) with Content-Type application/x-ndjson.",
            content={
                "application/json": OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.ARRAY, items=_ENVELOPE)
                ),
                "application/x-ndjson": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
            },
        )


@v1(
    post,
    "/events",
    ["municipality"],
    "Append an atomic batch of events",
    errors=(409, 413),
    status_code=200,
    operation_class=EventBatchOperation,
)
async def append_events(request: Caller, service: Service) -> AppendResult:
    body = await request.body()
    media_type = request.content_type[0]
    lines: list[Line] = ndjson_lines(body) if media_type in NDJSON else json_array_items(body)
    if len(lines) > MAX_BATCH_EVENTS:
        raise TooLarge(f"a batch holds at most {MAX_BATCH_EVENTS} events, not {len(lines)}")
    return await service.append(caller_of(request), lines)


AsOf = Annotated[
    date | None,
    Parameter(description="Valid time: the case as it stood on this day (default today)."),
]
KnownAt = Annotated[
    datetime | None,
    Parameter(description="Transaction time: only what the ledger knew then (no offset = UTC)."),
]
MinPosition = Annotated[
    int | None,
    Parameter(
        ge=0,
        le=MAX_POSITION,
        description="Read-your-writes: wait (at most a few seconds) until the views reflect this "
        "ledger position; if they do not by then, the answer is folded live.",
    ),
]
RuleRevision = Annotated[
    int | None,
    Parameter(
        description="Reproduce a report made under an earlier revision of the rule pack "
        f"(1 to {LATEST_REVISION}; default the latest).",
    ),
]
After = Annotated[
    int, Parameter(ge=0, le=MAX_POSITION, description="Continue after this position or id.")
]
Limit = Annotated[int, Parameter(ge=1, le=1000)]


def projection_route(kind: str, roles: Sequence[Role], summary: str) -> HTTPRouteHandler:
    @v1(
        get,
        f"/persons/{{person:str}}/{kind}",
        roles,
        summary,
        errors=(404,),
        answer=f"the {kind} projection (INTERFACE.md, 'Projection JSON')",
        operation_id=f"get_{kind}",
        response_headers=[
            ResponseHeader(
                name=WITHHELD,
                documentation_only=True,
                description="For a municipality: the categories of other municipalities' "
                "events it may not see (no legal basis to disclose them). The projection is "
                "folded over the whole case; values derived from these categories are null in "
                "the body, which then says `redacted: true` and lists them under `withheld`.",
            )
        ],
    )
    async def read_projection(
        request: Caller,
        service: Service,
        person: str,
        as_of: AsOf = None,
        known_at: KnownAt = None,
        min_position: MinPosition = None,
        rule_revision: RuleRevision = None,
    ) -> Response[bytes]:
        when = When(as_of, _utc(known_at), check_revision(rule_revision))
        served = await service.projection(kind, person, caller_of(request), when, min_position)
        headers = {WITHHELD: ", ".join(served.withheld)} if served.withheld else None
        return Response(served.body, media_type="application/json", headers=headers)

    return read_projection


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@v1(
    get,
    "/persons/{person:str}/events",
    ["investigator"],
    "The person's stored events, each with what the ledger added",
    errors=(404,),
)
async def person_events(request: Caller, service: Service, person: str) -> list[dict[str, Any]]:
    return await service.events(caller_of(request), person)


@v1(
    get,
    "/status-feed",
    ["immigration_service"],
    "Persons whose status report changed after a position, in position order",
)
async def status_feed(service: Service, after: After = 0, limit: Limit = 100) -> StatusFeed:
    return await service.feed(after, limit)


@v1(
    post,
    "/status-requests",
    ["immigration_service"],
    "Record that Udlændingestyrelsen asks for a status report (StatusRequested)",
    errors=(404, 409),
    status_code=200,
)
async def request_status(request: Caller, service: Service, data: StatusRequest) -> AppendResult:
    return await service.request_status(caller_of(request), data)


@v1(
    post,
    "/status-requests/{person:str}/{request_id:str}/retraction",
    ["immigration_service"],
    "Retract a status request Udlændingestyrelsen made in error (EventRetracted)",
    errors=(404, 409),
    status_code=200,
)
async def retract_status_request(
    request: Caller, service: Service, person: str, request_id: str, data: StatusRetraction
) -> AppendResult:
    return await service.retract_status_request(caller_of(request), person, request_id, data)


@v1(
    get,
    "/municipalities/{code:str}/deadlines",
    ["municipality"],
    "The deadlines worklist of the calling municipality",
    answer="the worklist",
)
async def deadlines(
    request: Caller,
    service: Service,
    code: str,
    on: date | None = None,
    rule_revision: RuleRevision = None,
) -> Response[bytes]:
    body = await service.deadlines(caller_of(request), code, on, check_revision(rule_revision))
    return Response(body, media_type="application/json")


@v1(
    get,
    "/verify",
    ["investigator"],
    "Re-check the hash chains (of every case, or of one person)",
    errors=(404,),
)
async def verify(service: Service, person: str | None = None) -> VerifyReport:
    return await service.verify(person)


@v1(
    get,
    "/access-log",
    ["investigator"],
    "Who was shown what of whose case, on which legal basis, and when",
)
async def access_log(
    service: Service, after: After = 0, limit: Limit = 100, person: str | None = None
) -> AccessLogPage:
    return await service.access_entries(after, limit, person)


@v1(get, "/tokens", ["admin"], "List tokens (never their secrets)")
async def list_tokens(service: Service) -> list[Token]:
    return await service.tokens.list()


@v1(post, "/tokens", ["admin"], "Make a token (its secret is shown this once)")
async def create_token(service: Service, data: NewToken) -> IssuedToken:
    return await service.tokens.create(data.role, data.municipality)


@v1(
    delete,
    "/tokens/{token_id:str}",
    ["admin"],
    "Revoke a token (it stays listed, with when it was revoked)",
    errors=(404,),
    status_code=200,
)
async def revoke_token(service: Service, token_id: str) -> Token:
    return await service.tokens.revoke(token_id)


@get("/healthz", summary="Liveness")
async def healthz() -> Health:
    return Health("ok")


@get("/metrics", media_type="text/plain; version=0.0.4", summary="Prometheus metrics")
async def metrics(service: Service) -> str:
    head, views = await service.positions()
    return service.metrics.exposition(head, views)


_ANSWERS: tuple[tuple[str, tuple[Role, ...], str], ...] = (
    ("history", ("municipality", "investigator"), "Contract history"),
    ("sanctions", ("municipality", "investigator"), "Sanction accumulation (AKL § 69 r)"),
    ("status", ("municipality", "investigator", "immigration_service"), "Status report"),
)

V1 = Router(
    path="/v1",
    route_handlers=[
        append_events,
        *(projection_route(kind, roles, summary) for kind, roles, summary in _ANSWERS),
        person_events,
        status_feed,
        request_status,
        retract_status_request,
        deadlines,
        verify,
        access_log,
        list_tokens,
        create_token,
        revoke_token,
    ],
    middleware=[DefineMiddleware(BearerAuth)],
    security=[{BEARER: []}],
)


def create_app(db: str) -> ASGIApp:
    """The API on the store ``db``, measured and logged (see ``api.observe``)."""
    metrics_ = Metrics()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.service = await Service.open(db, metrics_)
        try:
            yield
        finally:
            await app.state.service.close()

    app = Litestar(
        route_handlers=[V1, healthz, metrics],
        dependencies={"service": Provide(provide_service, sync_to_thread=False)},
        lifespan=[lifespan],
        exception_handlers={
            LedgerError: on_ledger_error,
            HTTPException: on_http_error,
            Exception: on_fault,
        },
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="Integration case ledger",
            version="1",
            description="Events of Danish municipal integration cases (INL, AKL, UDL § 11) "
            "and the projections computed from them.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(path="/"), JsonRenderPlugin()],
            components=Components(
                security_schemes={BEARER: SecurityScheme(type="http", scheme="bearer")}
            ),
        ),
        logging_config=None,
    )
    return Observed(app, metrics_)
