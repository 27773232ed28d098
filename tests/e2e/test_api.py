"""The HTTP API as INTERFACE.md promises it, against a real server over loopback.

One ``ledger serve`` per store kind (a SQLite file, a PostgreSQL database) serves the whole
module, loaded with the sample cases in ``fixtures/cases.ndjson``; tests that write use persons
of their own, so they do not depend on each other's order.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from click.testing import CliRunner

from bench.load import serving
from cli.main import cli
from ledger.application import Ledger
from ledger.clock import today_in_denmark
from ledger.disclosure import CATEGORIES
from ledger.wire import ndjson_lines
from tests.support.paths import SAMPLE_CASES
from tests.support.pg import PostgresCluster
from tests.support.served import ROLE_TOKENS, Served, make_token
from tests.support.server import JSON
from tests.support.wire import WireCase, correction_after_move, ndjson

DUE = (today_in_denmark() + timedelta(days=28)).isoformat()  # a status request made today


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("api")
    cluster: PostgresCluster | None = None
    name = f"api_{uuid.uuid4().hex}"
    if request.param == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        db = cluster.create_database(name)
    else:
        db = str(folder / "ledger.db")
    ledger = Ledger(db)
    try:
        ledger.append_lines(ndjson_lines(SAMPLE_CASES.read_bytes()))
    finally:
        ledger.close()
    tokens = {role: make_token(db, *binding) for role, binding in ROLE_TOKENS.items()}
    log = folder / "server.log"
    try:
        with serving(db, log) as base:
            yield Served(db, base, log, tokens)
    finally:
        if cluster is not None:
            cluster.drop_database(name)


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors


def codes(response: httpx.Response) -> list[str]:
    return [e["code"] for e in errors_of(response)]


# --- every role against every endpoint -------------------------------------------------------

ENDPOINTS: dict[str, tuple[str, str, Any]] = {
    "append": ("POST", "/v1/events", []),
    "history": ("GET", "/v1/persons/P-KBH-0001/history", None),
    "sanctions": ("GET", "/v1/persons/P-KBH-0001/sanctions", None),
    "status": ("GET", "/v1/persons/P-KBH-0001/status", None),
    "events": ("GET", "/v1/persons/P-KBH-0001/events", None),
    "status_feed": ("GET", "/v1/status-feed", None),
    "status_requests": (
        "POST",
        "/v1/status-requests",
        {"person": "P-AAL-0002", "request_id": "UST-ROLES", "due_on": DUE},
    ),
    "deadlines": ("GET", "/v1/municipalities/101/deadlines", None),
    "verify": ("GET", "/v1/verify", None),
    "access_log": ("GET", "/v1/access-log", None),
    "tokens": ("GET", "/v1/tokens", None),
}
ALLOWED = {
    "append": {"municipality"},
    "history": {"municipality", "investigator"},
    "sanctions": {"municipality", "investigator"},
    "status": {"municipality", "investigator", "immigration_service"},
    "events": {"investigator"},
    "status_feed": {"immigration_service"},
    "status_requests": {"immigration_service"},
    "deadlines": {"municipality"},
    "verify": {"investigator"},
    "access_log": {"investigator"},
    "tokens": {"admin"},
}


@pytest.mark.parametrize("role", list(ROLE_TOKENS))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_each_role_may_call_exactly_the_endpoints_the_interface_gives_it(
    server: Served, endpoint: str, role: str
) -> None:
    method, path, body = ENDPOINTS[endpoint]
    with server.client(role) as client:
        response = client.request(method, path, json=body)

    if role in ALLOWED[endpoint]:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 403, response.text
        assert codes(response) == ["forbidden"]


def test_the_openapi_document_names_every_code_a_refused_event_can_get(server: Served) -> None:
    with server.client(None) as client:
        document = client.get("/schema/openapi.json").json()

    refused = document["paths"]["/v1/events"]["post"]["responses"]["422"]["description"]
    assert "`rule_violation`" in refused
    assert "`not_responsible`" in refused


def test_liveness_metrics_and_the_openapi_document_need_no_token(server: Served) -> None:
    with server.client(None) as client:
        health = client.get("/healthz")
        metrics = client.get("/metrics")
        document = client.get("/schema/openapi.json")
        docs = client.get("/schema")

    assert health.json() == {"status": "ok", "store": "ok"}
    assert metrics.headers["content-type"].startswith("text/plain")
    assert {"/v1/events", "/v1/persons/{person}/status", "/v1/status-feed"} <= set(
        document.json()["paths"]
    )
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]


# --- tokens ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-token", "Basic dXNlcjpwYXNz", "Token abc"],
)
def test_a_missing_or_unknown_token_is_401(server: Served, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with server.client(None) as client:
        response = client.get("/v1/persons/P-KBH-0001/status", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert codes(response) == ["unauthorized"]


def test_concurrent_reads_of_many_persons_each_get_their_own_view(server: Served) -> None:
    # Concurrent reads share trips to the store (api.waves); each must still get its own row.
    persons = sorted(
        {json.loads(line)["person"] for line in SAMPLE_CASES.read_text().splitlines() if line}
    )
    asks = [(person, kind) for person in persons for kind in ("status", "sanctions", "history")]
    with server.client("investigator") as client:
        alone = {ask: comparable(client.get(f"/v1/persons/{ask[0]}/{ask[1]}")) for ask in asks}

    async def together() -> list[httpx.Response]:
        headers = {"Authorization": f"Bearer {server.secret('investigator')}"}
        async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=30) as c:
            return await asyncio.gather(*(c.get(f"/v1/persons/{p}/{k}") for p, k in asks * 3))

    answers = asyncio.run(together())
    assert len(persons) > 8  # more than one read of a wave
    assert [comparable(answer) for answer in answers] == [alone[ask] for ask in asks * 3]


def comparable(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    view.pop("generated_at", None)
    return view


def test_a_revoked_token_is_refused_at_once(server: Served) -> None:
    issued = make_token(server.db, "immigration_service")
    headers = {"Authorization": f"Bearer {issued['secret']}"}
    with server.client(None) as client:
        before = client.get("/v1/persons/P-KBH-0001/status", headers=headers)
        revoked = CliRunner().invoke(
            cli, ["--db", server.db, "token", "revoke", "--json", issued["token"]["id"]]
        )
        after = client.get("/v1/persons/P-KBH-0001/status", headers=headers)

    assert before.status_code == 200
    assert json.loads(revoked.output)["revoked_at"]
    assert after.status_code == 401


def test_an_admin_manages_tokens_over_http_and_secrets_are_never_listed(server: Served) -> None:
    with server.client("admin") as admin:
        made = admin.post("/v1/tokens", json={"role": "municipality", "municipality": "461"})
        unbound = admin.post("/v1/tokens", json={"role": "municipality"})
        bound_wrongly = admin.post(
            "/v1/tokens", json={"role": "investigator", "municipality": "461"}
        )
        secret = made.json()["secret"]
        listed = admin.get("/v1/tokens")
        revoked = admin.delete(f"/v1/tokens/{made.json()['token']['id']}")
        unknown = admin.delete("/v1/tokens/tok_nope")
    with server.client(None) as client:
        use = client.get(
            "/v1/municipalities/461/deadlines", headers={"Authorization": f"Bearer {secret}"}
        )

    assert made.status_code == 201
    assert made.json()["token"]["municipality"] == "461"
    assert [e["field"] for e in errors_of(unbound)] == ["municipality"]
    assert [e["field"] for e in errors_of(bound_wrongly)] == ["municipality"]
    assert secret not in listed.text
    assert "secret" not in listed.text
    assert revoked.json()["revoked_at"] is not None
    assert unknown.status_code == 404
    assert use.status_code == 401


def test_the_token_command_refuses_a_municipality_token_without_its_kommunekode(
    server: Served,
) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["--db", server.db, "token", "create", "--role", "municipality"])
    unknown = runner.invoke(
        cli,
        ["--db", server.db, "token", "create", "--role", "municipality", "--municipality", "999"],
    )
    listed = runner.invoke(cli, ["--db", server.db, "token", "list", "--json"])

    assert missing.exit_code == 2
    assert unknown.exit_code == 2
    assert "secret" not in listed.output
    assert {t["role"] for t in json.loads(listed.output)} >= set(ROLE_TOKENS)


# --- appending -------------------------------------------------------------------------------


def test_a_batch_is_appended_from_a_json_array_or_ndjson_and_a_retry_is_a_duplicate(
    server: Served,
) -> None:
    case = WireCase("P-API-APPEND")
    first, second = case.opened(), case.offer("O-1")
    with server.client("municipality") as client:
        array = client.post("/v1/events", json=[first])
        lines = client.post(
            "/v1/events",
            content=ndjson([first, second]),
            headers={"Content-Type": "application/x-ndjson"},
        )
    with server.client("investigator") as client:
        stored = client.get("/v1/persons/P-API-APPEND/events").json()

    assert array.json()["appended"] == 1
    body = lines.json()
    assert (body["appended"], body["duplicates"]) == (1, 1)
    assert [r["status"] for r in body["results"]] == ["duplicate", "appended"]
    assert body["position"] == body["results"][1]["position"]
    assert [e["event_id"] for e in stored] == [first["event_id"], second["event_id"]]
    assert {"recorded_at", "position", "version", "hash"} <= set(stored[0])


def test_a_refused_batch_lists_every_refused_event_and_stores_nothing(server: Served) -> None:
    case = WireCase("P-API-REFUSED")
    batch = [case.opened(), case.absence("O-404"), {"type": "Nope"}, 7]
    with server.client("municipality") as client:
        refused = client.post("/v1/events", json=batch)
        after = client.get("/v1/persons/P-API-REFUSED/status")

    assert refused.status_code == 422
    assert [(e["line"], e["code"]) for e in errors_of(refused)] == [
        (2, "unknown_offer"),
        (3, "unknown_type"),
        (4, "invalid_json"),
    ]
    assert after.status_code == 404


def test_the_same_event_id_with_other_content_is_409(server: Served) -> None:
    case = WireCase("P-API-CONFLICT")
    opened = case.opened()
    with server.client("municipality") as client:
        client.post("/v1/events", json=[opened])
        conflict = client.post("/v1/events", json=[{**opened, "occurred_on": "2024-01-03"}])

    assert conflict.status_code == 409
    assert codes(conflict) == ["duplicate_conflict"]


def test_a_municipality_appends_only_as_itself(server: Served) -> None:
    own, other = WireCase("P-API-OWN"), WireCase("P-API-OTHER", municipality="147")
    with server.client("municipality") as client:
        refused = client.post("/v1/events", json=[own.opened(), other.opened()])
        nothing = client.get("/v1/persons/P-API-OWN/status")

    assert refused.status_code == 403
    assert [(e["line"], e["code"], e["field"]) for e in errors_of(refused)] == [
        (2, "forbidden", "municipality")
    ]
    assert nothing.status_code == 404


def test_a_body_or_batch_over_the_limits_is_413(server: Served) -> None:
    with server.client("municipality") as client:
        body = client.post(
            "/v1/events",
            content=b" " * (16 * 1024 * 1024 + 1),
            headers={"Content-Type": "application/x-ndjson"},
        )
        batch = client.post(
            "/v1/events",
            content=b"{}\n" * 10_001,
            headers={"Content-Type": "application/x-ndjson"},
        )

    assert (body.status_code, codes(body)) == (413, ["too_large"])
    assert (batch.status_code, codes(batch)) == (413, ["too_large"])


def answer_of(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (but the date) and body of an answer."""
    headers = {name: value for name, value in response.headers.items() if name != "date"}
    return response.status_code, headers, response.content


# `api.append_path` answers appends with plain headers before Litestar does; headers written
# otherwise leave the request to the Litestar route.
PLAIN = {"Content-Type": "application/json"}
ROUTED = [
    {"Content-Type": "application/json; charset=utf-8"},
    {"Content-Type": "Application/JSON"},
    {"Content-Type": "application/json", "Content-Encoding": "identity"},
]


@pytest.mark.parametrize("routed", ROUTED)
def test_an_append_is_answered_alike_however_its_headers_are_written(
    server: Served, routed: dict[str, str]
) -> None:
    issued = make_token(server.db, "municipality", "101")
    case = WireCase(f"P-API-PLAIN-{ROUTED.index(routed)}")
    opened = case.opened()
    refused = [case.event("ContactAttempted", channel="nope", reached=True)]
    conflict = [{**opened, "occurred_on": "2024-01-03"}]
    with server.client(None) as client:
        client.headers["Authorization"] = f"Bearer {issued['secret']}"
        first = client.post("/v1/events", content=json.dumps([opened]), headers=PLAIN)
        pairs = [
            [
                client.post("/v1/events", content=json.dumps(batch), headers=typed | language)
                for typed in (PLAIN, routed)
            ]
            for batch in ([opened], refused, conflict)
            for language in ({}, {"Accept-Language": "da"})
        ]

    assert first.json()["appended"] == 1
    assert [[answer.status_code for answer in pair] for pair in pairs] == [
        [200, 200],
        [200, 200],
        [422, 422],
        [422, 422],
        [409, 409],
        [409, 409],
    ]
    for by_path, by_route in pairs:
        assert answer_of(by_path) == answer_of(by_route)
    logged = logged_requests(server.log, issued["token"]["id"], 13)
    assert [(line["method"], line["path"]) for line in logged] == [("POST", "/v1/events")] * 13
    assert [line["status"] for line in logged] == [first.status_code] + [
        answer.status_code for pair in pairs for answer in pair
    ]


def test_a_revoked_token_is_refused_at_its_very_next_append(server: Served) -> None:
    issued = make_token(server.db, "municipality", "101")
    case = WireCase("P-API-REVOKED")
    with server.client(None) as client:
        client.headers["Authorization"] = f"Bearer {issued['secret']}"
        before = client.post("/v1/events", json=[case.opened()])
        revoked = CliRunner().invoke(
            cli, ["--db", server.db, "token", "revoke", "--json", issued["token"]["id"]]
        )
        after = client.post("/v1/events", json=[case.offer("O-1")])
    with server.client("investigator") as client:
        stored = client.get("/v1/persons/P-API-REVOKED/events").json()

    assert before.status_code == 200
    assert json.loads(revoked.output)["revoked_at"]
    assert (after.status_code, codes(after)) == (401, ["unauthorized"])
    assert len(stored) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"", "invalid_json"), (b"{", "invalid_json"), (b'{"a": 1}', "invalid_json")],
)
def test_a_body_that_is_no_json_array_is_422(server: Served, body: bytes, code: str) -> None:
    with server.client("municipality") as client:
        response = client.post(
            "/v1/events", content=body, headers={"Content-Type": "application/json"}
        )

    assert response.status_code == 422
    assert codes(response) == [code]


# --- the second edition's append-time law ----------------------------------------------------


def test_a_municipality_cannot_backdate_a_record_to_before_it_became_responsible(
    server: Served,
) -> None:
    """Responsibility in valid time (INL § 4, § 18; DOMAIN.md: "an event's `occurred_on` must
    fall in a period in which its municipality was responsible (the leaving municipality up to
    and including the move date, the receiving one from it)")."""
    found = correction_after_move("P-API-BACKDATED")
    with server.municipality("167") as hvidovre, server.municipality("461") as odense:
        assert hvidovre.post("/v1/events", json=found.hvidovre).status_code == 200
        assert odense.post("/v1/events", json=found.odense).status_code == 200
        refused = odense.post("/v1/events", json=[found.backdated])

    assert refused.status_code == 422
    assert [(e["code"], e["field"]) for e in errors_of(refused)] == [
        ("not_responsible", "municipality")
    ]
    assert "(INL § 4, § 18)" in errors_of(refused)[0]["message"]


def test_a_later_municipality_cannot_retract_an_earlier_municipalitys_sanction(
    server: Served,
) -> None:
    """Corrections by the recorder (INL § 19 stk. 8, bill remark: "en komplet historik";
    DOMAIN.md: "only the municipality that recorded an event may retract it")."""
    found = correction_after_move("P-API-FOREIGN")
    with server.municipality("167") as hvidovre, server.municipality("461") as odense:
        hvidovre.post("/v1/events", json=found.hvidovre)
        odense.post("/v1/events", json=found.odense)
        refused = odense.post("/v1/events", json=[found.foreign_retraction])
        sanctions = odense.get("/v1/persons/P-API-FOREIGN/sanctions").json()

    assert refused.status_code == 422
    assert [(e["code"], e["field"]) for e in errors_of(refused)] == [
        ("not_responsible", "municipality")
    ]
    assert [s["sanction_id"] for s in sanctions["sanctions"]] == ["S-1"]


def test_the_leaving_municipality_retracts_its_own_record_after_the_move(server: Served) -> None:
    """Corrections by the recorder (DOMAIN.md: "only the municipality that recorded an event
    may retract it (even after the person moved away)")."""
    found = correction_after_move("P-API-OWN-CORRECTION")
    with server.municipality("167") as hvidovre, server.municipality("461") as odense:
        hvidovre.post("/v1/events", json=found.hvidovre)
        odense.post("/v1/events", json=found.odense)
        corrected = hvidovre.post("/v1/events", json=[found.own_retraction])
        history = odense.get(
            "/v1/persons/P-API-OWN-CORRECTION/history",
            params={"min_position": corrected.json()["position"]},
        ).json()

    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["appended"] == 1
    assert history["retracted"] == [found.own_retraction["retracts"]]


def test_a_refused_mandatory_takeover_is_422_naming_the_paragraph(server: Served) -> None:
    """Mandatory takeover (INL § 18 stk. 2; handbook: "Tilflytningskommunen skal overtage
    integrationsprogrammet, hvis flytningen er af væsentlig betydning for den pågældendes
    integrationsforløb")."""
    case = WireCase("P-API-MANDATORY")
    with server.municipality("101") as copenhagen, server.municipality("751") as aarhus:
        copenhagen.post("/v1/events", json=[case.opened(), case.moved("751")])
        refused = aarhus.post(
            "/v1/events",
            json=[case.event("TakeoverDecided", approved=False, ground="mandatory")],
        )

    assert refused.status_code == 422
    (error,) = errors_of(refused)
    assert (error["code"], error["field"]) == ("rule_violation", "approved")
    assert "(INL § 18 stk. 2)" in error["message"]


def test_a_status_request_names_the_municipality_responsible_on_its_date(server: Served) -> None:
    """Responsibility in valid time (DOMAIN.md: "`StatusRequested` names the responsible
    municipality"): P-KBH-0002 moved from København to Aarhus on 2026-02-01."""
    request = {"person": "P-KBH-0002", "request_id": "UST-API-DATED", "due_on": "2026-02-13"}
    with server.client("immigration_service") as client:
        dated = client.post("/v1/status-requests", json={**request, "occurred_on": "2026-01-15"})
    with server.client("investigator") as client:
        stored = client.get("/v1/persons/P-KBH-0002/events").json()

    assert dated.status_code == 200, dated.text
    (made,) = [e for e in stored if e.get("request_id") == "UST-API-DATED"]
    assert (made["occurred_on"], made["municipality"]) == ("2026-01-15", "101")


def test_the_immigration_service_retracts_its_own_status_request(server: Served) -> None:
    """Corrections by the recorder (DOMAIN.md: "The immigration service retracts only its own
    `StatusRequested`"): through `POST /v1/status-requests/{person}/{request_id}/retraction`;
    a retry is a duplicate, and a request that was never made is refused naming it."""
    person = "P-API-RETRACTED-REQUEST"
    case = WireCase(person)
    request = {"person": person, "request_id": "UST-API-WRONG", "due_on": DUE}
    with server.client("municipality") as copenhagen:
        copenhagen.post("/v1/events", json=[case.opened()])
    retraction = f"/v1/status-requests/{person}/UST-API-WRONG/retraction"
    body = {"reason": "sent for the wrong person"}
    with server.client("immigration_service") as client:
        client.post("/v1/status-requests", json=request)
        retracted = client.post(retraction, json=body)
        retry = client.post(retraction, json=body)
        never = client.post(f"/v1/status-requests/{person}/UST-NEVER/retraction", json=body)
        nobody = client.post("/v1/status-requests/P-NOBODY/UST-API-WRONG/retraction", json=body)
        status = client.get(  # read-your-writes: the views follow the log on their own
            f"/v1/persons/{person}/status",
            params={"min_position": retracted.json()["position"]},
        ).json()
    with server.client("investigator") as client:
        stored = client.get(f"/v1/persons/{person}/events").json()

    assert (retracted.json()["appended"], retry.json()["duplicates"]) == (1, 1)
    assert [(e["code"], e["field"]) for e in errors_of(never)] == [("unknown_event", "request_id")]
    assert nobody.status_code == 404
    assert status["status_requests"] == []
    assert (stored[-1]["type"], stored[-1]["retracts"]) == (
        "EventRetracted",
        stored[-2]["event_id"],
    )
    assert stored[-1]["recorded_by"].startswith("udlaendingestyrelsen:")


def test_a_municipality_neither_records_nor_retracts_udlaendingestyrelsens_records(
    server: Served,
) -> None:
    """Corrections by the recorder (bill remark: the municipality reports "når
    Udlændingestyrelsen anmoder herom"): a status request is Udlændingestyrelsen's record; a
    municipality's token cannot make one, claim to be Udlændingestyrelsen, or retract one."""
    person = "P-API-NOT-OURS"
    case = WireCase(person)
    request = {"person": person, "request_id": "UST-API-OURS", "due_on": DUE}
    with server.client("municipality") as copenhagen:
        copenhagen.post("/v1/events", json=[case.opened()])
    with server.client("immigration_service") as client:
        client.post("/v1/status-requests", json=request)
    with server.client("investigator") as client:
        made = client.get(f"/v1/persons/{person}/events").json()[-1]
    own_request = case.event("StatusRequested", request_id="UST-FAKE", due_on=DUE)
    posing = case.event(
        "EventRetracted",
        retracts=made["event_id"],
        reason="answered by phone",
        recorded_by="udlaendingestyrelsen",
    )
    retraction = case.event("EventRetracted", retracts=made["event_id"], reason="answered")
    with server.client("municipality") as copenhagen:
        forbidden = copenhagen.post("/v1/events", json=[own_request, posing])
        refused = copenhagen.post("/v1/events", json=[retraction])

    assert forbidden.status_code == 403
    assert [(e["line"], e["code"], e["field"]) for e in errors_of(forbidden)] == [
        (1, "forbidden", "type"),
        (2, "forbidden", "recorded_by"),
    ]
    assert refused.status_code == 422
    assert [(e["code"], e["field"]) for e in errors_of(refused)] == [
        ("not_responsible", "municipality")
    ]


# --- reading ---------------------------------------------------------------------------------


def test_a_write_is_read_back_at_once_with_min_position(server: Served) -> None:
    case = WireCase("P-API-RYW")
    with server.client("municipality") as client:
        position = client.post("/v1/events", json=[case.opened(), case.offer("O-1")]).json()[
            "position"
        ]
        status = client.get(
            "/v1/persons/P-API-RYW/status", params={"min_position": position}
        ).json()

    assert status["position"] == position
    assert status["participation"]["offers"] == 1


def test_writes_by_another_process_reach_the_views(server: Served) -> None:
    case = WireCase("P-API-ELSEWHERE")
    with server.client("immigration_service") as client:
        start = feed_end(client)
    ledger = Ledger(server.db)
    try:
        position = ledger.append_lines(ndjson_lines(ndjson([case.opened()]))).position
    finally:
        ledger.close()
    with server.client("immigration_service") as client:
        report = client.get(
            "/v1/persons/P-API-ELSEWHERE/status", params={"min_position": position}
        ).json()
        feed = client.get("/v1/status-feed", params={"after": start, "wait": 5}).json()

    assert report["position"] == position
    assert feed["items"][0]["person"] == "P-API-ELSEWHERE"
    assert feed["items"][-1]["position"] == position
    assert feed["next_after"] == feed["items"][-1]["seq"]


def test_as_of_and_known_at_ask_the_live_fold(server: Served) -> None:
    with server.client("investigator") as client:
        then = client.get("/v1/persons/P-KBH-0001/status", params={"as_of": "2022-12-31"}).json()
        known = client.get(
            "/v1/persons/P-KBH-0001/sanctions", params={"known_at": "2020-01-01T00:00:00"}
        )

    assert then["as_of"] == "2022-12-31"
    assert then["permit"]["granted_on"] is None
    assert known.status_code == 200
    assert known.json()["known_at"].startswith("2020-01-01T00:00:00")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"as_of": "2024-13-01"}, "as_of"),
        ({"known_at": "yesterday"}, "known_at"),
        ({"min_position": "-1"}, "min_position"),
    ],
)
def test_a_bad_query_parameter_is_422_naming_it(
    server: Served, query: dict[str, str], field: str
) -> None:
    with server.client("investigator") as client:
        response = client.get("/v1/persons/P-KBH-0001/history", params=query)

    assert response.status_code == 422
    assert [(e["code"], e["field"]) for e in errors_of(response)] == [("invalid_field", field)]


@pytest.mark.parametrize("role", ["immigration_service", "investigator"])
def test_an_unknown_person_is_404(server: Served, role: str) -> None:
    with server.client(role) as client:
        response = client.get("/v1/persons/P-NOBODY/status")

    assert response.status_code == 404
    assert codes(response) == ["unknown_person"]


def test_a_municipality_reads_only_persons_it_is_responsible_for_now(server: Served) -> None:
    with server.municipality("101") as copenhagen:
        moved_away = copenhagen.get("/v1/persons/P-KBH-0002/history")
        moved_in = copenhagen.get("/v1/persons/P-HVI-0001/history")
        foreign_worklist = copenhagen.get("/v1/municipalities/751/deadlines")

    # The same answer as for an unknown person (INTERFACE.md, second edition): no existence oracle.
    assert moved_away.status_code == 404
    assert codes(moved_away) == ["unknown_person"]
    assert moved_in.status_code == 200
    assert foreign_worklist.status_code == 403


def test_the_immigration_service_records_a_status_request_for_the_responsible_municipality(
    server: Served,
) -> None:
    request = {"person": "P-KBH-0002", "request_id": "UST-API-1", "due_on": DUE}
    with server.client("immigration_service") as client:
        first = client.post("/v1/status-requests", json=request)
        retry = client.post("/v1/status-requests", json=request)
        unknown = client.post("/v1/status-requests", json={**request, "person": "P-NOBODY"})
        bad = client.post("/v1/status-requests", json={**request, "due_on": "soon"})
        extra = client.post("/v1/status-requests", json={**request, "municipality": "101"})
    with server.client("investigator") as client:
        stored = client.get("/v1/persons/P-KBH-0002/events").json()[-1]

    assert (first.json()["appended"], retry.json()["duplicates"]) == (1, 1)
    assert unknown.status_code == 404
    assert [(e["code"], e["field"]) for e in errors_of(bad)] == [("invalid_field", "due_on")]
    assert extra.status_code == 422
    assert (stored["type"], stored["municipality"], stored["request_id"]) == (
        "StatusRequested",
        "751",
        "UST-API-1",
    )


def test_the_worklist_of_a_municipality_lists_only_its_own_cases(server: Served) -> None:
    with server.municipality("851") as aalborg:
        worklist = aalborg.get("/v1/municipalities/851/deadlines", params={"on": "2026-06-01"})

    assert worklist.status_code == 200
    persons = {item["person"] for item in worklist.json()["items"]}
    assert persons
    assert persons <= {"P-AAL-0001", "P-AAL-0002", "P-AAL-0003", "P-ODE-0001"}


def test_the_investigator_verifies_the_chains(server: Served) -> None:
    with server.client("investigator") as client:
        everything = client.get("/v1/verify").json()
        one = client.get("/v1/verify", params={"person": "P-ESB-0001"}).json()
        unknown = client.get("/v1/verify", params={"person": "P-NOBODY"})

    assert everything["ok"]
    assert one["checked"] == 26
    assert unknown.status_code == 404


# --- disclosure after a move, and the access log ----------------------------------------------


def moved_case(person: str) -> tuple[list[dict[str, Any]], WireCase]:
    """A case opened in Odense (461) with one event of every kind of information, moved to
    Aalborg (851). Returns Odense's batch and the case, now recorded by Aalborg."""
    case = WireCase(person, "461")
    odense = [
        case.opened("2024-02-05"),
        case.event(
            "BenefitGranted",
            "2024-02-05",
            benefit="integrationsydelse",
            monthly_amount_dkk="6780.00",
        ),
        case.event(
            "ContractSigned",
            "2024-02-20",
            contract_id="K1",
            employment_goal="Job",
            weekly_hours=37,
            activities=[],
            sanctions_described=True,
        ),
        case.event("DeclarationSigned", "2024-02-20"),
        case.event("ConsequencesNotified", "2024-02-20"),
        case.event("ReadinessAssessed", "2024-02-21", readiness="job_ready"),
        case.offer("O-1", on="2024-02-22", starts_on="2024-03-01"),
        case.absence("O-1", on="2024-03-04"),
        case.event("DanishTestPassed", "2024-06-03", test="pd1"),
        case.event(
            "EmploymentStarted",
            "2024-07-01",
            employment_id="E-1",
            ordinary=True,
            hours_per_week=37,
        ),
        case.moved("851", on="2024-09-02"),
    ]
    return odense, case


NO_CONSENT_SEEN = {
    "ResponsibilityAssumed",
    "BenefitGranted",
    "ContractSigned",
    "DeclarationSigned",
    "ConsequencesNotified",
    "ReadinessAssessed",
    "OfferMade",
    "AbsenceRecorded",
    "DanishTestPassed",
    "MunicipalityMoved",
}
WITH_CONSENT_ONLY = {"EmploymentStarted"}


def test_after_a_move_consent_widens_what_the_new_municipality_sees_and_withdrawal_narrows_it(
    server: Served,
) -> None:
    person = "P-API-MOVED"
    odense_batch, case = moved_case(person)
    with server.municipality("461") as odense, server.municipality("851") as aalborg:
        assert odense.post("/v1/events", json=odense_batch).status_code == 200
        aalborg.post(
            "/v1/events", json=[case.event("TakeoverDecided", "2024-09-09", approved=True)]
        )
        without = aalborg.get(f"/v1/persons/{person}/history")
        consent = case.event("ConsentGiven", "2024-09-10", recipient="851", evidence="samtykke-1")
        aalborg.post("/v1/events", json=[consent])
        given = aalborg.get(f"/v1/persons/{person}/history")
        given_status = aalborg.get(f"/v1/persons/{person}/status")
        aalborg.post(
            "/v1/events", json=[case.event("ConsentWithdrawn", "2024-10-01", recipient="851")]
        )
        withdrawn = aalborg.get(f"/v1/persons/{person}/history")
        previous = odense.get(f"/v1/persons/{person}/history")
    with server.client("investigator") as investigator:
        log = investigator.get("/v1/access-log", params={"person": person}).json()["entries"]

    def seen_from_odense(response: httpx.Response) -> set[str]:
        entries = response.json()["entries"]
        return {e["type"] for e in entries if e is not None and e["municipality"] == "461"}

    assert seen_from_odense(without) == NO_CONSENT_SEEN
    assert without.headers["disclosure-withheld"] == "employment"
    [withheld] = without.json()["withheld"]
    assert (without.json()["redacted"], withheld["category"]) == (True, "employment")
    entries = [int(f[8:-1]) for f in withheld["fields"] if f.startswith("entries[")]
    assert [without.json()["entries"][index] for index in entries] == [None]
    assert "deadlines.follow_ups.next_due_on" in withheld["fields"]
    assert seen_from_odense(given) == NO_CONSENT_SEEN | WITH_CONSENT_ONLY
    assert "disclosure-withheld" not in given.headers
    assert (given.json()["redacted"], given.json()["withheld"]) == (False, [])
    assert given_status.json()["employment"]["ordinary_months_last_36"] >= 1
    assert seen_from_odense(withdrawn) == NO_CONSENT_SEEN
    assert withdrawn.headers["disclosure-withheld"] == "employment"
    assert previous.status_code == 404

    aalborg_reads = [e for e in log if e["municipality"] == "851"]
    assert [e["action"] for e in aalborg_reads] == ["history", "history", "status", "history"]
    no_consent = {
        "benefits",
        "contract",
        "danish_tests",
        "declaration",
        "participation",
        "personal_data",
        "readiness",
        "responsibility",
        "sanctions",
    }
    assert set(aalborg_reads[0]["categories"]) == no_consent
    assert set(aalborg_reads[1]["categories"]) == no_consent | {"employment"}
    assert any(
        b.startswith("consent of the person given on 2024-09-10")
        and b.endswith("evidence: samtykke-1")
        for b in aalborg_reads[1]["legal_basis"]
    )
    assert all(
        CATEGORIES[c].basis in aalborg_reads[0]["legal_basis"]
        for c in aalborg_reads[0]["categories"]
    )
    assert {e["token_id"] for e in aalborg_reads} == {
        server.tokens["municipality:851"]["token"]["id"]
    }


def test_a_municipality_reading_only_its_own_events_leaves_no_log_entry(server: Served) -> None:
    case = WireCase("P-API-OWNREAD")
    with server.client("municipality") as client:
        client.post("/v1/events", json=[case.opened()])
        client.get("/v1/persons/P-API-OWNREAD/status")
    with server.client("investigator") as investigator:
        log = investigator.get("/v1/access-log", params={"person": "P-API-OWNREAD"}).json()

    assert log["entries"] == []


def test_every_investigator_read_of_a_case_is_logged(server: Served) -> None:
    person = "P-ESB-0002"
    with server.client("investigator") as investigator:
        # Other tests of this module may have read the person already: only what follows counts.
        earlier = investigator.get("/v1/access-log", params={"limit": 1000}).json()["next_after"]
        for read in ("history", "sanctions", "status", "events"):
            assert investigator.get(f"/v1/persons/{person}/{read}").status_code == 200
        log = investigator.get(
            "/v1/access-log", params={"person": person, "after": earlier}
        ).json()["entries"]
        page = investigator.get(
            "/v1/access-log", params={"person": person, "after": log[1]["id"], "limit": 1}
        ).json()

    investigator_id = server.tokens["investigator"]["token"]["id"]
    assert [(e["action"], e["token_id"], e["role"]) for e in log] == [
        (read, investigator_id, "investigator")
        for read in ("history", "sanctions", "status", "events")
    ]
    assert "personal_data" in log[0]["categories"]
    assert [e["id"] for e in page["entries"]] == [log[2]["id"]]
    assert page["next_after"] == log[2]["id"]


def test_the_access_log_refuses_updates_and_deletes_in_the_store(server: Served) -> None:
    statements = ("UPDATE ledger_access_log SET person = 'x'", "DELETE FROM ledger_access_log")
    for statement in statements:
        if server.db.startswith("postgresql://"):
            with (
                pytest.raises(psycopg.errors.RaiseException, match="append-only"),
                psycopg.connect(server.db) as connection,
            ):
                connection.execute(statement)
        else:
            connection = sqlite3.connect(server.db)
            try:
                with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                    connection.execute(statement)
            finally:
                connection.close()


# --- what operators see ----------------------------------------------------------------------


def test_metrics_count_requests_by_route_and_report_the_view_lag(server: Served) -> None:
    case = WireCase("P-API-METRICS")
    with server.client("municipality") as client:
        client.post("/v1/events", json=[case.opened()])
        client.get("/v1/persons/P-API-METRICS/status")
    with server.client(None) as client:
        text = client.get("/metrics").text

    assert (
        'ledger_http_requests_total{method="GET",route="/v1/persons/{person}/status",status="200"}'
        in text
    )
    assert (
        'ledger_http_request_duration_seconds_bucket{method="POST",route="/v1/events",le="+Inf"}'
        in text
    )
    assert "ledger_view_lag_events " in text
    appended = next(
        line for line in text.splitlines() if line.startswith("ledger_appended_events_total")
    )
    assert int(appended.split()[1]) >= 1


def logged_requests(log: Path, token_id: str, count: int = 1) -> list[dict[str, Any]]:
    """The request lines of a token, waiting briefly for ``count`` of them: a line is written
    after its answer."""
    deadline = time.monotonic() + 5
    while True:
        written = log.read_text().split("\n")[:-1]  # whole lines: the last may be being written
        lines = [json.loads(line) for line in written if line.startswith("{")]
        mine = [line for line in lines if line.get("token_id") == token_id]
        if len(mine) >= count or time.monotonic() > deadline:
            return mine
        time.sleep(0.02)


def test_each_request_is_logged_as_a_json_line_without_secrets_or_paths(server: Served) -> None:
    issued = make_token(server.db, "immigration_service")
    with server.client(None) as client:
        client.get(
            "/v1/persons/P-KBH-0001/status",
            headers={"Authorization": f"Bearer {issued['secret']}"},
        )

    [line] = logged_requests(server.log, issued["token"]["id"])
    assert line["message"] == "request"
    assert (line["method"], line["path"], line["status"]) == (
        "GET",
        "/v1/persons/{person}/status",
        200,
    )
    assert line["duration_ms"] > 0
    text = server.log.read_text()
    assert all(token["secret"] not in text for token in [*server.tokens.values(), issued])
    assert "P-KBH-0001" not in text
    assert "Amal Haddad" not in text


def test_no_error_answer_carries_a_traceback(server: Served) -> None:
    with server.client("municipality") as client:
        answers = [
            client.post(
                "/v1/events", content=b"\xff\xfe", headers={"Content-Type": "application/x-ndjson"}
            ),
            client.post("/v1/events", content=b"[" * 100_000, headers=JSON),
            client.get("/v1/persons/" + "x" * 5000 + "/status"),
            client.put("/v1/events"),
        ]

    assert [a.status_code for a in answers] == [422, 422, 404, 405]
    assert all("Traceback" not in a.text and "errors" in a.json() for a in answers)


# --- the status feed --------------------------------------------------------------------------


def feed_end(client: httpx.Client) -> int:
    """The seq to follow the feed from: after every item it holds once it is quiet (the
    earlier tests' writes projected: none comes within a second, twice the poll interval)."""
    after = 0
    while True:
        page = client.get("/v1/status-feed", params={"after": after, "limit": 1000, "wait": 1})
        if not page.json()["items"]:
            return after
        after = page.json()["next_after"]


def test_a_feed_wait_answers_as_soon_as_an_item_arrives(server: Served) -> None:
    case = WireCase("P-API-FEED-WAIT")
    with server.client("immigration_service") as ust, server.client("municipality") as kbh:
        after = feed_end(ust)
        timer = threading.Timer(0.5, lambda: kbh.post("/v1/events", json=[case.opened()]))
        started = time.monotonic()
        timer.start()
        try:
            feed = ust.get("/v1/status-feed", params={"after": after, "wait": 20}).json()
        finally:
            timer.join()
        waited = time.monotonic() - started

    assert [item["person"] for item in feed["items"]] == ["P-API-FEED-WAIT"]
    assert 0.4 < waited < 10  # held until the item came, not for the whole wait


def test_a_feed_wait_without_items_ends_with_an_empty_page(server: Served) -> None:
    with server.client("immigration_service") as ust:
        after = feed_end(ust)
        started = time.monotonic()
        feed = ust.get("/v1/status-feed", params={"after": after, "wait": 0.5}).json()
        waited = time.monotonic() - started

    assert feed == {"items": [], "next_after": after}
    assert 0.5 <= waited < 5


@pytest.mark.parametrize("wait", ["30.5", "-1", "soon"])
def test_a_feed_wait_beyond_30_seconds_is_refused_naming_wait(server: Served, wait: str) -> None:
    with server.client("immigration_service") as ust:
        refused = ust.get("/v1/status-feed", params={"after": 0, "wait": wait})

    assert refused.status_code == 422
    assert [e["field"] for e in errors_of(refused)] == ["wait"]


def test_a_feed_item_digest_is_reproduced_by_a_read_with_its_as_of_and_known_at(
    server: Served,
) -> None:
    case = WireCase("P-API-FEED-DIGEST")
    with server.client("immigration_service") as ust, server.client("municipality") as kbh:
        after = feed_end(ust)
        kbh.post("/v1/events", json=[case.opened(), case.offer("O-1")])
        items = ust.get("/v1/status-feed", params={"after": after, "wait": 20}).json()["items"]
        item = items[-1]
        report = ust.get(
            f"/v1/persons/{item['person']}/status",
            params={"as_of": item["as_of"], "known_at": item["known_at"]},
        ).json()

    assert set(item) == {"seq", "person", "position", "as_of", "known_at", "digest"}
    assert item["person"] == "P-API-FEED-DIGEST"
    assert report["digest"] == item["digest"]
    assert report["position"] == item["position"]


@pytest.mark.parametrize("role", ["municipality", "investigator", "admin"])
def test_only_the_immigration_service_follows_the_feed(server: Served, role: str) -> None:
    with server.client(role) as client:
        refused = client.get("/v1/status-feed", params={"after": 0, "wait": 1})

    assert refused.status_code == 403
    assert "items" not in refused.json()
