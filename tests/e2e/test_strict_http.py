"""Strict input over HTTP (INTERFACE.md, "HTTP API", second edition): what used to be silently
ignored or misread is refused, naming what was wrong, against a real `ledger serve` on a
SQLite file loaded with the sample cases."""

from __future__ import annotations

import gzip
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import Ledger
from ledger.events import looks_like_cpr
from tests.support.server import JSON, NDJSON, Live, samples_served
from tests.support.wire import WireCase, ndjson

PERSON = "P-KBH-0003"  # a case of municipality 101 in the fixtures
STATUS = f"/v1/persons/{PERSON}/status"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with samples_served(
        tmp_path_factory.mktemp("strict"), ("municipality", "investigator", "immigration_service")
    ) as live:
        yield live


def head(db: str) -> int:
    with Ledger(db) as ledger:
        return ledger.head_position()


def errors(response: httpx.Response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in response.json()["errors"]]


def message(response: httpx.Response) -> str:
    said: str = response.json()["errors"][0]["message"]
    return said


def follow_up(person: str = PERSON, **fields: Any) -> dict[str, Any]:
    return (
        WireCase(person).event("FollowUpHeld", "2025-07-01", mode="phone", goals_met=True) | fields
    )


# --- bodies ------------------------------------------------------------------------------------


def test_a_json_key_sent_twice_is_refused_naming_the_key(live: Live) -> None:
    line = json.dumps(follow_up()).replace('"mode": "phone"', '"mode": "phone", "mode": "digital"')
    request = '{"person": "P-KBH-0003", "request_id": "UST-D", "due_on": "2027-01-01", '
    request += '"due_on": "2027-02-01"}'
    before = head(live.db)
    with live.client("municipality") as municipality:
        events = municipality.post("/v1/events", content=line.encode(), headers=NDJSON)
    with live.client("immigration_service") as service:
        status = service.post("/v1/status-requests", content=request.encode(), headers=JSON)

    assert (events.status_code, errors(events)) == (422, [("invalid_field", "mode")])
    assert (status.status_code, errors(status)) == (422, [("invalid_field", "due_on")])
    assert "more than once" in message(status)
    assert head(live.db) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        None,
    ],
)
def test_a_body_that_is_not_json_or_ndjson_is_415_even_if_it_parses_as_json(
    live: Live, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps([follow_up(event_id="5b7f3c2e-2f43-4f57-9d0e-0d7d8f6b1a01")]).encode()
    request = json.dumps({"person": PERSON, "request_id": "UST-415", "due_on": "2027-01-01"})
    before = head(live.db)
    with live.client("municipality") as municipality:
        events = municipality.post("/v1/events", content=body, headers=headers)
    with live.client("immigration_service") as service:
        status = service.post("/v1/status-requests", content=request.encode(), headers=headers)

    assert (events.status_code, errors(events)) == (
        415,
        [("unsupported_media_type", "Content-Type")],
    )
    assert (status.status_code, errors(status)) == (
        415,
        [("unsupported_media_type", "Content-Type")],
    )
    assert head(live.db) == before


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "x-unknown"])
def test_a_compressed_or_falsely_encoded_body_is_415_naming_the_encoding(
    live: Live, encoding: str
) -> None:
    plain = json.dumps([follow_up(event_id="5b7f3c2e-2f43-4f57-9d0e-0d7d8f6b1a02")]).encode()
    real = gzip.compress(plain)
    before = head(live.db)
    with live.client("municipality") as municipality:
        false = municipality.post(
            "/v1/events", content=plain, headers={**JSON, "Content-Encoding": encoding}
        )
        true = municipality.post(
            "/v1/events", content=real, headers={**JSON, "Content-Encoding": encoding}
        )

    for answer in (false, true):
        assert answer.status_code == 415
        assert errors(answer) == [("unsupported_media_type", "Content-Encoding")]
        assert encoding in message(answer)
    assert head(live.db) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("recorded_by", "kbh\u0000jonas"),
        ("recorded_by", "kbh\u202ejonas"),
        ("recorded_by", "kbh\u2067jonas"),
        ("recorded_by", "kbh\x1bjonas"),
    ],
)
def test_control_and_bidi_characters_in_text_are_422_naming_the_field(
    live: Live, field: str, value: str
) -> None:
    with live.client("municipality") as municipality:
        answer = municipality.post("/v1/events", json=[follow_up(**{field: value})])

    assert (answer.status_code, errors(answer)) == (422, [("invalid_field", field)])


def test_a_cpr_number_in_a_reference_is_refused_over_http_naming_the_field(live: Live) -> None:
    event = WireCase(PERSON).event(
        "OfferMade", "2025-07-01", offer_id="T-010190.1234", kind="mentor", starts_on="2025-08-01"
    )
    with live.client("municipality") as municipality:
        answer = municipality.post("/v1/events", json=[event])

    assert (answer.status_code, errors(answer)) == (422, [("cpr_in_field", "offer_id")])
    assert "010190" not in answer.text  # the refusal does not echo the number back


# --- messages ----------------------------------------------------------------------------------


def test_refusals_of_a_request_body_name_its_own_fields_in_words(live: Live) -> None:
    with live.client("immigration_service") as service:
        missing = service.post("/v1/status-requests", json={"person": PERSON, "request_id": "R"})
        near = service.post(
            "/v1/status-requests",
            json={"person": PERSON, "requestId": "R", "request_id": "R", "due_on": "2027-01-01"},
        )
        impossible = service.post(
            "/v1/status-requests",
            json={"person": PERSON, "request_id": "R", "due_on": "2027-02-30"},
        )

    assert (errors(missing), message(missing)) == (
        [("invalid_field", "due_on")],
        "missing required field `due_on`",
    )
    assert (errors(near), message(near)) == (
        [("invalid_field", "requestId")],
        "unknown field `requestId`; did you mean `request_id`?",
    )
    assert (errors(impossible), message(impossible)) == (
        [("invalid_field", "due_on")],
        "not a calendar date (YYYY-MM-DD)",
    )


def test_an_event_refused_over_http_says_what_would_be_allowed(live: Live) -> None:
    refusal = WireCase(PERSON).event("OfferRefused", "2025-07-01", offer_id="KBH-0003-T03")
    with live.client("municipality") as municipality:
        sick = municipality.post("/v1/events", json=[refusal | {"reasonable_cause": "sick"}])
        camel = municipality.post(
            "/v1/events", json=[{**refusal, "offerId": refusal.pop("offer_id")}]
        )

    assert message(sick).endswith(
        "must be one of: child_illness, childcare_unavailable, family_care, health_unsuitable, "
        "illness, other_documented"
    )
    assert message(camel) == "unknown field `offerId`; did you mean `offer_id`?"


# --- query parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "path", "name"),
    [
        ("investigator", f"{STATUS}?asof=2020-01-01", "asof"),
        ("investigator", f"/v1/persons/{PERSON}/history?knownAt=2026-01-01T00:00:00Z", "knownAt"),
        ("immigration_service", "/v1/status-feed?after=0&limt=5", "limt"),
        ("municipality", "/v1/municipalities/101/deadlines?day=2026-01-01", "day"),
        ("investigator", "/v1/verify?person=P-KBH-0003&deep=1", "deep"),
    ],
)
def test_an_unknown_query_parameter_is_422_naming_it(
    live: Live, role: str, path: str, name: str
) -> None:
    with live.client(role) as client:
        answer = client.get(path)

    assert (answer.status_code, errors(answer)) == (422, [("invalid_field", name)])


def test_a_near_miss_query_parameter_is_told_its_name(live: Live) -> None:
    with live.client("investigator") as client:
        answer = client.get(f"{STATUS}?asof=2020-01-01")

    assert "did you mean `as_of`?" in message(answer)


def test_a_min_position_beyond_the_head_is_422_at_once(live: Live) -> None:
    with live.client("investigator") as client:
        started = time.monotonic()
        beyond = client.get(STATUS, params={"min_position": head(live.db) + 1})
        waited = time.monotonic() - started
        reached = client.get(STATUS, params={"min_position": head(live.db)})

    assert (beyond.status_code, errors(beyond)) == (422, [("invalid_field", "min_position")])
    assert waited < 2
    assert reached.status_code == 200


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("as_of", "0001-01-01"),
        ("as_of", "9999-12-31"),
        ("as_of", "1899-12-31"),
        ("as_of", "2026-02-30"),
        ("known_at", "0001-01-01T00:00:00+23:59"),
        ("known_at", "9999-12-31T23:59:59-23:59"),
        ("known_at", "2026-01-01"),
        ("known_at", "yesterday"),
    ],
)
def test_a_day_or_moment_out_of_range_or_malformed_is_422_naming_the_parameter(
    live: Live, name: str, value: str
) -> None:
    with live.client("investigator") as client:
        answers = [
            client.get(f"/v1/persons/{PERSON}/{kind}", params={name: value})
            for kind in ("history", "sanctions", "status")
        ]

    assert [(a.status_code, errors(a)) for a in answers] == [(422, [("invalid_field", name)])] * 3


@pytest.mark.parametrize("on", ["9999-12-31", "0001-01-01", "2026-02-30"])
def test_a_worklist_day_out_of_range_is_422_naming_on(live: Live, on: str) -> None:
    with live.client("municipality") as client:
        answer = client.get("/v1/municipalities/101/deadlines", params={"on": on})

    assert (answer.status_code, errors(answer)) == (422, [("invalid_field", "on")])


@pytest.mark.parametrize(
    "known_at",
    [
        "2026-01-01",
        "2026-01-01T00:00:00",
        "2026-01-01T01:00:00+01:00",
        "2025-06-30T12:00:00Z",
        "0001-01-01T00:00:00+23:59",
        "2026-13-01T00:00:00",
        "soon",
    ],
)
def test_known_at_means_the_same_on_the_command_line_and_over_http(
    live: Live, known_at: str
) -> None:
    with live.client("investigator") as client:
        answer = client.get(STATUS, params={"known_at": known_at})
    run = CliRunner().invoke(
        cli, ["--db", live.db, "--lang", "en", "status", PERSON, "--json", "--known-at", known_at]
    )

    assert (run.exit_code == 0) == (answer.status_code == 200), (run.output, answer.text)
    if answer.status_code == 200:
        assert json.loads(run.stdout)["known_at"] == answer.json()["known_at"]
    else:
        assert run.exit_code == 2
        assert message(answer).split(";")[0] in " ".join(run.output.split())


def test_person_reads_tell_caches_not_to_store_them(live: Live) -> None:
    with live.client("investigator") as client:
        answers = [
            client.get(f"/v1/persons/{PERSON}/{kind}")
            for kind in ("history", "sanctions", "status", "events")
        ]

    assert [a.status_code for a in answers] == [200] * 4
    assert {a.headers.get("cache-control") for a in answers} == {"no-store"}


def test_an_ndjson_batch_is_still_accepted(live: Live) -> None:
    event = follow_up(event_id="5b7f3c2e-2f43-4f57-9d0e-0d7d8f6b1a09")
    with live.client("municipality") as municipality:
        answer = municipality.post("/v1/events", content=ndjson([event]), headers=NDJSON)

    assert answer.status_code == 200, answer.text


def test_token_ids_written_into_events_never_look_like_a_cpr_number(live: Live) -> None:
    made = [
        json.loads(
            CliRunner()
            .invoke(cli, ["--db", live.db, "token", "create", "--role", "admin", "--json"])
            .stdout
        )["token"]["id"]
        for _ in range(20)
    ]

    assert all(re.fullmatch(r"tok_[a-z]{16}", made_id) for made_id in made)
    assert not any(looks_like_cpr(f"udlaendingestyrelsen:{made_id}") for made_id in made)
