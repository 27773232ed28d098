"""One read path (issue 9): every face answers a reader from the read service, over the whole case.

One store per store kind serves the whole module (the sample cases, plus a moved case of its
own), read through the command line (``--reader``) and through a real ``ledger serve``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from bench.load import serving
from cli.context import EXIT_UNKNOWN_PERSON, EXIT_USAGE
from cli.main import cli
from ledger.application import Ledger
from ledger.disclosure import CATEGORIES
from ledger.rulepacks import LATEST_REVISION
from ledger.wire import ndjson_lines
from projections.status import digest_of
from projections.views import KINDS_BY_ROLE, REFUSED
from tests.support.paths import SAMPLE_CASES
from tests.support.pg import PostgresCluster
from tests.support.served import ROLE_TOKENS, Served, make_token
from tests.support.wire import MOVED, moved_case, ndjson

KINDS = ("history", "sanctions", "status")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("reads")
    cluster: PostgresCluster | None = None
    name = f"reads_{uuid.uuid4().hex}"
    if request.param == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        db = cluster.create_database(name)
    else:
        db = str(folder / "ledger.db")
    with Ledger(db) as ledger:
        ledger.append_lines(ndjson_lines(SAMPLE_CASES.read_bytes() + ndjson(moved_case())))
    tokens = {role: make_token(db, *binding) for role, binding in ROLE_TOKENS.items()}
    try:
        with serving(db, folder / "server.log") as base:
            yield Served(db, base, folder / "server.log", tokens)
    finally:
        if cluster is not None:
            cluster.drop_database(name)


def cli_read(server: Served, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", server.db, *args, "--json"])


def client_of(server: Served, reader: str) -> httpx.Client:
    return server.client(reader) if reader in ROLE_TOKENS else server.municipality(reader)


def comparable(text: str | bytes) -> Any:
    """A JSON answer without the one value about when it was computed."""
    answer = json.loads(text)
    if isinstance(answer, dict):
        answer.pop("generated_at", None)
    return answer


def persons_and_municipalities() -> dict[str, set[str]]:
    cases: dict[str, set[str]] = {}
    for line in [
        *SAMPLE_CASES.read_text().splitlines(),
        *ndjson(moved_case()).decode().split("\n"),
    ]:
        if line.strip():
            event = json.loads(line)
            cases.setdefault(event["person"], set()).add(event["municipality"])
    return cases


CASES = persons_and_municipalities()


# --- the same JSON through every face --------------------------------------------------------


@pytest.mark.parametrize("person", sorted(CASES))
def test_the_command_line_and_http_give_every_reader_the_same_json(
    server: Served, person: str
) -> None:
    """INTERFACE.md: the same answer through every face for the same reader; for a status
    report, the same digest."""
    readers = [*sorted(CASES[person]), "immigration_service", "investigator"]
    for reader in readers:
        role = "municipality" if reader.isdigit() else reader
        for kind in KINDS:
            over_cli = cli_read(server, kind, person, "--reader", reader)
            with client_of(server, reader) as client:
                over_http = client.get(f"/v1/persons/{person}/{kind}")
            if kind not in KINDS_BY_ROLE[role]:  # type: ignore[index]
                assert over_http.status_code == 403
                assert json.loads(over_cli.output)["errors"][0]["code"] == "forbidden"
                continue
            assert comparable(over_cli.output) == comparable(over_http.content), (reader, kind)
            if over_http.status_code == 200 and kind == "status":
                assert json.loads(over_cli.output)["digest"] == over_http.json()["digest"]


@pytest.mark.parametrize("code", sorted({m for ms in CASES.values() for m in ms}))
def test_ledger_deadlines_answers_exactly_what_the_municipality_gets_over_http(
    server: Served, code: str
) -> None:
    """Issue 9: the worklist differed between `ledger deadlines` (every event) and the HTTP
    endpoint (only disclosed events)."""
    for day in ("2024-10-01", "2026-06-01"):
        over_cli = cli_read(server, "deadlines", "--municipality", code, "--on", day)
        with server.municipality(code) as client:
            over_http = client.get(f"/v1/municipalities/{code}/deadlines", params={"on": day})

        assert over_cli.exit_code == 0, over_cli.output
        assert over_cli.output.encode() == over_http.content + b"\n"


# --- redaction, not recomputation -------------------------------------------------------------


def both_faces(server: Served, kind: str, reader: str) -> list[dict[str, Any]]:
    over_cli = cli_read(server, kind, MOVED, "--reader", reader)
    with client_of(server, reader) as client:
        over_http = client.get(f"/v1/persons/{MOVED}/{kind}")
    assert (over_cli.exit_code, over_http.status_code) == (0, 200), over_cli.output
    return [json.loads(over_cli.output), over_http.json()]


def test_withholding_a_category_never_changes_an_incident_assessment(server: Served) -> None:
    """DOMAIN.md "Data sharing": a missing benefit is not "no benefit". Aalborg's incidents
    keep `no_contact_attempt` and never get `no_benefit` from what it may not see."""
    [full, _] = both_faces(server, "sanctions", "investigator")
    for seen in both_faces(server, "sanctions", "851"):
        assert seen["incidents"] == full["incidents"]
        assert all("no_benefit" not in i["reasons"] for i in seen["incidents"])
        assert all("no_contact_attempt" in i["reasons"] for i in seen["incidents"])
        assert (seen["redacted"], seen["withheld"]) == (False, [])


def test_a_withheld_count_is_null_not_zero_and_the_digest_covers_the_redacted_report(
    server: Served,
) -> None:
    """DOMAIN.md "Data sharing": a withheld count is not zero. Benefits go to the new
    municipality without consent, so `help.months_last_36` is the whole case's; employment
    needs consent, so its months are null, and the report says what it withholds."""
    [full, _] = both_faces(server, "status", "investigator")
    for seen in both_faces(server, "status", "851"):
        assert full["help"]["months_last_36"] >= 1
        assert seen["help"]["months_last_36"] == full["help"]["months_last_36"]
        assert full["employment"]["ordinary_months_last_36"] >= 1
        assert seen["employment"]["ordinary_months_last_36"] is None
        assert seen["redacted"] is True
        [withheld] = seen["withheld"]
        assert withheld["category"] == "employment"
        assert "employment.ordinary_months_last_36" in withheld["fields"]
        assert seen["digest"] == digest_of(seen)
        assert seen["digest"] != full["digest"]
        assert (full["redacted"], full["withheld"]) == (False, [])


def test_the_command_line_tells_people_what_was_withheld(server: Served) -> None:
    for kind in KINDS:
        danish = CliRunner().invoke(cli, ["--db", server.db, kind, MOVED, "--reader", "851"])
        english = CliRunner().invoke(
            cli, ["--db", server.db, "--lang", "en", kind, MOVED, "--reader", "851"]
        )
        assert (danish.exit_code, english.exit_code) == (0, 0), danish.output
        if kind != "sanctions":  # nothing in the sanction view derives from the job
            assert "tilbageholdt fra denne læser (beskæftigelse)" in danish.output
            assert "withheld from this reader (employment)" in english.output


def test_the_header_names_the_withheld_categories(server: Served) -> None:
    with server.municipality("851") as aalborg:
        answer = aalborg.get(f"/v1/persons/{MOVED}/history")

    assert answer.headers["disclosure-withheld"] == "employment"
    assert not CATEGORIES["employment"].without_consent


# --- no existence oracle, and refused reads logged ----------------------------------------------


def test_a_case_of_another_municipality_answers_exactly_as_an_unknown_person(
    server: Served,
) -> None:
    """INTERFACE.md, second edition: the same 404, body and headers."""
    with server.municipality("461") as odense:
        moved_away = odense.get(f"/v1/persons/{MOVED}/status")
        unknown = odense.get("/v1/persons/P-NOBODY/status")
    cli_moved = cli_read(server, "status", MOVED, "--reader", "461")
    cli_unknown = cli_read(server, "status", "P-NOBODY", "--reader", "461")

    def same(response: httpx.Response, person: str) -> tuple[Any, ...]:
        headers = {k: v for k, v in response.headers.items() if k not in ("date", "content-length")}
        return response.status_code, response.text.replace(person, "PERSON"), headers

    assert moved_away.status_code == 404
    assert same(moved_away, MOVED) == same(unknown, "P-NOBODY")
    assert cli_moved.exit_code == cli_unknown.exit_code == EXIT_UNKNOWN_PERSON
    assert cli_moved.output.replace(MOVED, "PERSON") == cli_unknown.output.replace(
        "P-NOBODY", "PERSON"
    )
    assert json.loads(cli_moved.output) == moved_away.json()


def test_refused_reads_are_written_to_the_access_log(server: Served) -> None:
    person = "P-KBH-0002"  # moved from Copenhagen (101) to Aarhus (751)
    with server.municipality("101") as copenhagen:
        for kind in KINDS:
            assert copenhagen.get(f"/v1/persons/{person}/{kind}").status_code == 404
        assert copenhagen.get("/v1/persons/P-NOBODY-LOGGED/history").status_code == 404
    with server.client("investigator") as investigator:
        log = investigator.get("/v1/access-log", params={"person": person}).json()["entries"]
        unknown = investigator.get("/v1/access-log", params={"person": "P-NOBODY-LOGGED"}).json()

    copenhagen_id = server.tokens["municipality:101"]["token"]["id"]
    refused = [e for e in log if e["token_id"] == copenhagen_id]
    assert [(e["action"], e["categories"], e["legal_basis"]) for e in refused][-3:] == [
        (kind, [], [REFUSED]) for kind in KINDS
    ]
    assert [e["legal_basis"] for e in unknown["entries"]] == [[REFUSED]]


def test_a_worklist_resting_on_another_municipalitys_events_is_logged(server: Served) -> None:
    """INTERFACE.md: every read that discloses another municipality's events is logged."""
    with server.municipality("851") as aalborg:
        worklist = aalborg.get("/v1/municipalities/851/deadlines").json()
    with server.client("investigator") as investigator:
        log = investigator.get("/v1/access-log", params={"person": MOVED}).json()["entries"]

    assert MOVED in {item["person"] for item in worklist["items"]}
    [entry, *_] = [e for e in log if e["action"] == "deadlines"]
    assert entry["municipality"] == "851"
    assert "benefits" in entry["categories"]
    assert "employment" not in entry["categories"]


# --- rule pack revisions --------------------------------------------------------------------------


def test_an_earlier_rule_revision_is_folded_live_and_answered_alike_by_both_faces(
    server: Served,
) -> None:
    for kind in KINDS:
        over_cli = cli_read(server, kind, MOVED, "--reader", "851", "--rule-revision", "1")
        with server.municipality("851") as client:
            over_http = client.get(f"/v1/persons/{MOVED}/{kind}", params={"rule_revision": 1})
        assert over_cli.exit_code == 0, over_cli.output
        assert comparable(over_cli.output) == comparable(over_http.content)


def test_the_worklist_and_replay_take_a_rule_revision_too(server: Served) -> None:
    over_cli = cli_read(server, "deadlines", "--municipality", "851", "--rule-revision", "1")
    with server.municipality("851") as client:
        over_http = client.get("/v1/municipalities/851/deadlines", params={"rule_revision": 1})
        refused = client.get("/v1/municipalities/851/deadlines", params={"rule_revision": 0})
    with server.municipality("561") as client:
        unredacted = client.get("/v1/municipalities/561/deadlines", params={"rule_revision": 1})
    replayed = cli_read(server, "replay", MOVED, "--rule-revision", "1")

    assert over_cli.output.encode() == over_http.content + b"\n"
    assert over_http.json()["redacted"] is True  # Aalborg may not see Odense's record of the job
    # A revision 1 worklist with nothing withheld is as it was made: without the new keys.
    assert "redacted" not in unredacted.json()
    assert [e["field"] for e in refused.json()["errors"]] == ["rule_revision"]
    assert replayed.exit_code == 0, replayed.output
    assert len(json.loads(replayed.output)) == len(moved_case())


@pytest.mark.parametrize("revision", ["0", str(LATEST_REVISION + 1), "two"])
def test_an_unknown_rule_revision_is_refused_naming_the_parameter(
    server: Served, revision: str
) -> None:
    over_cli = cli_read(server, "status", MOVED, "--rule-revision", revision)
    with server.client("investigator") as client:
        over_http = client.get(f"/v1/persons/{MOVED}/status", params={"rule_revision": revision})

    assert over_cli.exit_code == EXIT_USAGE
    assert "--rule-revision" in over_cli.output
    assert over_http.status_code == 422
    assert [e["field"] for e in over_http.json()["errors"]] == ["rule_revision"]


def test_an_unknown_reader_is_a_usage_error_naming_the_option(server: Served) -> None:
    answer = cli_read(server, "status", MOVED, "--reader", "999")

    assert answer.exit_code == EXIT_USAGE
    assert "--reader" in answer.output
