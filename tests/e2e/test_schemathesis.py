"""Generated requests against the live server's own OpenAPI document: no input gives a 500, and
every answer (status, content type, body) is one the document describes.

Each operation is called with a token of a role allowed to call it, so the generated input
reaches the handlers instead of stopping at 403.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bench.load import serving
from cli.main import cli
from ledger.application import Ledger
from ledger.wire import ndjson_lines
from tests.support.paths import SAMPLE_CASES

EXAMPLES = 50
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FRAMING = {"content-length", "transfer-encoding", "host", "connection"}
ROLES = {"municipality": "101", "immigration_service": None, "investigator": None, "admin": None}


@schemathesis.serializer("application/x-ndjson")
def ndjson_body(_: schemathesis.SerializationContext, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return (value if isinstance(value, str) else json.dumps(value)).encode()


def role_for(method: str, path: str) -> str:
    """A role the interface allows to call the operation."""
    if path.startswith("/v1/tokens"):
        return "admin"
    if (method, path) == ("POST", "/v1/events") or path.endswith("/deadlines"):
        return "municipality"
    if path == "/v1/status-feed" or path.startswith("/v1/status-requests"):
        return "immigration_service"
    return "investigator"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    db = str(tmp_path_factory.mktemp("schemathesis") / "ledger.db")
    ledger = Ledger(db)
    try:
        ledger.append_lines(ndjson_lines(SAMPLE_CASES.read_bytes()))
    finally:
        ledger.close()
    secrets = {}
    for role, municipality in ROLES.items():
        args = ["--db", db, "token", "create", "--json", "--role", role]
        args += ["--municipality", municipality] if municipality else []
        secrets[role] = json.loads(CliRunner().invoke(cli, args).output)["secret"]
    with serving(db) as base:
        yield base, secrets


@pytest.fixture(scope="module")
def api_schema(live: tuple[str, dict[str, str]]) -> Any:
    base, _ = live
    return schemathesis.openapi.from_url(f"{base}/schema/openapi.json")


def exercise(operation: Any, mode: GenerationMode, base: str, token: str) -> None:
    """Generated requests for one operation, each answer checked against the document."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode))
    def call(case: schemathesis.Case) -> None:
        if isinstance(case.headers, dict):
            # The message's framing is the HTTP client's, not the API's input: a generated
            # `Content-Length: QI` is refused by the HTTP server (400) before the API sees it.
            for name in [h for h in case.headers if h.lower() in FRAMING]:
                del case.headers[name]
        wait = case.query.get("wait") if isinstance(case.query, dict) else None
        if case.path == "/v1/status-feed" and isinstance(wait, int | float) and 0.2 < wait <= 30:
            # A valid wait holds the request that long when no item follows ``after``; what the
            # answer looks like does not depend on how long, so the held ones are kept short.
            case.query["wait"] = 0.2
        case.call_and_validate(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
        )

    call()


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_gives_a_500_and_every_answer_is_documented(
    api_schema: Any, live: tuple[str, dict[str, str]], mode: GenerationMode
) -> None:
    base, secrets = live
    for result in api_schema.get_all_operations():
        operation = result.ok()
        takes_input = operation.path_parameters or operation.query or operation.body
        if mode is GenerationMode.NEGATIVE and not takes_input:
            continue  # nothing to get wrong
        exercise(operation, mode, base, secrets[role_for(operation.method.upper(), operation.path)])
