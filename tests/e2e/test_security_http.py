"""Security review, as tests, against a real `ledger serve`: every route answers only the roles
INTERFACE.md names, and the server's log names no token and no personal data."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.application import Ledger
from ledger.clock import today_in_denmark
from tests.support.server import NDJSON, Server, token
from tests.support.wire import WireCase, lines, ndjson

NAME, CPR = "Amina Hansen", "010190-1234"


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


# --- no secret in the server's log --------------------------------------------------------------


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
