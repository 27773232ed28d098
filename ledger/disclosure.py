"""What the responsible municipality may see of the events other municipalities recorded in a
case, and on which legal basis.

Every event type belongs to one category (``EVENT_CATEGORY``). A category either goes to the
municipality now responsible without the person's consent, under the provision it names, or
only while the person's consent to that municipality stands (``ConsentGiven`` to it, not
retracted and not followed by ``ConsentWithdrawn``). The table is data with its citations;
``disclose`` applies it to one case. Nothing here reads a store or knows about HTTP.

Sources: the bill remark on the integration contract (2005/06, "Ad 2"), which lets the new
municipality ask a previous one without consent for "navn, opholdsgrundlag og andre personlige
data samt oplysningerne fra den underskrevne integrationskontrakt, kopi af erklæringen om
integration og aktivt medborgerskab ... og status for udlændingens deltagelse i
introduktionsprogrammet", while further information "videregives som udgangspunkt med
udlændingens samtykke"; and AKL § 69 r (sanctions from a previous municipality without consent,
because sanctions accumulate; handbook 2015, p. 26).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple
from uuid import UUID

from ledger.application import StoredCaseEvent
from ledger.events import ConsentGiven, ConsentWithdrawn, Event, EventRetracted

BILL_REMARK = "bill remark on the integration contract (2005/06)"


class Category(NamedTuple):
    """A kind of case information and what lets another municipality's record of it travel."""

    name: str
    without_consent: bool
    basis: str


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category(
            "personal_data",
            without_consent=True,
            basis=f"{BILL_REMARK}: name, residence basis and other personal data",
        ),
        # Where the person has lived and who was responsible is residence history, "andre
        # personlige data"; the receiving municipality must know the move to decide on the
        # takeover (INL § 18), and a permit changes the residence basis.
        Category(
            "responsibility",
            without_consent=True,
            basis=f"{BILL_REMARK}: residence basis and other personal data; INL § 18",
        ),
        # The person's consent decisions are what every further disclosure rests on.
        Category(
            "consent",
            without_consent=True,
            basis=f"{BILL_REMARK}: the person's consent, on which further information rests",
        ),
        Category(
            "contract",
            without_consent=True,
            basis=f"{BILL_REMARK}: the signed integration contract (INL §§ 16, 19)",
        ),
        Category(
            "declaration",
            without_consent=True,
            basis=f"{BILL_REMARK}: the declaration on integration and active citizenship "
            "(INL § 19 stk. 1)",
        ),
        Category(
            "participation",
            without_consent=True,
            basis=f"{BILL_REMARK}: status of participation in the programme",
        ),
        Category(
            "sanctions",
            without_consent=True,
            basis="AKL § 69 r: sanctions from a previous municipality (they accumulate)",
        ),
        *(
            Category(name, without_consent=False, basis=f"{BILL_REMARK}: consent of the person")
            for name in (
                "contact",
                "readiness",
                "benefits",
                "danish_tests",
                "employment",
                "education",
                "status_requests",
            )
        ),
    )
}

EVENT_CATEGORY: dict[str, str] = {
    "ResponsibilityAssumed": "personal_data",
    "MunicipalityMoved": "responsibility",
    "TakeoverDecided": "responsibility",
    "PermitGranted": "responsibility",
    "ConsentGiven": "consent",
    "ConsentWithdrawn": "consent",
    "ContractSigned": "contract",
    "ProgramStarted": "contract",
    "DeclarationSigned": "declaration",
    "OfferMade": "participation",
    "OfferRefused": "participation",
    "AbsenceRecorded": "participation",
    "FollowUpHeld": "participation",
    # A written notice of consequences is the precondition of a sanction (AKL § 35 stk. 1).
    "ConsequencesNotified": "sanctions",
    "SanctionImposed": "sanctions",
    "SanctionOverturned": "sanctions",
    "ContactAttempted": "contact",
    "ReadinessAssessed": "readiness",
    "BenefitGranted": "benefits",
    "BenefitEnded": "benefits",
    "DanishTestPassed": "danish_tests",
    "EmploymentStarted": "employment",
    "EmploymentEnded": "employment",
    "EducationStarted": "education",
    "EducationEnded": "education",
    "StatusRequested": "status_requests",
    "StatusReported": "status_requests",
    # EventRetracted has the category of the event it retracts: showing the retraction of a
    # withheld event would show that the event exists.
}

INVESTIGATION_BASIS = "investigator access: audit, appeal and supervision of the case"


class Disclosure(NamedTuple):
    """What one reader may see of one case, and what of it came from other municipalities."""

    visible: list[StoredCaseEvent]
    disclosed: tuple[str, ...]  # categories of other municipalities' events shown
    withheld: tuple[str, ...]  # categories of other municipalities' events left out
    bases: tuple[str, ...]  # the legal basis of each disclosed category


def category_of(event: Event, events_by_id: dict[UUID, Event]) -> str:
    if isinstance(event, EventRetracted):
        target = events_by_id.get(event.retracts)
        # A retraction names an event of its own case (a case invariant); were it ever not
        # so, the retraction alone would show nothing but an id.
        return "responsibility" if target is None else category_of(target, events_by_id)
    return EVENT_CATEGORY[event.type]


def consent_to(recipient: str, events: Iterable[Event]) -> ConsentGiven | None:
    """The consent to share with ``recipient`` that stands after ``events``, if any."""
    history = list(events)
    retracted = {e.retracts for e in history if isinstance(e, EventRetracted)}
    standing: ConsentGiven | None = None
    for event in history:
        if event.event_id in retracted:
            continue
        if isinstance(event, ConsentGiven) and event.recipient == recipient:
            standing = event
        elif isinstance(event, ConsentWithdrawn) and event.recipient == recipient:
            standing = None
    return standing


def disclose(events: Sequence[StoredCaseEvent], municipality: str) -> Disclosure:
    """The case as ``municipality`` (responsible for it now) may see it."""
    by_id: dict[UUID, Event] = {s.event.event_id: s.event for s in events}
    consent = consent_to(municipality, (s.event for s in events))
    visible: list[StoredCaseEvent] = []
    disclosed: set[str] = set()
    withheld: set[str] = set()
    for stored in events:
        if stored.event.municipality == municipality:
            visible.append(stored)
            continue
        name = category_of(stored.event, by_id)
        if CATEGORIES[name].without_consent or consent is not None:
            visible.append(stored)
            disclosed.add(name)
        else:
            withheld.add(name)
    given = (
        ""
        if consent is None
        else f"consent of the person given on {consent.occurred_on.isoformat()} "
        f"(event {consent.event_id})"
    )
    bases = {
        CATEGORIES[n].basis if CATEGORIES[n].without_consent else given: None
        for n in sorted(disclosed)
    }
    return Disclosure(visible, tuple(sorted(disclosed)), tuple(sorted(withheld)), tuple(bases))


def investigation(events: Sequence[StoredCaseEvent]) -> Disclosure:
    """The whole case, as an investigator sees it."""
    by_id: dict[UUID, Event] = {s.event.event_id: s.event for s in events}
    categories = sorted({category_of(s.event, by_id) for s in events})
    return Disclosure(list(events), tuple(categories), (), (INVESTIGATION_BASIS,))
