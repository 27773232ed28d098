"""Deterministic synthetic case histories: valid, realistic, about 50 events a person.

Used by ``ledger bench`` and by property tests. The same seed always gives the same events
(ids included), every history obeys the case invariants, and histories include what makes
the projections interesting: moves with takeover decisions, absences and refusals with and
without notice, sanctions (some overturned), follow-ups, Danish tests, employment, status
requests and permits.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from ledger import events as ev
from ledger.municipalities import municipalities

EVENTS_PER_PERSON = 50
FIRST_DAY = date(2019, 1, 1)
LAST_DAY = date(2026, 10, 31)


class _Case:
    def __init__(self, rng: random.Random, person: str, municipality: str, start: date) -> None:
        self.rng = rng
        self.person = person
        self.municipality = municipality
        self.day = start
        self.events: list[ev.Event] = []
        self.offers: list[tuple[str, str]] = []
        self.incidents: list[UUID] = []
        self.sanctions: list[str] = []
        self.serial = 0

    def uid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def ref(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    def advance(self, low: int, high: int) -> None:
        self.day = min(self.day + timedelta(days=self.rng.randint(low, high)), LAST_DAY)

    def add(self, cls: type[ev.Event], **fields: object) -> ev.Event:
        event = cls(
            event_id=self.uid(),
            person=self.person,
            municipality=self.municipality,
            occurred_on=self.day,
            recorded_by="system:bench",
            **fields,
        )
        self.events.append(event)
        return event


def _contract(case: _Case, hours: float) -> None:
    case.add(
        ev.ContractSigned,
        contract_id=case.ref("C"),
        employment_goal="Ordinary employment in logistics",
        education_goal="Danish 2" if case.rng.random() < 0.5 else None,
        weekly_hours=hours,
        activities=[
            ev.Activity(activity_id=case.ref("A"), kind="danish_education", hours_per_week=15),
            ev.Activity(activity_id=case.ref("A"), kind="company_internship", hours_per_week=22),
        ],
        sanctions_described=True,
    )


def person_history(seed: int, number: int, size: int = EVENTS_PER_PERSON) -> list[ev.Event]:
    """One person's case, ``size`` events give or take a few, in recording order."""
    rng = random.Random(seed * 1_000_003 + number)  # noqa: S311 - reproducible, not secret
    codes = sorted(municipalities())
    start = FIRST_DAY + timedelta(days=rng.randint(0, 4 * 365))
    case = _Case(rng, f"BENCH-{seed}-{number:07d}", rng.choice(codes), start)
    monthly = Decimal(rng.randint(11_000, 13_500)).quantize(Decimal("0.01"))
    case.add(ev.ResponsibilityAssumed, category="refugee", residence_basis="UDL § 7")
    case.add(ev.BenefitGranted, benefit="integrationsydelse", monthly_amount_dkk=monthly)
    case.add(ev.ReadinessAssessed, readiness=rng.choice(["job_ready", "activity_ready"]))
    case.advance(5, 40)
    _contract(case, 37)
    case.add(ev.DeclarationSigned)
    case.advance(0, 20)
    case.add(ev.ProgramStarted, kind="integration_program")
    case.add(ev.ConsequencesNotified)
    moved = False
    while len(case.events) < size - 3 and case.day < LAST_DAY:
        case.advance(7, 30)
        roll = rng.random()
        if roll < 0.22 or not case.offers:
            kind = rng.choice(["company_internship", "danish_education", "interview", "job"])
            offer = case.ref("O")
            case.offers.append((offer, kind))
            case.add(
                ev.OfferMade,
                offer_id=offer,
                kind=kind,
                starts_on=case.day + timedelta(days=7),
                open_offer=rng.random() < 0.3,
                hours_per_week=20,
            )
        elif roll < 0.42:
            offer, _ = rng.choice(case.offers)
            cause = rng.choice([None, None, None, "illness"])
            absence = case.add(
                ev.AbsenceRecorded, offer_id=offer, days=rng.randint(1, 5), reasonable_cause=cause
            )
            case.incidents.append(absence.event_id)
        elif roll < 0.47:
            offer, _ = rng.choice(case.offers)
            refusal = case.add(ev.OfferRefused, offer_id=offer)
            case.incidents.append(refusal.event_id)
        elif roll < 0.55:
            case.add(ev.ContactAttempted, channel="phone", reached=rng.random() < 0.7)
        elif roll < 0.68:
            case.add(ev.FollowUpHeld, mode="in_person", goals_met=rng.random() < 0.1)
        elif roll < 0.76 and case.incidents:
            sanction = case.ref("S")
            case.sanctions.append(sanction)
            case.add(
                ev.SanctionImposed,
                sanction_id=sanction,
                kind="deduction",
                grounds=[case.incidents[-1]],
                amount_dkk=(monthly * 12 / 260).quantize(Decimal("0.01")),
            )
        elif roll < 0.78 and case.sanctions:
            case.add(ev.SanctionOverturned, sanction_id=case.sanctions.pop(0), by="ankestyrelsen")
        elif roll < 0.81 and not moved:
            moved = True
            target = rng.choice([c for c in codes if c != case.municipality])
            case.add(ev.MunicipalityMoved, to_municipality=target)
            case.municipality = target
            case.offers.clear()
            case.advance(3, 20)
            approved = rng.random() < 0.8
            # A takeover on the mandatory ground cannot be refused (INL § 18 stk. 2).
            ground = "mandatory" if approved else "discretionary"
            case.add(ev.TakeoverDecided, approved=approved, ground=ground)
            _contract(case, 37)
        elif roll < 0.85:
            case.add(ev.DanishTestPassed, test=rng.choice(["pd1", "pd2", "pd3"]))
        elif roll < 0.89:
            case.add(
                ev.EmploymentStarted,
                employment_id=case.ref("E"),
                ordinary=rng.random() < 0.6,
                hours_per_week=30,
            )
        elif roll < 0.92:
            case.add(ev.StatusRequested, request_id=case.ref("R"), due_on=case.day + timedelta(30))
        else:
            case.add(ev.ConsentGiven, recipient=rng.choice(codes), evidence="samtykke")
    if rng.random() < 0.15:
        case.add(ev.PermitGranted)
    return case.events


def long_case(seed: int, number: int, size: int) -> list[ev.Event]:
    """A valid case of exactly ``size`` events (at least 2), however many: opened, then
    contact attempts and follow-ups a day or so apart (many on one day once the calendar runs
    out), for measuring what a case's length costs."""
    rng = random.Random(seed * 1_000_003 + number)  # noqa: S311 - reproducible, not secret
    case = _Case(rng, f"LONG-{seed}-{number:07d}", rng.choice(sorted(municipalities())), FIRST_DAY)
    case.add(ev.ResponsibilityAssumed, category="refugee", residence_basis="UDL § 7")
    while len(case.events) < size:
        case.advance(0, 1)
        if rng.random() < 0.5:
            case.add(ev.ContactAttempted, channel="phone", reached=rng.random() < 0.7)
        else:
            case.add(ev.FollowUpHeld, mode="in_person", goals_met=rng.random() < 0.1)
    return case.events


def workload(events: int, persons: int | None = None, seed: int = 1) -> Iterator[ev.Event]:
    """Exactly ``events`` events, person by person, over about ``persons`` persons
    (default: events / 50); the last history is cut short to land on the count."""
    size = max(2, events // persons) if persons else EVENTS_PER_PERSON
    produced = 0
    number = 0
    while produced < events:
        history = person_history(seed, number, size)[: events - produced]
        produced += len(history)
        number += 1
        yield from history
