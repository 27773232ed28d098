"""Wire events for tests: a small builder of valid case histories as JSON objects."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ledger.wire import Line, ndjson_lines

_NAMESPACE = uuid.UUID("2d5f9a56-7c1e-4c44-9b0e-6d1f8e1e2a10")


def event_id(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


def ndjson(events: Iterable[dict[str, Any]]) -> bytes:
    return b"\n".join(json.dumps(e).encode() for e in events) + b"\n"


def lines(events: Iterable[dict[str, Any]]) -> list[Line]:
    return ndjson_lines(ndjson(events))


class WireCase:
    """Events of one person's case, with the envelope filled in and readable ids."""

    def __init__(self, person: str, municipality: str = "101") -> None:
        self.person = person
        self.municipality = municipality
        self.count = 0

    def event(self, type_: str, on: str = "2024-01-10", **fields: Any) -> dict[str, Any]:
        self.count += 1
        municipality = fields.pop("municipality", self.municipality)
        return {
            "type": type_,
            "event_id": fields.pop("event_id", event_id(f"{self.person}/{self.count}")),
            "person": self.person,
            "municipality": municipality,
            "occurred_on": on,
            **fields,
        }

    def opened(self, on: str = "2024-01-02", **fields: Any) -> dict[str, Any]:
        fields.setdefault("category", "refugee")
        fields.setdefault("residence_basis", "UDL § 7 stk. 1")
        return self.event("ResponsibilityAssumed", on, **fields)

    def offer(
        self, offer_id: str, kind: str = "company_internship", **fields: Any
    ) -> dict[str, Any]:
        fields.setdefault("starts_on", "2024-02-01")
        return self.event("OfferMade", offer_id=offer_id, kind=kind, **fields)

    def absence(self, offer_id: str, days: int = 2, **fields: Any) -> dict[str, Any]:
        return self.event("AbsenceRecorded", offer_id=offer_id, days=days, **fields)

    def moved(self, to: str, **fields: Any) -> dict[str, Any]:
        event = self.event("MunicipalityMoved", to_municipality=to, **fields)
        self.municipality = to
        return event


@dataclass(frozen=True)
class CorrectionAfterMove:
    """Hvidovre (167) sanctions one absence and records another in error; the person moves to
    Odense (461) on 2025-07-01 and Odense approves the takeover. Then the three things the
    second edition found wrong are tried: Odense backdating a record to before it became
    responsible, Odense retracting Hvidovre's sanction, and Hvidovre retracting its own
    erroneous absence after the move (the only one the law allows). ``case`` goes on as Odense."""

    case: WireCase
    hvidovre: list[dict[str, Any]]
    odense: list[dict[str, Any]]
    backdated: dict[str, Any]
    foreign_retraction: dict[str, Any]
    own_retraction: dict[str, Any]


def correction_after_move(person: str) -> CorrectionAfterMove:
    case = WireCase(person, "167")
    sanctioned = case.absence("O-1", on="2025-03-10")
    in_error = case.absence("O-1", on="2025-06-16")
    sanction = case.event(
        "SanctionImposed",
        "2025-03-14",
        sanction_id="S-1",
        kind="deduction",
        grounds=[sanctioned["event_id"]],
        amount_dkk="299.08",
    )
    hvidovre = [
        case.opened("2025-01-06"),
        case.offer("O-1", on="2025-02-10", starts_on="2025-03-03"),
        sanctioned,
        sanction,
        in_error,
        case.moved("461", on="2025-07-01"),
    ]
    odense = [case.event("TakeoverDecided", "2025-07-08", approved=True, ground="discretionary")]
    backdated = case.event("ContactAttempted", "2025-06-20", channel="phone", reached=True)
    foreign = case.event(
        "EventRetracted", "2025-07-14", retracts=sanction["event_id"], reason="not ours"
    )
    own = case.event(
        "EventRetracted",
        "2025-07-14",
        retracts=in_error["event_id"],
        reason="entered in error",
        municipality="167",
    )
    return CorrectionAfterMove(case, hvidovre, odense, backdated, foreign, own)


MOVED = "P-READ-MOVED"


def moved_case(person: str = MOVED) -> list[dict[str, Any]]:
    """Opened in Odense (461) on kontanthjælp, activity-ready, an absence without any contact
    attempt and an ordinary job, then moved to Aalborg (851), which takes over and records an
    absence of its own. No consent: Aalborg may see everything but the job."""
    case = WireCase(person, "461")
    return [
        case.opened("2024-01-02"),
        case.event(
            "BenefitGranted", "2024-01-02", benefit="kontanthjaelp", monthly_amount_dkk="12000.00"
        ),
        case.event(
            "ContractSigned",
            "2024-01-20",
            contract_id="K1",
            employment_goal="Job",
            weekly_hours=37,
            activities=[],
            sanctions_described=True,
        ),
        case.event("ConsequencesNotified", "2024-01-20"),
        case.event("ReadinessAssessed", "2024-01-21", readiness="activity_ready"),
        case.offer("O-1", on="2024-02-01", starts_on="2024-02-05"),
        case.absence("O-1", on="2024-02-12"),
        case.event(
            "EmploymentStarted", "2024-03-01", employment_id="E-1", ordinary=True, hours_per_week=37
        ),
        case.moved("851", on="2024-09-02"),
        case.event("TakeoverDecided", "2024-09-09", approved=True),
        case.offer("O-2", on="2024-09-15", starts_on="2024-09-20"),
        case.absence("O-2", on="2024-09-23"),
    ]
