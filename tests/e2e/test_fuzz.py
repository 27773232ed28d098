"""Malformed and adversarial NDJSON, generated: every refused line gets exactly one typed error
with a code from INTERFACE.md, nothing of a refused batch is stored, and nothing ever ends in a
traceback or a 500; through the application service (both stores), `ledger append` and
`POST /v1/events` of `ledger serve`.

`make test` runs a few dozen batches per target; LEDGER_FUZZ_EXAMPLES=20000 runs a long one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import cli
from ledger.application import Ledger
from ledger.errors import WIRE_CODES, BatchRefused
from ledger.wire import MAX_LINE_BYTES, ndjson_lines
from tests.support.server import JSON, NDJSON, Server, token

EXAMPLES = int(os.environ.get("LEDGER_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
HTTP_CODES = WIRE_CODES | {"forbidden"}
REFUSED = {403, 409, 413, 422}  # INTERFACE.md, "HTTP API": refused input, never a 500
ADVERSARIAL_TEXT = [
    "'; DROP TABLE stored_events; --",
    "Robert'); DROP TABLE ledger_event_ids;--",
    '{"$gt": ""}',
    "010190-1234",
    "0101901234",
    "x\u0000y",
    "\u202eevil",
    "\ufeffbom",
    "😀",
    "%s%s%n",
    "${jndi:ldap://example.invalid/a}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
]
WRONG_TYPES: list[Any] = [0, -1, 1.5, True, None, [], {}, {"$gt": ""}, [["nested"]]]
BAD_UTF8 = [b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf"]
LONE_SURROGATES = [b'"\\ud800"', b'"\\udc00\\ud800"', b'"x\\udfff"']
HUGE_NUMBERS = [
    b"1e400",
    b"-1e400",
    b"1" + b"0" * 100,
    b"1e-400",
    b"123456789012345678901234567890",
]


@dataclass
class Tally:
    """Figures of a run, reported at the end of the long fuzz run."""

    batches: int = 0
    lines: int = 0
    refused_lines: int = 0
    stored: int = 0
    codes: dict[str, int] = field(default_factory=dict)


# --- strategies ---------------------------------------------------------------------------------

persons = st.from_regex(r"\AF-[A-Za-z0-9._:-]{1,20}\Z")
texts = st.sampled_from(ADVERSARIAL_TEXT) | st.text(min_size=1, max_size=40)


@st.composite
def opening(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed opening event of a new case, with adversarial free text."""
    event: dict[str, Any] = {
        "type": "ResponsibilityAssumed",
        "event_id": str(draw(st.uuids())),
        "person": draw(persons),
        "municipality": draw(st.sampled_from(["101", "751", "461"])),
        "occurred_on": "2024-01-02",
        "category": "refugee",
        "residence_basis": draw(texts),
    }
    if draw(st.booleans()):
        event["recorded_by"] = draw(texts.filter(lambda t: len(t) <= 64))
    if draw(st.booleans()):
        event["personal"] = {"name": draw(texts), "cpr": "010190-1234"}
    return event


def encoded(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


@st.composite
def wrong_type(draw: st.DrawFn) -> bytes:
    event = draw(opening())
    name = draw(st.sampled_from(["event_id", "person", "municipality", "occurred_on", "type"]))
    event[name] = draw(st.sampled_from(WRONG_TYPES))
    return encoded(event)


@st.composite
def huge_number(draw: st.DrawFn) -> bytes:
    absence = {
        "type": "AbsenceRecorded",
        "event_id": str(draw(st.uuids())),
        "person": draw(persons),
        "municipality": "101",
        "occurred_on": "2024-01-10",
        "offer_id": "O-1",
        "days": 2,
    }
    absence[draw(st.sampled_from(["days", "person", "occurred_on", "municipality"]))] = "HUGE"
    return encoded(absence).replace(b'"HUGE"', draw(st.sampled_from(HUGE_NUMBERS)))


@st.composite
def deep_nesting(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(min_value=1, max_value=10_000))
    nested = b"[" * depth + b"]" * depth
    if draw(st.booleans()):
        return nested
    event = draw(opening())
    event[draw(st.sampled_from(["person", "residence_basis", "personal"]))] = "NEST"
    return encoded(event).replace(b'"NEST"', nested)


@st.composite
def invalid_utf8(draw: st.DrawFn) -> bytes:
    event = draw(opening())
    event["residence_basis"] = "BAD"
    return encoded(event).replace(b"BAD", draw(st.sampled_from(BAD_UTF8)))


@st.composite
def cpr_as_person(draw: st.DrawFn) -> bytes:
    event = draw(opening())
    event["person"] = draw(st.from_regex(r"\A[0-9]{6}-?[0-9]{4}\Z"))
    return encoded(event)


@st.composite
def injection_as_reference(draw: st.DrawFn) -> bytes:
    event = draw(opening())
    event[draw(st.sampled_from(["person", "event_id", "municipality"]))] = draw(
        st.sampled_from([t for t in ADVERSARIAL_TEXT if t not in {"010190-1234", "😀"}])
    )
    return encoded(event)


@st.composite
def raw_damage(draw: st.DrawFn) -> bytes:
    """A valid line with a BOM in front, a raw NUL or control byte inside, a lone surrogate,
    or cut off."""
    line = encoded(draw(opening()))
    match draw(st.sampled_from(["bom", "control", "surrogate", "cut"])):
        case "bom":
            return b"\xef\xbb\xbf" + line
        case "control":
            at = draw(st.integers(min_value=1, max_value=len(line) - 1))
            return line[:at] + draw(st.sampled_from([b"\x00", b"\x01", b"\x1f"])) + line[at:]
        case "surrogate":
            return line.replace(b'"refugee"', draw(st.sampled_from(LONE_SURROGATES)))
        case _:
            return line[: draw(st.integers(min_value=1, max_value=len(line) - 1))]


refused_for_sure = st.one_of(
    wrong_type(),
    huge_number(),
    deep_nesting(),
    invalid_utf8(),
    cpr_as_person(),
    injection_as_reference(),
    raw_damage(),
)
maybe_refused = st.one_of(
    opening().map(encoded),
    st.binary(max_size=200).map(lambda b: b.replace(b"\n", b"")),
    st.just(b"   "),  # a blank line: skipped, but counted
)


@st.composite
def batches(draw: st.DrawFn) -> tuple[bytes, set[int]]:
    """An NDJSON batch of mixed lines, and the numbers of the lines that must be refused."""
    maybe = st.tuples(maybe_refused, st.just(False))
    mixed = st.tuples(refused_for_sure, st.just(True)) | maybe
    items = draw(st.lists(mixed, min_size=1, max_size=8) | st.lists(maybe, min_size=1, max_size=8))
    refused = {number for number, (_, sure) in enumerate(items, start=1) if sure}
    return b"\n".join(raw for raw, _ in items) + b"\n", refused


# --- the properties -----------------------------------------------------------------------------


def check_answer(
    answer: dict[str, Any],
    data: bytes,
    refused: set[int],
    counts: tuple[int, int],
    tally: Tally,
    codes: set[str] = WIRE_CODES,
) -> None:
    """What `append` answered, against what the batch holds and the number of stored events
    (not the head position: on PostgreSQL a rolled-back write leaves a gap in positions)."""
    counted = {line.number for line in ndjson_lines(data)}
    before, after = counts
    tally.batches += 1
    tally.lines += len(counted)
    if "errors" in answer:
        lines = [error["line"] for error in answer["errors"]]
        assert len(lines) == len(set(lines)), "a line got more than one error"
        assert refused <= set(lines) <= counted
        assert {error["code"] for error in answer["errors"]} <= codes
        assert after == before, "a refused batch stored something"
        tally.refused_lines += len(lines)
        for error in answer["errors"]:
            tally.codes[error["code"]] = tally.codes.get(error["code"], 0) + 1
    else:
        assert not refused, "a batch with malformed lines was stored"
        assert answer["appended"] + answer["duplicates"] == len(counted)
        assert after == before + answer["appended"]
        tally.stored += answer["appended"]


def through_the_service(ledger: Ledger, data: bytes) -> dict[str, Any]:
    try:
        result = ledger.append_lines(ndjson_lines(data))
    except BatchRefused as refusal:
        return {"errors": [{"line": e.line, "code": e.code} for e in refusal.errors]}
    return {"appended": result.appended, "duplicates": result.duplicates}


def through_the_cli(db: str, data: bytes) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["--db", db, "append", "--json", "-"], input=data)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in {0, 1}, result.output
    assert "Traceback" not in result.output
    answer: dict[str, Any] = json.loads(result.stdout)
    assert (result.exit_code == 1) == ("errors" in answer)
    return answer


def through_http(client: httpx.Client, data: bytes) -> dict[str, Any]:
    response = client.post("/v1/events", content=data, headers=NDJSON)
    assert response.status_code in {200, *REFUSED}, response.text
    answer: dict[str, Any] = response.json()
    assert (response.status_code == 200) == ("errors" not in answer)
    return answer


def report(name: str, tally: Tally) -> None:
    print(
        f"{name}: {tally.batches} batches, {tally.lines} lines, {tally.refused_lines} refused "
        f"with a typed error, {tally.stored} stored, 0 tracebacks; codes {tally.codes}"
    )


def test_generated_batches_through_the_service(store_url: str) -> None:
    tally = Tally()
    with Ledger(store_url) as ledger:

        @FUZZ
        @given(batches())
        def batch_is_refused_or_stored_whole(case: tuple[bytes, set[int]]) -> None:
            data, refused = case
            before = ledger.store.count_index()
            answer = through_the_service(ledger, data)
            check_answer(answer, data, refused, (before, ledger.store.count_index()), tally)

        batch_is_refused_or_stored_whole()
        assert ledger.verify().ok
    report("service", tally)


def test_generated_batches_through_the_command_line(db_path: str) -> None:
    tally = Tally()
    with Ledger(db_path) as ledger:

        @FUZZ
        @given(batches())
        def batch_is_refused_or_stored_whole(case: tuple[bytes, set[int]]) -> None:
            data, refused = case
            before = ledger.store.count_index()
            answer = through_the_cli(db_path, data)
            check_answer(answer, data, refused, (before, ledger.store.count_index()), tally)

        batch_is_refused_or_stored_whole()
    report("command line", tally)


def test_generated_batches_through_http(db_path: str, tmp_path: Path) -> None:
    tally = Tally()
    secret = token(db_path, "municipality", "101")
    with (
        Server(db_path, tmp_path / "serve.log") as server,
        server.client(secret) as client,
        Ledger(db_path) as ledger,
    ):

        @FUZZ
        @given(batches())
        def batch_is_refused_or_stored_whole(case: tuple[bytes, set[int]]) -> None:
            data, refused = case
            before = ledger.store.count_index()
            answer = through_http(client, data)
            counts = (before, ledger.store.count_index())
            check_answer(answer, data, refused, counts, tally, HTTP_CODES)

        batch_is_refused_or_stored_whole()
    report("HTTP", tally)


def head(db: str) -> int:
    with Ledger(db) as ledger:
        return ledger.head_position()


# --- the named worst cases, every one of them every run ------------------------------------------

VALID = encoded(
    {
        "type": "ResponsibilityAssumed",
        "event_id": "6b0c8f8e-3e0f-4c55-9d55-2f1f0a6c1a01",
        "person": "F-VALID",
        "municipality": "101",
        "occurred_on": "2024-01-02",
        "category": "refugee",
        "residence_basis": "UDL § 7",
    }
)
WORST: dict[str, Callable[[], bytes]] = {
    "a 10 MB line": lambda: VALID.replace(b"UDL", b"x" * (10 * 1024 * 1024)),
    "a line just over the limit": lambda: VALID.replace(b"UDL", b"x" * MAX_LINE_BYTES),
    "10 000 nested arrays": lambda: b"[" * 10_000 + b"]" * 10_000,
    "10 000 nested objects in a field": lambda: VALID.replace(
        b'"UDL \\u00a7 7"', b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    ),
    "1e400": lambda: VALID.replace(b'"101"', b"1e400"),
    "10**100": lambda: VALID.replace(b'"101"', str(10**100).encode()),
    "invalid UTF-8": lambda: VALID.replace(b"UDL", b"\xff\xfe"),
    "a BOM": lambda: b"\xef\xbb\xbf" + VALID,
    "a NUL byte": lambda: VALID.replace(b"UDL", b"\x00"),
    "a lone surrogate": lambda: VALID.replace(b"UDL", b"\\udfff"),
    "an injection as person": lambda: VALID.replace(b"F-VALID", b"'; DROP TABLE stored_events; --"),
    "an operator object as person": lambda: VALID.replace(b'"F-VALID"', b'{"$gt": ""}'),
    "a CPR number as person": lambda: VALID.replace(b"F-VALID", b"010190-1234"),
}


@pytest.mark.parametrize("name", WORST)
def test_a_worst_case_line_is_refused_with_one_typed_error(
    db_path: str, tmp_path: Path, name: str
) -> None:
    data = VALID.replace(b"F-VALID", b"F-OTHER").replace(b"6b0c", b"7b0c") + b"\n"
    data += WORST[name]() + b"\n"
    path = tmp_path / "batch.ndjson"
    path.write_bytes(data)

    result = CliRunner().invoke(cli, ["--db", db_path, "append", "--json", str(path)])

    assert result.exit_code == 1, result.output
    [error] = json.loads(result.stdout)["errors"]
    assert error["line"] == 2
    assert error["code"] in WIRE_CODES
    assert head(db_path) == 0


def test_the_worst_cases_are_refused_over_http_never_with_a_500(
    db_path: str, tmp_path: Path
) -> None:
    bodies = {f"{name}, NDJSON": VALID + b"\n" + make() for name, make in WORST.items()}
    arrays = {
        f"{name}, JSON array": b"[" + VALID + b"," + make() + b"]" for name, make in WORST.items()
    }
    secret = token(db_path, "municipality", "101")
    with Server(db_path, tmp_path / "serve.log") as server, server.client(secret) as client:
        answers = {
            name: client.post("/v1/events", content=body, headers=NDJSON)
            for name, body in bodies.items()
        } | {
            name: client.post("/v1/events", content=body, headers=JSON)
            for name, body in arrays.items()
        }

    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 422)
    assert all(a.json()["errors"][0]["code"] in WIRE_CODES for a in answers.values())
    assert head(db_path) == 0
