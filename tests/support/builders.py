"""Stored case events for projection tests, built directly: no store, no database.

``CaseBuilder`` makes one person's events with incrementing positions and versions, as the
ledger would have stored them. ``recorded_at`` is noon UTC on the day the event occurred (never
before the previous event's), unless a test gives it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from ledger.events import (
    AbsenceRecorded,
    BenefitEnded,
    BenefitGranted,
    ConsequencesNotified,
    ContactAttempted,
    ContractSigned,
    DanishTestPassed,
    DeclarationSigned,
    EducationEnded,
    EducationStarted,
    EmploymentEnded,
    EmploymentStarted,
    Event,
    EventRetracted,
    FollowUpHeld,
    MunicipalityMoved,
    OfferMade,
    OfferRefused,
    PermitGranted,
    ProgramStarted,
    ReadinessAssessed,
    ResponsibilityAssumed,
    SanctionImposed,
    SanctionOverturned,
    StatusReported,
    StatusRequested,
    TakeoverDecided,
)
from ledger.records import StoredCaseEvent

_NAMESPACE = uuid.UUID("6b0c3c1e-8f1a-4f55-a2d9-3c1f4d2e9b77")


def day(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def at(value: str) -> datetime:
    """A transaction time; without an offset it is UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class CaseBuilder:
    def __init__(self, person: str = "P-1", municipality: str = "101", position: int = 0) -> None:
        self.person = person
        self.municipality = municipality
        self.position = position
        self.events: list[StoredCaseEvent] = []

    def add(
        self,
        cls: type[Event],
        on: str | date,
        *,
        recorded_at: datetime | str | None = None,
        municipality: str | None = None,
        **fields: Any,
    ) -> StoredCaseEvent:
        occurred_on = day(on)
        self.position += 1
        version = len(self.events) + 1
        event = cls(
            event_id=uuid.uuid5(_NAMESPACE, f"{self.person}/{version}"),
            person=self.person,
            municipality=municipality or self.municipality,
            occurred_on=occurred_on,
            **fields,
        )
        if recorded_at is None:
            recorded = datetime.combine(occurred_on, time(12), tzinfo=UTC)
            if self.events and recorded <= self.events[-1].recorded_at:
                recorded = self.events[-1].recorded_at + timedelta(minutes=1)
        else:
            recorded = at(recorded_at) if isinstance(recorded_at, str) else recorded_at
        stored = StoredCaseEvent(
            position=self.position,
            version=version,
            recorded_at=recorded,
            hash=f"{version:064x}",
            prev_hash=f"{version - 1:064x}",
            event=event,
        )
        self.events.append(stored)
        return stored

    # --- the catalogue, with plausible defaults ---------------------------------------------------

    def opened(self, on: str = "2016-01-04", **fields: Any) -> StoredCaseEvent:
        fields.setdefault("category", "refugee")
        fields.setdefault("residence_basis", "UDL § 7 stk. 1")
        return self.add(ResponsibilityAssumed, on, **fields)

    def contract(self, on: str, contract_id: str = "C-1", **fields: Any) -> StoredCaseEvent:
        fields.setdefault("employment_goal", "work as a cook")
        fields.setdefault("weekly_hours", 37.0)
        fields.setdefault("activities", [])
        fields.setdefault("sanctions_described", True)
        return self.add(ContractSigned, on, contract_id=contract_id, **fields)

    def declaration(self, on: str, **fields: Any) -> StoredCaseEvent:
        return self.add(DeclarationSigned, on, **fields)

    def program(self, on: str, kind: str = "integration_program") -> StoredCaseEvent:
        return self.add(ProgramStarted, on, kind=kind)

    def readiness(self, on: str, readiness: str = "activity_ready") -> StoredCaseEvent:
        return self.add(ReadinessAssessed, on, readiness=readiness)

    def benefit(
        self, on: str, monthly: str = "11000.00", benefit: str = "integrationsydelse"
    ) -> StoredCaseEvent:
        return self.add(BenefitGranted, on, benefit=benefit, monthly_amount_dkk=Decimal(monthly))

    def benefit_ended(self, on: str, benefit: str = "integrationsydelse") -> StoredCaseEvent:
        return self.add(BenefitEnded, on, benefit=benefit)

    def notified(self, on: str, **fields: Any) -> StoredCaseEvent:
        return self.add(ConsequencesNotified, on, **fields)

    def offer(
        self,
        on: str,
        offer_id: str = "O-1",
        kind: str = "company_internship",
        starts_on: str | None = None,
        **fields: Any,
    ) -> StoredCaseEvent:
        return self.add(
            OfferMade, on, offer_id=offer_id, kind=kind, starts_on=day(starts_on or on), **fields
        )

    def absence(
        self, on: str, offer_id: str = "O-1", days: int = 2, **fields: Any
    ) -> StoredCaseEvent:
        return self.add(AbsenceRecorded, on, offer_id=offer_id, days=days, **fields)

    def refusal(self, on: str, offer_id: str = "O-1", **fields: Any) -> StoredCaseEvent:
        return self.add(OfferRefused, on, offer_id=offer_id, **fields)

    def contact(
        self, on: str, channel: str = "phone", reached: bool = True, **fields: Any
    ) -> StoredCaseEvent:
        return self.add(ContactAttempted, on, channel=channel, reached=reached, **fields)

    def sanction(
        self,
        on: str,
        sanction_id: str,
        kind: str = "deduction",
        grounds: list[StoredCaseEvent] | None = None,
        **fields: Any,
    ) -> StoredCaseEvent:
        return self.add(
            SanctionImposed,
            on,
            sanction_id=sanction_id,
            kind=kind,
            grounds=[g.event.event_id for g in grounds or []],
            **fields,
        )

    def overturned(self, on: str, sanction_id: str, by: str = "ankestyrelsen") -> StoredCaseEvent:
        return self.add(SanctionOverturned, on, sanction_id=sanction_id, by=by)

    def follow_up(
        self, on: str, goals_met: bool = False, mode: str = "in_person"
    ) -> StoredCaseEvent:
        return self.add(FollowUpHeld, on, mode=mode, goals_met=goals_met)

    def moved(self, on: str, to: str) -> StoredCaseEvent:
        stored = self.add(MunicipalityMoved, on, to_municipality=to)
        self.municipality = to
        return stored

    def takeover(self, on: str, approved: bool = True, **fields: Any) -> StoredCaseEvent:
        return self.add(TakeoverDecided, on, approved=approved, **fields)

    def danish_test(self, on: str, test: str = "pd2") -> StoredCaseEvent:
        return self.add(DanishTestPassed, on, test=test)

    def employment(
        self, on: str, employment_id: str = "E-1", ordinary: bool = True, hours: float = 37.0
    ) -> StoredCaseEvent:
        return self.add(
            EmploymentStarted,
            on,
            employment_id=employment_id,
            ordinary=ordinary,
            hours_per_week=hours,
        )

    def employment_ended(self, on: str, employment_id: str = "E-1") -> StoredCaseEvent:
        return self.add(EmploymentEnded, on, employment_id=employment_id)

    def status_requested(
        self, on: str, request_id: str = "R-1", due_on: str = ""
    ) -> StoredCaseEvent:
        return self.add(StatusRequested, on, request_id=request_id, due_on=day(due_on or on))

    def status_reported(
        self, on: str, request_id: str = "R-1", digest: str = "sha256:" + "ab" * 32
    ) -> StoredCaseEvent:
        return self.add(StatusReported, on, request_id=request_id, digest=digest)

    def education(
        self, on: str, education_id: str = "U-1", ordinary: bool = True
    ) -> StoredCaseEvent:
        return self.add(EducationStarted, on, education_id=education_id, ordinary=ordinary)

    def education_ended(self, on: str, education_id: str = "U-1") -> StoredCaseEvent:
        return self.add(EducationEnded, on, education_id=education_id)

    def permit(self, on: str) -> StoredCaseEvent:
        return self.add(PermitGranted, on)

    def retract(
        self, target: StoredCaseEvent, on: str, recorded_at: datetime | str | None = None
    ) -> StoredCaseEvent:
        return self.add(
            EventRetracted,
            on,
            recorded_at=recorded_at,
            retracts=target.event.event_id,
            reason="entered in error",
        )


def sanctionable_case(
    readiness: str = "job_ready", benefit: str = "integrationsydelse"
) -> CaseBuilder:
    """Written notice given, benefit paid, readiness assessed: what an incident needs."""
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.benefit("2016-01-04", benefit=benefit)
    case.readiness("2016-01-05", readiness)
    case.notified("2016-01-10")
    return case
