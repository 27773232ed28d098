"""The web pages for people (``ledger serve --web``): server-rendered HTML under ``/web``.

Caseworkers (a municipality's token) get their worklist and each person's case at a glance;
investigators find a case, see its timeline, replay it with the rules that fired, check the
integrity of the case and of the ledger and read the access log; Udlændingestyrelsen gets the
status report as a page and as a PDF, and a page that checks a report against the ledger.

The pages read through the same ``api.service.Service`` as the HTTP API, so the same tokens,
roles, disclosure and redaction apply, and every read lands in the same access log. Sign-in
takes a token once; the session is an encrypted, HttpOnly, SameSite=Strict cookie holding it,
so a revoked token ends the session at the next page. Every form that writes (sign-in,
sign-out, the report check) carries a CSRF token kept in the session. No page needs a script.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie, State
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.params import Body
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp

from api.service import Service
from api.tokens import Token
from api.web.pdf import status_pdf
from api.web.render import STATIC, render
from api.web.timeline import timeline
from ledger.clock import MOMENT_FORMAT, parse_day, parse_moment
from ledger.errors import Forbidden, InvalidField, LedgerError, UnknownPerson
from ledger.i18n import LANGUAGES, Language, Words, language_of
from ledger.rulepacks import check_revision
from projections.replay import for_people
from projections.status import digest_of
from projections.views import When

PREFIX = "/web"
SESSION_COOKIE = "ledger_session"
LANGUAGE_COOKIE = "ledger_lang"
SESSION_HOURS = 8
ACCESS_LOG_PAGE = 200
# No scripts at all; styles, fonts and pictures only from the server itself.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; font-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
HOME = {
    "municipality": f"{PREFIX}/worklist",
    "investigator": f"{PREFIX}/investigate",
    "immigration_service": f"{PREFIX}/status",
}

_json = msgspec.json.Decoder()
Page = Request[Any, Any, State]


class NotSignedIn(Exception):
    """The page needs a signed-in token (none, or it was revoked)."""


class BadCsrf(Exception):
    """A form that writes came without this session's CSRF token."""


# --- who is asking, in which language ------------------------------------------------------


def service_of(request: Page) -> Service:
    service: Service = request.app.state.service
    return service


def language(request: Page) -> Language:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return language_of(request.headers.get("accept-language"))


async def signed_in(request: Page, *roles: str) -> Token:
    """The token this session signed in with, if it still lives and has one of ``roles``."""
    secret = request.session.get("secret") if request.session else None
    token = await service_of(request).tokens.authenticate(secret) if secret else None
    if token is None:
        raise NotSignedIn
    if roles and token.role not in roles:
        raise Forbidden("the {role} role has no access to this page", "role", role=token.role)
    return token


def csrf_token(request: Page) -> str:
    """This session's CSRF token (made on first use)."""
    session = dict(request.session or {})
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
        request.set_session(session)
    token: str = session["csrf"]
    return token


def check_csrf(request: Page, sent: str | None) -> None:
    expected = (request.session or {}).get("csrf")
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise BadCsrf


def page(
    request: Page, template: str, status: int = 200, token: Token | None = None, **context: Any
) -> Response[str]:
    lang = language(request)
    html = render(
        lang,
        template,
        token=token,
        csrf=csrf_token(request),
        here=request.url.path,
        query=request.url.query,
        prefix=PREFIX,
        home=HOME.get(token.role) if token else None,
        **context,
    )
    headers = {**SECURITY_HEADERS, "Content-Language": lang}
    return Response(html, status_code=status, media_type=MediaType.HTML, headers=headers)


# --- reading the forms ---------------------------------------------------------------------


def day(text: object, field: str) -> date | None:
    """A day from a form, a link or a pasted report (an empty field is no day), read by the
    ledger's one parser of days."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise InvalidField("{given!r} is not a calendar date (YYYY-MM-DD)", field, given=text)
    return parse_day(text, field)


def moment(text: object, field: str) -> datetime | None:
    """A moment, read as the HTTP API reads it (without an offset it is UTC); a browser's
    ``datetime-local`` field sends one without seconds or offset."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise InvalidField(
            "{given!r} is not {MOMENT_FORMAT}", field, given=text, MOMENT_FORMAT=MOMENT_FORMAT
        )
    return parse_moment(text, field)


def revision_of(text: object) -> int | None:
    if text is None or text == "":
        return None
    try:
        return check_revision(int(str(text)))
    except ValueError:
        raise InvalidField(
            "{given!r} is not a rule pack revision", "rule_revision", given=text
        ) from None


def when_of(as_of: object, known_at: object, rule_revision: object = None) -> When:
    return When(day(as_of, "as_of"), moment(known_at, "known_at"), revision_of(rule_revision))


async def read_view(request: Page, token: Token, kind: str, person: str, when: When) -> Any:
    read = await service_of(request).projection(kind, person, token, when, None)
    return _json.decode(read.body)


# --- signing in and out --------------------------------------------------------------------


@get("/", include_in_schema=False)
async def start(request: Page) -> Response[Any]:
    try:
        token = await signed_in(request)
    except NotSignedIn:
        return Redirect(f"{PREFIX}/sign-in")
    if token.role not in HOME:
        return page(request, "sign_in.html", status=403, refused="admin")
    return Redirect(HOME[token.role])


@get("/sign-in", include_in_schema=False)
async def sign_in_form(request: Page) -> Response[str]:
    return page(request, "sign_in.html")


class SignIn(msgspec.Struct):
    token: str = ""
    csrf: str = ""


Form = Body(media_type=RequestEncodingType.URL_ENCODED)


@post("/sign-in", include_in_schema=False, status_code=303)
async def sign_in(request: Page, data: SignIn = Form) -> Response[Any]:
    check_csrf(request, data.csrf)
    token = await service_of(request).tokens.authenticate(data.token.strip())
    if token is None:
        return page(request, "sign_in.html", status=401, refused="token")
    if token.role not in HOME:
        return page(request, "sign_in.html", status=403, refused="admin")
    # A new session (and CSRF token) on sign-in, so none set before it survives.
    request.set_session({"secret": data.token.strip(), "csrf": secrets.token_urlsafe(32)})
    return Redirect(HOME[token.role], status_code=303)


class Posted(msgspec.Struct):
    csrf: str = ""


@post("/sign-out", include_in_schema=False, status_code=303)
async def sign_out(request: Page, data: Posted = Form) -> Response[Any]:
    check_csrf(request, data.csrf)
    request.clear_session()
    return Redirect(f"{PREFIX}/sign-in", status_code=303)


@get("/language/{chosen:str}", include_in_schema=False)
async def choose_language(chosen: str, back: str = PREFIX) -> Response[Any]:
    """Remember a language for the pages (a preference, not a write to the ledger)."""
    if chosen not in LANGUAGES:
        raise InvalidField("{chosen!r} is not a language: da or en", "language", chosen=chosen)
    target = back if back.startswith(f"{PREFIX}/") or back == PREFIX else PREFIX
    cookie = Cookie(
        key=LANGUAGE_COOKIE,
        value=chosen,
        path=PREFIX,
        samesite="strict",
        httponly=True,
        max_age=31536000,
    )
    return Redirect(target, cookies=[cookie])


# --- the caseworker ------------------------------------------------------------------------


@get("/worklist", include_in_schema=False)
async def worklist(request: Page, on: str | None = None) -> Response[str]:
    token = await signed_in(request, "municipality")
    code = str(token.municipality)
    body = await service_of(request).deadlines(token, code, day(on, "on"), None)
    return page(request, "worklist.html", token=token, work=_json.decode(body), on=on or "")


@get("/persons/{person:str}", include_in_schema=False)
async def case(request: Page, person: str) -> Response[str]:
    token = await signed_in(request, "municipality")
    when = When()
    status = await read_view(request, token, "status", person, when)
    sanctions = await read_view(request, token, "sanctions", person, when)
    history = await read_view(request, token, "history", person, when)
    return page(
        request,
        "case.html",
        token=token,
        person=person,
        r=status,
        s=sanctions,
        h=history,
    )


# --- the investigator ----------------------------------------------------------------------


@get("/investigate", include_in_schema=False)
async def find(
    request: Page, person: str | None = None, as_of: str | None = None, known_at: str | None = None
) -> Response[Any]:
    token = await signed_in(request, "investigator")
    if person:
        query = urlencode({k: v for k, v in (("as_of", as_of), ("known_at", known_at)) if v})
        path = f"{PREFIX}/investigate/{quote(person.strip(), safe='')}"
        return Redirect(f"{path}?{query}" if query else path)
    return page(request, "find.html", token=token)


@get("/investigate/{person:str}", include_in_schema=False)
async def investigate(
    request: Page, person: str, as_of: str | None = None, known_at: str | None = None
) -> Response[str]:
    token = await signed_in(request, "investigator")
    service = service_of(request)
    when = when_of(as_of, known_at)
    history = await read_view(request, token, "history", person, when)
    sanctions = await read_view(request, token, "sanctions", person, when)
    steps = await service.replay(token, person, when.as_of, None)
    if when.known_at is not None:
        steps = [
            step for step in steps if datetime.fromisoformat(step.recorded_at) <= when.known_at
        ]
    integrity = await service.verify(person)
    log = await service.access_entries(0, ACCESS_LOG_PAGE, person)
    words = Words(language(request))
    return page(
        request,
        "investigate.html",
        token=token,
        person=person,
        as_of=as_of or "",
        known_at=known_at or "",
        h=history,
        s=sanctions,
        picture=timeline(words, history, sanctions),
        steps=for_people(steps, words),
        integrity=integrity,
        log=log.entries,
    )


@get("/ledger", include_in_schema=False)
async def ledger_check(request: Page, after: int = 0) -> Response[str]:
    token = await signed_in(request, "investigator")
    service = service_of(request)
    integrity = await service.verify(None)
    log = await service.access_entries(max(after, 0), ACCESS_LOG_PAGE, None)
    head, views = await service.positions()
    return page(
        request,
        "ledger.html",
        token=token,
        integrity=integrity,
        log=log.entries,
        next_after=log.next_after if len(log.entries) == ACCESS_LOG_PAGE else None,
        head=head,
        views=views,
    )


# --- Udlændingestyrelsen -------------------------------------------------------------------


@get("/status", include_in_schema=False)
async def status_find(request: Page, person: str | None = None) -> Response[Any]:
    token = await signed_in(request, "immigration_service")
    if person:
        return Redirect(f"{PREFIX}/status/{quote(person.strip(), safe='')}")
    return page(request, "find.html", token=token)


@get("/status/{person:str}", include_in_schema=False)
async def status_page(
    request: Page,
    person: str,
    as_of: str | None = None,
    known_at: str | None = None,
    rule_revision: str | None = None,
) -> Response[str]:
    token = await signed_in(request, "immigration_service")
    report = await read_view(
        request, token, "status", person, when_of(as_of, known_at, rule_revision)
    )
    return page(
        request,
        "status.html",
        token=token,
        person=person,
        r=report,
        as_of=as_of or "",
        known_at=known_at or "",
        rule_revision=rule_revision or "",
    )


@get("/status/{person:str}/pdf", include_in_schema=False)
async def status_document(
    request: Page,
    person: str,
    as_of: str | None = None,
    known_at: str | None = None,
    rule_revision: str | None = None,
) -> Response[bytes]:
    token = await signed_in(request, "immigration_service")
    report = await read_view(
        request, token, "status", person, when_of(as_of, known_at, rule_revision)
    )
    pdf = await asyncio.to_thread(status_pdf, language(request), report)
    name = f"statusrapport-{person}-{report['as_of']}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"},
    )


@get("/check", include_in_schema=False)
async def check_form(request: Page) -> Response[str]:
    token = await signed_in(request, "immigration_service")
    return page(request, "check.html", token=token, form={})


class Check(msgspec.Struct):
    csrf: str = ""
    report: str = ""
    digest: str = ""
    person: str = ""
    as_of: str = ""
    known_at: str = ""
    rule_revision: str = ""


@post("/check", include_in_schema=False, status_code=200)
async def check_report(request: Page, data: Check = Form) -> Response[str]:
    """Does a report (or its digest with its question) match what the ledger recomputes?"""
    check_csrf(request, data.csrf)
    token = await signed_in(request, "immigration_service")
    given = _given(data)
    intact = digest_of(given) == given["digest"] if "schema" in given else None
    when = when_of(given.get("as_of"), given.get("known_at"), given.get("rule_revision"))
    recomputed = await read_view(request, token, "status", str(given["person"]), when)
    return page(
        request,
        "check.html",
        token=token,
        form=msgspec.structs.asdict(data),
        given=given,
        intact=intact,
        recomputed=recomputed,
        # A report matches when the ledger recomputes its digest and, for a whole report, when
        # that digest covers what the report says.
        matches=recomputed["digest"] == given["digest"] and intact is not False,
    )


def _given(data: Check) -> dict[str, Any]:
    """The report to check: the JSON pasted, or the digest with the question it answers."""
    if data.report.strip():
        try:
            given = _json.decode(data.report.strip().encode())
        except msgspec.DecodeError:
            raise InvalidField("the report is not JSON", "report") from None
        if not isinstance(given, dict) or not isinstance(given.get("digest"), str):
            raise InvalidField("the report has no digest", "report")
        if not isinstance(given.get("person"), str):
            raise InvalidField("the report names no person", "report")
        return given
    for field in ("digest", "person", "as_of", "known_at"):
        if not getattr(data, field).strip():
            raise InvalidField("give the report, or its {path}", field, path=field)
    return {
        "digest": data.digest.strip(),
        "person": data.person.strip(),
        "as_of": data.as_of.strip(),
        "known_at": data.known_at.strip(),
        "rule_revision": data.rule_revision.strip() or None,
    }


# --- refusals as pages ---------------------------------------------------------------------


def _error(request: Page, status: int, what: str, message: str = "") -> Response[str]:
    return page(request, "error.html", status=status, what=what, message=message)


def on_not_signed_in(_: Page, __: NotSignedIn) -> Response[Any]:
    return Redirect(f"{PREFIX}/sign-in")


def on_bad_csrf(request: Page, _: BadCsrf) -> Response[str]:
    return _error(request, 403, "csrf")


def on_ledger_error(request: Page, exc: LedgerError) -> Response[str]:
    if isinstance(exc, UnknownPerson):
        # One page for an unknown person and for a case the reader may not see.
        return _error(request, 404, "unknown_person")
    said = exc.said(Words(language(request)))
    if isinstance(exc, Forbidden):
        return _error(request, 403, "forbidden", said)
    return _error(request, 422, "invalid", f"{exc.field}: {said}" if exc.field else said)


def on_http_error(request: Page, exc: HTTPException) -> Response[str]:
    status = exc.status_code if 400 <= exc.status_code < 500 else 503
    return _error(request, status, "http", str(exc.detail))


def session_key(configured: str | None) -> bytes:
    """The key of the session cookies: ``LEDGER_SESSION_KEY`` (hex, 32 bytes) so that several
    server processes accept each other's sessions, else a new one a process."""
    return bytes.fromhex(configured) if configured else os.urandom(32)


def web_routers(configured_key: str | None) -> Sequence[Router]:
    """The pages and their static files (style sheet, fonts), with sessions under the
    configured key (``session_key``)."""
    sessions = CookieBackendConfig(
        secret=session_key(configured_key),
        key=SESSION_COOKIE,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        max_age=SESSION_HOURS * 3600,
    )
    backend = ClientSideSessionBackend(sessions)

    # A factory, not ``sessions.middleware``: Litestar copies a router's middleware definitions,
    # and the backend's cipher cannot be copied.
    def with_sessions(app: ASGIApp) -> ASGIApp:
        return SessionMiddleware(app, backend)

    pages = Router(
        path=PREFIX,
        route_handlers=[
            start,
            sign_in_form,
            sign_in,
            sign_out,
            choose_language,
            worklist,
            case,
            find,
            investigate,
            ledger_check,
            status_find,
            status_page,
            status_document,
            check_form,
            check_report,
        ],
        middleware=[with_sessions],
        exception_handlers={
            NotSignedIn: on_not_signed_in,
            BadCsrf: on_bad_csrf,
            LedgerError: on_ledger_error,
            HTTPException: on_http_error,
        },
        include_in_schema=False,
    )
    static = create_static_files_router(f"{PREFIX}/static", [STATIC], include_in_schema=False)
    return [pages, static]
