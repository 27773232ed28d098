"""Refusals over HTTP in the caller's language: English, the interface's, unless the request
asks for Danish (``Accept-Language: da``); codes, fields and lines never change. Against a real
`ledger serve` on a SQLite file loaded with the sample cases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.paths import BAD_BATCHES, EXPECTED_REFUSALS
from tests.support.server import NDJSON, Live, samples_served

DANISH = {"Accept-Language": "da"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with samples_served(
        tmp_path_factory.mktemp("refusals-http"), ("municipality", "investigator")
    ) as live:
        yield live


def errors(response: httpx.Response) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = response.json()["errors"]
    return found


def without_messages(response: httpx.Response) -> list[tuple[Any, ...]]:
    return [(e["line"], e["event_id"], e["code"], e["field"]) for e in errors(response)]


def test_an_unknown_person_is_refused_in_english_unless_danish_is_asked_for(live: Live) -> None:
    with live.client("investigator") as client:
        english = client.get("/v1/persons/NOPE/status")
        browser = client.get(
            "/v1/persons/NOPE/status", headers={"Accept-Language": "en-GB,en;q=0.9,da;q=0.5"}
        )
        danish = client.get("/v1/persons/NOPE/status", headers=DANISH)

    assert english.status_code == browser.status_code == danish.status_code == 404
    assert english.content == browser.content
    assert errors(english)[0]["message"] == "the ledger holds no case for person 'NOPE'"
    assert errors(danish)[0]["message"] == "registret har ingen sag for person 'NOPE'"
    assert without_messages(english) == without_messages(danish)


@pytest.mark.parametrize(
    "name",
    [
        "unknown_type.ndjson",
        "invalid_field_missing_or_unknown.ndjson",
        "invalid_field_out_of_range.ndjson",
    ],
)
def test_a_refused_batch_reads_in_danish_with_the_same_codes_fields_and_lines(
    live: Live, name: str
) -> None:
    body = (BAD_BATCHES / name).read_bytes()
    with live.client("municipality") as client:
        english = client.post("/v1/events", content=body, headers=NDJSON)
        danish = client.post("/v1/events", content=body, headers=NDJSON | DANISH)

    assert english.status_code == danish.status_code == 422
    assert without_messages(english) == without_messages(danish)
    pinned = EXPECTED_REFUSALS[name]
    assert [e["code"] for e in errors(english)] == [e["code"] for e in pinned]
    for said, told in zip(errors(english), errors(danish), strict=True):
        assert said["message"] != told["message"]


def test_an_unknown_event_type_is_named_in_danish(live: Live) -> None:
    body = (BAD_BATCHES / "unknown_type.ndjson").read_bytes()
    with live.client("municipality") as client:
        danish = client.post("/v1/events", content=body, headers=NDJSON | DANISH)

    assert "findes ikke i hændelseskataloget" in errors(danish)[0]["message"]


def test_the_servers_own_refusals_of_a_request_read_in_danish(live: Live) -> None:
    with live.client("investigator") as client:
        unknown = client.get("/v1/persons/P-KBH-0001/status?asof=2024-01-01", headers=DANISH)
        bad_day = client.get("/v1/persons/P-KBH-0001/status?as_of=2024-13-01", headers=DANISH)
    with live.server.client(None) as anonymous:
        unsigned = anonymous.get("/v1/persons/P-KBH-0001/status", headers=DANISH)
    with live.client("municipality") as municipality:
        forbidden = municipality.get("/v1/status-feed", headers=DANISH)

    assert errors(unknown)[0]["message"].startswith("ukendt forespørgselsparameter `asof`")
    assert (bad_day.status_code, errors(bad_day)[0]["field"]) == (422, "as_of")
    assert "er ikke en kalenderdato" in errors(bad_day)[0]["message"]
    assert unsigned.status_code == 401
    assert errors(unsigned)[0]["message"] == "send Authorization: Bearer TOKEN"
    assert forbidden.status_code == 403
    assert errors(forbidden)[0]["message"].startswith("rollen municipality må ikke")
