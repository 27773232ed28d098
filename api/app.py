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
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, Response, Router, delete, get, post
from litestar.connection import ASGIConnection
from litestar.constants import RESERVED_KWARGS
from litestar.datastructures import CacheControlHeader, ResponseHeader, State
from litestar.di import Provide
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
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
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp
from swagger_ui_bundle import swagger_ui_path

from api.append_path import (
    APPEND_PATH,
    APPEND_ROLES,
    BODY_TYPES,
    JSON,
    MAX_BATCH_EVENTS,
    MAX_BODY_BYTES,
    NDJSON,
    AppendPath,
    TooLarge,
    batch_lines,
    bearer_secret,
)
from api.collector import settle as settle_collector
from api.event_schema import EVENT_REFERENCE, event_schemas
from api.observe import Metrics, Observed
from api.roles import Role
from api.service import (
    AccessLogPage,
    Busy,
    Service,
    StatusRequest,
    StatusRetraction,
)
from api.tokens import IssuedToken, Token, UnknownToken
from ledger.application import AppendResult, VerifyReport
from ledger.clock import MOMENT_FORMAT, YEARS, parse_day, parse_moment
from ledger.config import Settings
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
    StoreUnavailable,
    UnknownPerson,
)
from ledger.events import refuse_duplicate_keys
from ledger.faults import store_fault, unreachable
from ledger.i18n import N_, Phrase, Words, asked_language
from ledger.messages import did_you_mean, explain, split_path
from ledger.rulepacks import LATEST_REVISION, check_revision
from projections.views import StatusFeed, When

logger = logging.getLogger("ledger.api")

MAX_POSITION = 2**63 - 1  # positions are 64-bit integers in both stores
WITHHELD = "Disclosure-Withheld"
BEARER = "BearerToken"


class Errors(msgspec.Struct, frozen=True):
    errors: list[ErrorDetail]


class Health(msgspec.Struct, frozen=True):
    status: str  # "ok", or "unavailable" when the store does not answer
    store: str  # "ok", or why the store did not answer


class NewToken(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: Role
    municipality: str | None = None


class UnsupportedMediaType(LedgerError):
    """A body of a type or in an encoding the API does not read."""

    code = "unsupported_media_type"


# --- errors: one mapping, for every route --------------------------------------------------


def errors_response(
    request: Request[Any, Any, Any],
    status: int,
    errors: list[ErrorDetail],
    headers: dict[str, str] | None = None,
) -> Response[Errors]:
    """The refusals in English, the interface's language, unless the request asks for Danish
    (``Accept-Language: da``): then their messages are Danish; codes and fields never change."""
    language = asked_language(request.headers.get("accept-language"))
    if language is not None and language != "en":
        words = Words(language)
        errors = [msgspec.structs.replace(e, message=e.said(words)) for e in errors]
    return Response(Errors(errors), status_code=status, headers=headers)


LEDGER_STATUSES: dict[type[LedgerError], int] = {
    Forbidden: 403,
    UnknownPerson: 404,
    UnknownToken: 404,
    TooLarge: 413,
    UnsupportedMediaType: 415,
    StoreError: 503,
    ConcurrentWrites: 503,
    Busy: 503,
}
HTTP_CODES = {
    401: "unauthorized",
    403: Forbidden.code,
    404: "not_found",
    405: "method_not_allowed",
    413: TooLarge.code,
    415: UnsupportedMediaType.code,
}
RETRY_AFTER = {"Retry-After": str(StoreUnavailable.retry_after_s)}


def ledger_status(exc: LedgerError) -> int:
    if isinstance(exc, BatchRefused):
        if any(e.code == Forbidden.code for e in exc.errors):
            return 403
        return 409 if exc.is_conflict_only else 422
    return next((s for cls, s in LEDGER_STATUSES.items() if isinstance(exc, cls)), 422)


def on_ledger_error(request: Request[Any, Any, Any], exc: LedgerError) -> Response[Errors]:
    errors = exc.errors if isinstance(exc, BatchRefused) else [exc.detail()]
    headers = RETRY_AFTER if isinstance(exc, StoreUnavailable) else None
    if isinstance(exc, Busy):
        headers = {"Retry-After": str(exc.retry_after)}
    return errors_response(request, ledger_status(exc), errors, headers)


def on_store_down(request: Request[Any, Any, Any], exc: Exception) -> Response[Errors]:
    """The database did not answer, whichever layer asked it: a fault to retry, not a 500."""
    logger.warning("the store did not answer: %s", exc)
    return on_ledger_error(request, store_fault(exc))


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Errors]:
    if exc.status_code == 400:
        # Litestar's own refusals of parameters and bodies are refused input, as ours are.
        return errors_response(request, 422, _refusals(request, exc))
    status = exc.status_code
    code = HTTP_CODES.get(status, "http_error")
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    # Our own refusals of a request are marked for the catalogue (BearerAuth); Litestar's say
    # what they say.
    refused = ErrorDetail.of(Phrase(exc.detail), code)
    return errors_response(request, status, [refused], headers)


def _refusals(request: Request[Any, Any, Any], exc: HTTPException) -> list[ErrorDetail]:
    if isinstance(exc.__cause__, SerializationException):
        not_json = Phrase("the body is not JSON: {reason}", {"reason": exc.detail})
        return [ErrorDetail.of(not_json, InvalidJson.code)]
    extra = (
        exc.extra if isinstance(exc, ValidationException) and isinstance(exc.extra, list) else []
    )
    body = _body_type(request)
    details = []
    for item in extra:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key") or "") or None
        path, said = split_path(str(item.get("message", exc.detail)))
        # A body's fields are named as the caller wrote them, never as the handler's `data`.
        field = path or (None if key == "data" else key)
        decoded = body if key == "data" or item.get("source") == "body" else None
        details.append(ErrorDetail.of(explain(said, path, decoded), InvalidField.code, field))
    return details or [ErrorDetail.of(Phrase(exc.detail), InvalidField.code)]


def _body_type(request: Request[Any, Any, Any]) -> type | None:
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    annotation = data.annotation if data is not None else None
    return annotation if isinstance(annotation, type) else None


# --- strict input: what a request may carry, checked before any handler reads it -----------


@cache
def _query_names(handler: BaseRouteHandler) -> frozenset[str]:
    """The parameters a handler declares that are no dependencies or Litestar's reserved names:
    its query parameters and its path parameters."""
    fixed = RESERVED_KWARGS | set(handler.resolve_dependencies())
    return frozenset(set(handler.parsed_fn_signature.parameters) - fixed)


async def strict_input(request: Request[Any, Any, Any]) -> None:
    """Refuse what would otherwise be silently ignored or misread: query parameters the route
    does not have (``?asof=`` would answer for today), a body in a type or an encoding the
    API does not read, and JSON keys sent twice (decoders disagree on which one wins)."""
    handler = request.route_handler
    known = _query_names(handler) - set(request.path_params)
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        refused = (
            N_("unknown query parameter `{name}`{hint} This route takes: {known}.")
            if known
            else N_("unknown query parameter `{name}`{hint}")
        )
        raise BatchRefused(
            [
                InvalidField(
                    refused,
                    name,
                    name=name,
                    hint=did_you_mean(name, known),
                    known=", ".join(sorted(known)),
                ).detail()
                for name in unknown
            ]
        )
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        raise UnsupportedMediaType(
            "Content-Encoding {encoding} is not accepted; send the body uncompressed",
            "Content-Encoding",
            encoding=encoding,
        )
    media_type = request.content_type[0]
    if media_type not in BODY_TYPES:
        raise UnsupportedMediaType(
            "a body of type {media_type} is not read; send Content-Type: {json} or {ndjson}",
            "Content-Type",
            media_type=media_type or "none",
            json=JSON,
            ndjson=NDJSON[0],
        )
    if "data" in handler.parsed_fn_signature.parameters:
        refuse_duplicate_keys(await request.body())


def on_fault(request: Request[Any, Any, Any], exc: Exception) -> Response[Errors]:
    logger.error("unhandled fault", exc_info=exc)
    failed = Phrase("the server failed; it is logged")
    return errors_response(request, 500, [ErrorDetail.of(failed, "internal_error")])


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
        secret = bearer_secret(connection.headers.get("authorization", ""))
        if secret is None:
            raise NotAuthorizedException(N_("send Authorization: Bearer TOKEN"))
        token = await service_of(connection).tokens.authenticate(secret)
        if token is None:
            raise NotAuthorizedException(N_("the token is unknown or revoked"))
        return AuthenticationResult(user=token, auth=token.id)


def allow(
    *roles: Role,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    # A coroutine: Litestar would run a plain function on a worker thread, one hop a request.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.user.role not in roles:
            raise Forbidden(
                "the {role} role may not do this; allowed: {allowed}",
                role=connection.user.role,
                allowed=", ".join(roles),
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
    415: "a body that is not application/json or application/x-ndjson, or a compressed one",
    422: "refused input: one error object for every refused event or parameter; codes "
    + ", ".join(f"`{code}`" for code in sorted(WIRE_CODES - {DuplicateConflict.code})),
    503: "the store is unavailable or too contended (`store_error`, `store_unavailable`, "
    "`concurrent_writes`), or too many appends wait for the next group commit (`busy`); "
    "nothing of the request was stored; try again (see Retry-After)",
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
    with_body = (415,) if method is post else ()
    responses = {
        status: ResponseSpec(Errors, description=ERROR_MEANINGS[status], generate_examples=False)
        for status in (401, 403, 422, 503, *errors, *with_body)
    }
    if answer is not None:  # JSON made by a projection, served as the bytes it was stored as
        responses[200] = ResponseSpec(dict[str, Any], description=answer, generate_examples=False)
    options.setdefault("operation_class", V1Operation)
    if path.startswith("/persons/"):  # a person's case: no cache on the way may keep a copy
        options.setdefault("cache_control", CacheControlHeader(no_store=True))
    return method(path, guards=[allow(*roles)], summary=summary, responses=responses, **options)


@dataclass
class EventBatchOperation(V1Operation):
    """The batch body is read by the ledger's wire module, not by Litestar: its events are
    described by the schemas generated from the event union (``api.event_schema``)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.request_body = RequestBody(
            required=True,
            description=f"An atomic batch of at most {MAX_BATCH_EVENTS} events: a JSON array, "
            "or NDJSON (one event a line) with Content-Type application/x-ndjson.",
            content={
                "application/json": OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.ARRAY, items=EVENT_REFERENCE)
                ),
                "application/x-ndjson": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
            },
        )


# Plain appends are answered before Litestar by ``api.append_path``, with what this route uses.
@v1(
    post,
    APPEND_PATH.removeprefix("/v1"),
    APPEND_ROLES,
    "Append an atomic batch of events",
    errors=(409, 413),
    status_code=200,
    operation_class=EventBatchOperation,
)
async def append_events(request: Caller, service: Service) -> AppendResult:
    lines = batch_lines(await request.body(), request.content_type[0])
    return await service.append(caller_of(request), lines)


# Days and moments are read by the ledger's own parsers (the command line uses the same), so
# both faces accept and refuse the same values with the same words.
MAX_FEED_WAIT_S = 30  # INTERFACE.md: a feed request is held 30 s at most
AsOf = Annotated[
    str | None,
    Parameter(
        description=f"Valid time: the case as it stood on this day, YYYY-MM-DD within {YEARS} "
        "(default today).",
        schema_extra={"format": "date"},
    ),
]
KnownAt = Annotated[
    str | None,
    Parameter(
        description=f"Transaction time: only what the ledger knew then; {MOMENT_FORMAT}, "
        f"within {YEARS}. A date alone is refused: it names no moment.",
        schema_extra={"format": "date-time"},
    ),
]
On = Annotated[
    str | None,
    Parameter(
        description=f"The day of the worklist, YYYY-MM-DD within {YEARS} (default today).",
        schema_extra={"format": "date"},
    ),
]
MinPosition = Annotated[
    int | None,
    Parameter(
        ge=0,
        le=MAX_POSITION,
        description="Read-your-writes: wait (at most a few seconds) until the views reflect this "
        "ledger position; if they do not by then, the answer is folded live. A position beyond "
        "the ledger's head is refused (no write has reached it).",
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
FeedAfter = Annotated[
    int, Parameter(ge=0, le=MAX_POSITION, description="Continue after this item (its seq).")
]
FeedWait = Annotated[
    float,
    Parameter(
        ge=0,
        le=MAX_FEED_WAIT_S,
        description=f"Seconds (at most {MAX_FEED_WAIT_S:g}) to hold the request until an item "
        "after `after` exists; an empty page when none came (default 0: answer at once).",
    ),
]


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
        when = When(
            _day(as_of, "as_of"), _moment(known_at, "known_at"), check_revision(rule_revision)
        )
        await _reached(service, min_position)
        served = await service.projection(kind, person, caller_of(request), when, min_position)
        headers = {WITHHELD: ", ".join(served.withheld)} if served.withheld else None
        return Response(served.body, media_type="application/json", headers=headers)

    return read_projection


def _day(value: str | None, name: str) -> date | None:
    return None if value is None else parse_day(value, name)


def _moment(value: str | None, name: str) -> datetime | None:
    return None if value is None else parse_moment(value, name)


async def _reached(service: Service, min_position: int | None) -> None:
    """A position no write has reached cannot be waited for: refuse it rather than wait."""
    if min_position is None:
        return
    head, _ = await service.positions()
    if min_position > head:
        raise InvalidField(
            "min_position {min_position} is beyond the ledger's head ({head}); pass a position an "
            "append answered",
            "min_position",
            min_position=min_position,
            head=head,
        )


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
    "Status reports that changed, as items in seq order; `wait` long-polls for the next",
)
async def status_feed(
    service: Service, after: FeedAfter = 0, limit: Limit = 100, wait: FeedWait = 0
) -> StatusFeed:
    return await service.feed(after, limit, wait)


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
    on: On = None,
    rule_revision: RuleRevision = None,
) -> Response[bytes]:
    body = await service.deadlines(
        caller_of(request), code, _day(on, "on"), check_revision(rule_revision)
    )
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


@get(
    "/healthz",
    summary="Liveness, and whether the store answers",
    responses={503: ResponseSpec(Health, description="the store does not answer")},
)
async def healthz(service: Service) -> Response[Health]:
    try:
        await service.check_store()
    except unreachable() as exc:
        logger.warning("health check: the store did not answer: %s", exc)
        down = Health("unavailable", store_fault(exc).message)
        return Response(down, status_code=503, headers=RETRY_AFTER)
    return Response(Health("ok", "ok"))


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
    before_request=strict_input,
)


# The OpenAPI UI from the files the swagger-ui-bundle package ships: /schema works offline.
SWAGGER_ASSETS = create_static_files_router(
    "/schema/assets", [swagger_ui_path], include_in_schema=False, name="swagger-assets"
)
SWAGGER = SwaggerRenderPlugin(
    path="/",
    js_url="/schema/assets/swagger-ui-bundle.js",
    css_url="/schema/assets/swagger-ui.css",
    standalone_preset_js_url="/schema/assets/swagger-ui-standalone-preset.js",
    favicon='<link rel="icon" type="image/png" href="/schema/assets/favicon-32x32.png">',
)


def create_app(db: str, *, web: bool = False, settings: Settings | None = None) -> ASGIApp:
    """The API on the store ``db``, measured and logged (see ``api.observe``), plain appends
    answered ahead of Litestar (``api.append_path``); with ``web``, the pages for people too
    (``api.web``). ``settings`` as the caller read them, else from the environment."""
    settings = (settings or Settings.from_env()).with_db(db)
    metrics_ = Metrics()
    pages: list[Router] = []
    if web:
        from api.web import web_routers  # noqa: PLC0415 - the pages' templates load only for --web

        pages = [*web_routers(settings.session_key)]

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.service = await Service.open(db, metrics_, settings)
        settle_collector()  # started: what is made from now on is mostly short-lived
        try:
            yield
        finally:
            await app.state.service.close()

    app = Litestar(
        route_handlers=[V1, healthz, metrics, SWAGGER_ASSETS, *pages],
        dependencies={"service": Provide(provide_service, sync_to_thread=False)},
        lifespan=[lifespan],
        exception_handlers={
            LedgerError: on_ledger_error,
            HTTPException: on_http_error,
            # Every driver is loaded by now: the service imports both stores' recorders.
            **dict.fromkeys(unreachable(), on_store_down),
            Exception: on_fault,
        },
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="Integration case ledger",
            version="1",
            description="Events of Danish municipal integration cases (INL, AKL, UDL § 11) "
            "and the projections computed from them.",
            path="/schema",
            render_plugins=[SWAGGER, JsonRenderPlugin()],
            components=Components(
                security_schemes={BEARER: SecurityScheme(type="http", scheme="bearer")}
            ),
        ),
        logging_config=None,
    )
    # Litestar writes the components of the types it reads itself when it builds the document
    # (here, once); the events, read by the wire module, join them.
    app.openapi_schema.components.schemas.update(event_schemas())
    return Observed(AppendPath(app), metrics_)
