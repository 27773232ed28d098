"""Security review, as tests: SQL takes values only as parameters, hostile references and text
are refused or stored verbatim and harmless, no secret reaches a log, every input has a size."""

from __future__ import annotations

import ast
import json
import logging
import re
import re._parser  # the regex parser: the longest text a field's pattern can match
from collections.abc import Iterator
from pathlib import Path

import msgspec.inspect as mi
import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import Ledger
from ledger.clock import today_in_denmark
from ledger.errors import BatchRefused
from ledger.events import AnyEvent
from ledger.wire import MAX_LINE_BYTES, Line
from tests.support.paths import ROOT
from tests.support.server import NDJSON, Server, token
from tests.support.wire import WireCase, lines, ndjson

SCANNED = ("ledger", "projections", "api")  # everything that touches a store or a request
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|WHERE|VALUES)\b")
CONSTANT = re.compile(r"^_?[A-Z][A-Z0-9_]*$")
PLACEHOLDERS = re.compile(r"^'[, ]*'\.join\('\?' \* len\(\w+\)\)$")  # ?,?,? for IN (...)
HOSTILE = [
    "'; DROP TABLE stored_events; --",
    "Robert'); DROP TABLE ledger_event_ids;--",
    '{"$gt": ""}',
    "1 OR 1=1",
    "<script>alert(1)</script>",
    "\\x00' UNION SELECT key FROM ledger_person_keys --",
]


# --- SQL is built from fixed text and identifiers; values are always parameters -----------------


def _loop_constants(tree: ast.AST) -> set[str]:
    """Names that only run over a literal tuple of strings (``for what in ("A", "B")``)."""
    loops = (n for n in ast.walk(tree) if isinstance(n, ast.comprehension | ast.For))
    return {
        loop.target.id
        for loop in loops
        if isinstance(loop.target, ast.Name)
        and isinstance(loop.iter, ast.Tuple | ast.List)
        and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in loop.iter.elts)
    }


def _interpolation_is_an_identifier(expression: ast.expr, fixed: set[str]) -> bool:
    """Table names, constants and words from a literal list may be formatted into SQL."""
    text = ast.unparse(expression)
    last = text.rsplit(".", 1)[-1]
    names = {n.id for n in ast.walk(expression) if isinstance(n, ast.Name)}
    return bool(
        CONSTANT.match(last)
        or last.endswith("table_name")
        or PLACEHOLDERS.match(text)
        or (names and names <= fixed)
    )


def _is_constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) or (
        isinstance(node, ast.Name) and bool(CONSTANT.match(node.id))
    )


def _text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def sql_built_from_values(source: str) -> Iterator[tuple[int, str]]:
    """Lines where SQL text is formatted with anything but identifiers and constants."""
    tree = ast.parse(source)
    fixed = _loop_constants(tree)
    for node in ast.walk(tree):
        text = _text(node) if isinstance(node, ast.expr) else None
        if isinstance(node, ast.JoinedStr) and text and SQL_WORDS.search(text):
            for value in node.values:
                if isinstance(value, ast.FormattedValue) and not _interpolation_is_an_identifier(
                    value.value, fixed
                ):
                    yield node.lineno, ast.unparse(value.value)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
            left = _text(node.left)
            if left and SQL_WORDS.search(left) and _text(node.right) is None:
                yield node.lineno, ast.unparse(node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = _text(node.func.value)
            if node.func.attr == "format" and receiver and SQL_WORDS.search(receiver):
                yield node.lineno, ast.unparse(node)
        if (  # SQL() trusts its text: fixed text or a constant only
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "SQL"
            and not (node.args and _is_constant(node.args[0]))
        ):
            yield node.lineno, ast.unparse(node)


def _sources() -> list[Path]:
    return sorted(p for folder in SCANNED for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_sql_takes_values_only_as_parameters(path: Path) -> None:
    assert list(sql_built_from_values(path.read_text())) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "c.execute(f\"SELECT * FROM t WHERE person = '{person}'\")",
        "c.execute(\"SELECT * FROM t WHERE person = '%s'\" % person)",
        'c.execute("DELETE FROM t WHERE id = " + event_id)',
        'c.execute("UPDATE t SET key = NULL WHERE id = {}".format(oid))',
        "c.execute(SQL(f'SELECT {column} FROM t'))",
        'rows = [f"SELECT * FROM t WHERE id = {v}" for v in values]',
    ],
)
def test_the_sql_scan_finds_values_formatted_into_sql(snippet: str) -> None:
    assert list(sql_built_from_values(snippet))


def test_the_sql_scan_accepts_identifiers_and_parameters() -> None:
    snippet = (
        'c.execute(f"SELECT state FROM {self.events_table_name} WHERE id IN '
        "({','.join('?' * len(chunk))})\", chunk)\n"
        'c.execute(SQL("SELECT * FROM {0} WHERE id = %s").format(self._events), (oid,))\n'
        'ts = [f"CREATE TRIGGER no_{w.lower()} BEFORE {w} ON t" for w in ("UPDATE", "DELETE")]'
    )
    assert list(sql_built_from_values(snippet)) == []


# --- hostile references and text -----------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_person_reference_is_refused_and_harms_nothing(
    store_url: str, hostile: str
) -> None:
    with Ledger(store_url) as ledger:
        ledger.append_lines(lines([WireCase("P-OK").opened()]))
        with pytest.raises(BatchRefused) as refused:
            ledger.append_lines(lines([WireCase(hostile).opened()]))
        report = ledger.verify()
        stored = ledger.case_events("P-OK")

    assert [(e.code, e.field) for e in refused.value.errors] == [("invalid_field", "person")]
    assert report.ok
    assert report.checked == len(stored) == 1


@pytest.mark.parametrize("field", ["event_id", "municipality", "occurred_on"])
def test_hostile_ids_are_refused(db_path: str, field: str) -> None:
    event = WireCase("P-OK").opened()
    event[field] = HOSTILE[0]
    with Ledger(db_path) as ledger, pytest.raises(BatchRefused) as refused:
        ledger.append_lines(lines([event]))
    assert [e.field for e in refused.value.errors] == [field]


def test_hostile_free_text_is_stored_verbatim_and_harms_nothing(store_url: str) -> None:
    case = WireCase("P-TEXT")
    opened = case.opened(residence_basis=" ".join(HOSTILE), recorded_by=HOSTILE[0])
    offer = case.offer("O-1")
    retraction = case.event("EventRetracted", retracts=offer["event_id"], reason=HOSTILE[1])
    with Ledger(store_url) as ledger:
        ledger.append_lines(lines([opened, offer, retraction]))
        stored = ledger.case_events("P-TEXT")
        report = ledger.verify()
        again = ledger.append_lines(lines([opened, offer, retraction]))

    assert stored[0].event.residence_basis == " ".join(HOSTILE)  # type: ignore[union-attr]
    assert stored[0].event.recorded_by == HOSTILE[0]
    assert stored[2].event.reason == HOSTILE[1]  # type: ignore[union-attr]
    assert report.ok
    assert report.checked == 3
    assert again.duplicates == 3


# --- roles, as INTERFACE.md gives them ----------------------------------------------------------

ROUTES: dict[tuple[str, str], set[str]] = {  # (method, path): roles allowed
    ("POST", "/v1/events"): {"municipality"},
    ("GET", "/v1/persons/P-A/history"): {"municipality", "investigator"},
    ("GET", "/v1/persons/P-A/sanctions"): {"municipality", "investigator"},
    ("GET", "/v1/persons/P-A/status"): {"municipality", "investigator", "immigration_service"},
    ("GET", "/v1/persons/P-A/events"): {"investigator"},
    ("GET", "/v1/status-feed"): {"immigration_service"},
    ("POST", "/v1/status-requests"): {"immigration_service"},
    ("POST", "/v1/status-requests/P-A/R-1/retraction"): {"immigration_service"},
    ("GET", "/v1/municipalities/101/deadlines"): {"municipality"},
    ("GET", "/v1/verify"): {"investigator"},
}


def test_every_route_answers_only_the_roles_interface_md_names(
    db_path: str, tmp_path: Path
) -> None:
    case = WireCase("P-A")
    with Ledger(db_path) as ledger:
        ledger.append_lines(lines([case.opened()]))
    secrets: dict[str, str | None] = {
        "municipality": token(db_path, "municipality", "101"),
        "other municipality": token(db_path, "municipality", "751"),
        "immigration_service": token(db_path, "immigration_service"),
        "investigator": token(db_path, "investigator"),
        "admin": token(db_path, "admin"),
        "no token": None,
    }
    bodies = {
        "/v1/events": ndjson([case.event("ContactAttempted", channel="phone", reached=True)]),
        "/v1/status-requests": json.dumps(
            {"person": "P-A", "request_id": "R-1", "due_on": today_in_denmark().isoformat()}
        ).encode(),
        "/v1/status-requests/P-A/R-1/retraction": b'{"reason": "sent for the wrong person"}',
    }
    seen: dict[tuple[str, str, str], int] = {}
    with Server(db_path, tmp_path / "serve.log") as server:
        for role, secret in secrets.items():
            with server.client(secret) as client:
                for method, path in ROUTES:
                    answer = client.request(method, path, content=bodies.get(path), headers=NDJSON)
                    seen[role, method, path] = answer.status_code
            if role == "investigator":
                with server.client(secret) as client:
                    logged = client.get("/v1/access-log", params={"person": "P-A"}).json()

    expected = {
        (role, method, path): (401 if role == "no token" else 200 if role in allowed else 403)
        for role in secrets
        for (method, path), allowed in ROUTES.items()
    }
    # A case another municipality is responsible for reads as an unknown person would.
    expected |= {
        ("other municipality", "GET", f"/v1/persons/P-A/{kind}"): 404
        for kind in ("history", "sanctions", "status")
    }
    assert seen == expected
    assert {e["action"] for e in logged["entries"]} >= {"history", "sanctions", "status", "events"}


# --- no secret in any log ------------------------------------------------------------------------

NAME, CPR = "Amina Hansen", "010190-1234"


def test_no_personal_data_reaches_a_log_or_an_error(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    case = WireCase("P-LOG")
    opened = case.opened(personal={"name": NAME, "cpr": CPR})
    changed = {**opened, "personal": {"name": NAME, "cpr": "020290-4321"}}
    cpr_as_person = WireCase(CPR).opened()
    with Ledger(store_url) as ledger:
        ledger.append_lines(lines([opened]))
        with pytest.raises(BatchRefused) as refused:
            ledger.append_lines(lines([changed, cpr_as_person]))
        ledger.case_events("P-LOG")
        ledger.forget("P-LOG")
    cli_refusal = CliRunner().invoke(
        cli, ["--db", store_url, "append", "-"], input=json.dumps(cpr_as_person)
    )

    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text}" for r in caplog.records)
    told = " ".join(e.message for e in refused.value.errors) + cli_refusal.output
    for secret in (NAME, CPR, "020290-4321"):
        assert secret not in logged
        assert secret not in told


def test_the_server_log_names_no_token_and_no_personal_data(db_path: str, tmp_path: Path) -> None:
    secret = token(db_path, "municipality", "101")
    log = tmp_path / "serve.log"
    opened = WireCase("P-LOG").opened(personal={"name": NAME, "cpr": CPR})
    with Server(db_path, log) as server, server.client(secret) as client:
        stored = client.post("/v1/events", content=ndjson([opened]), headers=NDJSON)
        cpr_as_person = ndjson([WireCase(CPR).opened()])
        refused = client.post("/v1/events", content=cpr_as_person, headers=NDJSON)
        by_path = client.get(f"/v1/persons/{CPR}/status")
        with server.client(secret + "x") as stranger:
            unknown = stranger.get("/v1/verify")
    logged = log.read_text()

    assert [r.status_code for r in (stored, refused, by_path, unknown)] == [200, 422, 404, 401]
    assert '"/v1/events"' in logged  # every request is logged, so the log could show them
    for secret_text in (secret, NAME, CPR):
        assert secret_text not in logged


def test_the_database_password_is_never_shown_nor_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # eventsourcing reads LEDGER_-prefixed settings first: give up on the closed port sooner.
    monkeypatch.setenv("LEDGER_POSTGRES_CONNECT_TIMEOUT", "1")
    url = "postgresql://ledger:s3cret-pw@127.0.0.1:1/nowhere"

    result = CliRunner().invoke(cli, ["--db", url, "verify", "--json"])

    assert result.exit_code == 1
    assert "127.0.0.1:1/nowhere" in result.output
    assert "s3cret-pw" not in result.output
    assert "s3cret-pw" not in caplog.text


# --- every input has a size limit ----------------------------------------------------------------

LONGEST_MATCH = 10_000  # patterns may bound a text instead of max_length; anything below this


def _sized(info: mi.Type, path: str) -> Iterator[tuple[str, bool]]:
    """Every text, list and number in the catalogue, and whether its size is bounded."""
    match info:
        case mi.UnionType(types=types):
            for member in types:
                yield from _sized(member, path)
        case mi.StructType(cls=cls, fields=fields):
            for f in fields:
                yield from _sized(f.type, f"{path or cls.__name__}.{f.name}")
        case mi.StrType(max_length=most, pattern=pattern):
            width = re._parser.parse(pattern).getwidth()[1] if pattern else None
            yield path, most is not None or (width is not None and width < LONGEST_MATCH)
        case mi.ListType(max_length=most, item_type=item):
            yield path, most is not None
            yield from _sized(item, f"{path}[]")
        case mi.IntType(le=le, lt=lt) | mi.FloatType(le=le, lt=lt):
            yield path, le is not None or lt is not None
        case _:
            pass


@pytest.mark.parametrize(
    ("path", "bounded"), sorted(set(_sized(mi.type_info(AnyEvent), ""))), ids=str
)
def test_every_text_list_and_number_of_the_catalogue_has_a_bound(path: str, bounded: bool) -> None:
    assert bounded, f"{path} accepts any size"


@pytest.mark.parametrize("amount", ["1e30", "10000000.01", "NaN", "Infinity"])
def test_amounts_have_a_bound(db_path: str, amount: str) -> None:
    case = WireCase("P-AMOUNT")
    benefit = case.event("BenefitGranted", benefit="integrationsydelse", monthly_amount_dkk=amount)
    with Ledger(db_path) as ledger, pytest.raises(BatchRefused) as refused:
        ledger.append_lines(lines([case.opened(), benefit]))
    assert [(e.line, e.field) for e in refused.value.errors] == [(2, "monthly_amount_dkk")]


def test_a_line_longer_than_the_limit_is_refused_unread(db_path: str) -> None:
    line = b'{"type": "' + b"x" * MAX_LINE_BYTES + b'"}'
    with Ledger(db_path) as ledger, pytest.raises(BatchRefused) as refused:
        ledger.append_lines([Line(1, line)])
    [error] = refused.value.errors
    assert (error.code, error.event_id) == ("invalid_json", None)
    assert str(MAX_LINE_BYTES) in error.message
