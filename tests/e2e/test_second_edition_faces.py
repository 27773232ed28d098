"""The second edition's corrections through both faces, on both stores: each "found" case of
the law (issue on the second edition) read with the real `ledger` command and over HTTP from a
real `ledger serve`, against a SQLite file and the PostgreSQL server the tests start.

The fixture cases hold most of them (``fixtures/cases.ndjson``: P-ESB-0002 an immigrant,
P-AAL-0003 the 12-month follow-up and a late answer, P-KBH-0004 ressourceforløbsydelse, a refused
interview and a suspension checked against the law); the rest are small cases written here.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.paths import SAMPLE_CASES
from tests.support.pg import PostgresCluster
from tests.support.server import LEDGER, Server, token
from tests.support.wire import WireCase, ndjson

AS_OF = "2026-11-23"


def extra_cases() -> bytes:
    interview = WireCase("P-E2-0001", "461")
    part_time = WireCase("P-E2-0002", "461")
    follow_up = WireCase("P-E2-0003", "461")
    return ndjson(
        [
            interview.opened("2024-01-02"),
            interview.event(
                "BenefitGranted",
                "2024-01-02",
                benefit="integrationsydelse",
                monthly_amount_dkk="6270.00",
            ),
            interview.event("ReadinessAssessed", "2024-01-03", readiness="job_ready"),
            interview.event("ConsequencesNotified", "2024-01-04"),
            interview.offer("E2-0001-T1", "interview", starts_on="2024-02-01"),
            interview.event("OfferRefused", "2024-01-20", offer_id="E2-0001-T1"),
            part_time.opened("2024-01-02"),
            part_time.event(
                "EmploymentStarted",
                "2024-02-01",
                employment_id="E2-0002-E1",
                ordinary=True,
                hours_per_week=20,
            ),
            follow_up.opened("2024-01-02"),
            follow_up.event(
                "StatusRequested", "2024-03-01", request_id="UST-E2-3", due_on="2024-03-29"
            ),
            follow_up.event("FollowUpHeld", "2024-03-10", mode="phone", goals_met=False),
        ]
    )


class Faces:
    """One store with the fixture cases, read through `ledger` and `ledger serve`."""

    def __init__(self, db: str, server: Server, secret: str) -> None:
        self.db = db
        self.server = server
        self.secret = secret

    def cli(self, *args: str) -> dict[str, Any]:
        done = subprocess.run(
            [LEDGER, "--db", self.db, *args, "--json"], capture_output=True, check=True, timeout=120
        )
        body: dict[str, Any] = json.loads(done.stdout)
        return body

    def http(self, path: str, **params: str) -> dict[str, Any]:
        with self.server.client(self.secret) as client:
            response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def both(self, kind: str, person: str, as_of: str = AS_OF) -> list[dict[str, Any]]:
        """The projection through each face, without its generation time."""
        bodies = [
            self.cli(kind, person, "--as-of", as_of),
            self.http(f"/v1/persons/{person}/{kind}", as_of=as_of),
        ]
        for body in bodies:
            body.pop("generated_at", None)
        assert bodies[0] == bodies[1]
        return bodies


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def faces(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Faces]:
    folder = tmp_path_factory.mktemp("second-edition")
    cluster: PostgresCluster | None = None
    name = f"e2_{uuid.uuid4().hex}"
    if request.param == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        db = cluster.create_database(name)
    else:
        db = str(folder / "ledger.db")
    batch = folder / "batch.ndjson"
    batch.write_bytes(SAMPLE_CASES.read_bytes() + extra_cases())
    subprocess.run([LEDGER, "--db", db, "append", str(batch)], check=True, capture_output=True)
    try:
        with Server(db, folder / "server.log") as server:
            yield Faces(db, server, token(db, "investigator"))
    finally:
        if cluster is not None:
            cluster.drop_database(name)


def test_a_refused_interview_is_a_deduction_under_akl_37_through_both_faces(faces: Faces) -> None:
    """AKL § 37: "udeblivelse fra samtaler m.v."; never cessation under § 41."""
    for view in faces.both("sanctions", "P-E2-0001"):
        (incident,) = view["incidents"]
        assert incident["recommended"]["kind"] == "deduction"
        assert incident["recommended"]["paragraph"] == "AKL § 37"
        assert incident["recommended"]["amount_dkk"] is None


def test_an_immigrant_has_no_deadlines_and_no_worklist_items_through_both_faces(
    faces: Faces,
) -> None:
    """INL § 2 stk. 5: immigrants are "ikke omfattet af lovens kap. 3, 4, 5, 6 og 7"."""
    for status in faces.both("status", "P-ESB-0002"):
        assert status["contract"]["applies"] is False
        assert status["contract"]["deadline_met"] is None
        assert status["follow_ups"]["overdue"] is None
    cli = faces.cli("deadlines", "--municipality", "561", "--on", AS_OF)
    assert "P-ESB-0002" not in {item["person"] for item in cli["items"]}


def test_the_twelve_month_follow_up_through_both_faces(faces: Faces) -> None:
    """Handbook on INL § 20: "skal opfølgning mindst ske hver 12 måned"."""
    for status in faces.both("status", "P-AAL-0003", "2026-05-01"):
        assert status["follow_ups"]["interval_months"] == 12
        assert status["follow_ups"]["next_due_on"] == "2027-03-23"
    # The education ended on 2026-06-26: three months again, counted from the latest follow-up.
    for status in faces.both("status", "P-AAL-0003"):
        assert status["follow_ups"]["interval_months"] == 3
        assert (status["follow_ups"]["next_due_on"], status["follow_ups"]["overdue"]) == (
            "2026-06-23",
            True,
        )


def test_ressourceforloebsydelse_and_the_suspension_it_cannot_carry_through_both_faces(
    faces: Faces,
) -> None:
    """AKL §§ 69 l-69 r; § 40 a stk. 1 covers only help under §§ 22, 23 and 25."""
    for view in faces.both("sanctions", "P-KBH-0004"):
        paragraphs = {s["sanction_id"]: s["paragraph"] for s in view["sanctions"]}
        assert paragraphs["KBH-0004-S1"] == "AKL §§ 69 l–69 r"  # noqa: RUF001
        suspension = next(s for s in view["sanctions"] if s["kind"] == "suspension")
        assert suspension["unsupported"] == ["benefit_not_covered"]
        assert all(i["escalation"]["eligible"] is False for i in view["incidents"])


def test_only_a_status_reported_answers_a_request_through_both_faces(faces: Faces) -> None:
    """Bill remark: "pligt til at udarbejde en status ... når Udlændingestyrelsen anmoder
    herom"; a follow-up is not that status."""
    for status in faces.both("status", "P-E2-0003"):
        (request,) = status["status_requests"]
        assert (request["answered"], request["late"]) == (False, True)
    for status in faces.both("status", "P-AAL-0003"):
        (request,) = status["status_requests"]
        assert (request["answered_on"], request["late"]) == ("2026-04-08", True)


def test_part_time_work_is_not_full_time_employment_through_both_faces(faces: Faces) -> None:
    """UDL § 11: ordinary full-time employment [assumption: 30 hours a week]."""
    for status in faces.both("status", "P-E2-0002"):
        assert status["employment"]["ordinary_months_last_36"] > 0
        assert status["employment"]["full_time_months_last_36"] == 0


def test_reports_name_pack_revision_and_head_hash_through_both_faces(faces: Faces) -> None:
    events = [
        json.loads(line)
        for line in subprocess.run(
            [LEDGER, "--db", faces.db, "events", "P-KBH-0002"],
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout.splitlines()
    ]
    for kind in ("status", "sanctions", "history"):
        for view in faces.both(kind, "P-KBH-0002"):
            assert (view["rule_pack"], view["rule_revision"]) == ("akl-2015/inl-2014", 2)
            assert view["head_hash"] == events[-1]["hash"]
