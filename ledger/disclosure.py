"""What the responsible municipality may see of the events other municipalities recorded in a
case, on which legal basis, and which values of each projection derive from what it may not see.

Every event type belongs to one category (``EVENT_CATEGORY``). A category either goes to the
municipality now responsible without the person's consent, under the provision it names, or
only while the person's consent to that municipality stands (``ConsentGiven`` to it, not
retracted and not followed by ``ConsentWithdrawn``). The table is data with its citations;
``disclose`` applies it to one case. ``WITHHELD_FIELDS`` names, per projection and category,
the values derived from that category: the read service (``projections.views``) folds every
projection over the whole case and nulls those values for a reader who may not see the
category. Nothing here reads a store or knows about HTTP.

Sources (second edition of the brief, DOMAIN.md "Data sharing"): the bill remark on the
integration contract (2005/06, "Ad 2"), which lets the new municipality ask a previous one
without consent for "navn, opholdsgrundlag og andre personlige data samt oplysningerne fra den
underskrevne integrationskontrakt, kopi af erklæringen om integration og aktivt medborgerskab
... og status for udlændingens deltagelse i introduktionsprogrammet", while further information
"videregives som udgangspunkt med udlændingens samtykke" unless "nødvendige for at varetage den
beskæftigelsesrettede indsats"; and AKL § 69 r (sanctions from a previous municipality without
consent, because sanctions accumulate; handbook 2015, p. 26).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import NamedTuple
from uuid import UUID

import msgspec

from ledger.events import ConsentGiven, ConsentWithdrawn, Event, EventRetracted
from ledger.i18n import N_, Phrase, Stored
from ledger.records import StoredCaseEvent

# Each basis is written out whole and marked for the catalogue: the access log stores it in
# English, and the pages say it in their reader's language.
NEEDED_FOR_EMPLOYMENT = N_(
    "bill remark on the integration contract (2005/06): 'nødvendige for at varetage den "
    "beskæftigelsesrettede indsats' [assumption: every sanction assessment needs it]"
)
CONSENT = N_(
    "bill remark on the integration contract (2005/06): further information 'som "
    "udgangspunkt med udlændingens samtykke'"
)


class Category(NamedTuple):
    """A kind of case information and what lets another municipality's record of it travel."""

    name: str
    without_consent: bool
    basis: str
    assumption: bool = False  # the sources leave it open; the project's documented reading


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category(
            "personal_data",
            without_consent=True,
            basis=N_(
                "bill remark on the integration contract (2005/06): name, residence basis and "
                "other personal data"
            ),
        ),
        # Where the person has lived and who was responsible is residence history, "andre
        # personlige data"; the receiving municipality must know the move to decide on the
        # takeover (INL § 18), and a permit changes the residence basis.
        Category(
            "responsibility",
            without_consent=True,
            basis=N_(
                "bill remark on the integration contract (2005/06): residence basis and other "
                "personal data; INL § 18"
            ),
        ),
        # The person's consent to the reader is what every further disclosure to it rests on.
        Category(
            "consent",
            without_consent=True,
            basis=N_(
                "bill remark on the integration contract (2005/06): the person's consent to "
                "this municipality, on which further information rests"
            ),
        ),
        Category("consent_to_others", without_consent=False, basis=CONSENT),
        Category(
            "contract",
            without_consent=True,
            basis=N_(
                "bill remark on the integration contract (2005/06): the signed integration "
                "contract (INL §§ 16, 19)"
            ),
        ),
        Category(
            "declaration",
            without_consent=True,
            basis=N_(
                "bill remark on the integration contract (2005/06): the declaration on "
                "integration and active citizenship (INL § 19 stk. 1)"
            ),
        ),
        Category(
            "participation",
            without_consent=True,
            basis=N_(
                "bill remark on the integration contract (2005/06): status of participation in "
                "the programme (offers, absences, refusals, follow-ups, programme start)"
            ),
        ),
        Category(
            "danish_tests",
            without_consent=True,
            basis=N_(
                "bill remark on the integration contract (2005/06): status of participation in "
                "the programme (Danish education and tests)"
            ),
        ),
        Category(
            "sanctions",
            without_consent=True,
            basis=N_("AKL § 69 r: sanctions from a previous municipality (they accumulate)"),
        ),
        *(
            Category(name, without_consent=True, basis=NEEDED_FOR_EMPLOYMENT, assumption=True)
            for name in ("readiness", "contact", "benefits")
        ),
        Category("employment", without_consent=False, basis=CONSENT),
        Category("education", without_consent=False, basis=CONSENT),
        # Udlændingestyrelsen's request, not another municipality's information: an unanswered
        # request passes to the municipality responsible now, which must answer it.
        Category(
            "status_requests",
            without_consent=True,
            basis=N_(
                "UDL § 11: Udlændingestyrelsen's request for a status report, answered by the "
                "municipality responsible now"
            ),
        ),
    )
}

EVENT_CATEGORY: dict[str, str] = {
    "ResponsibilityAssumed": "personal_data",
    "MunicipalityMoved": "responsibility",
    "TakeoverDecided": "responsibility",
    "PermitGranted": "responsibility",
    # A consent to any other recipient is ``consent_to_others`` (``category_of``).
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

# --- which values of each projection derive from which category -------------------------------
#
# Paths into a projection's JSON: ``a.b`` is a key, ``[*]`` every element of a list,
# ``[?key=value]`` the elements whose ``key`` is ``value``, ``[@]`` the elements that are (or
# name, by ``event_id``) an event of the category the reader may not see. A value listed here
# is ``null`` in the body a reader gets when the category is withheld from it.

_OWN_EVENTS = ("entries[@]", "retracted[@]")  # history: the withheld events themselves
# The duty to follow up and its interval (INL § 20): 12 months while an ordinary employment or
# education is active and no benefit is, else 3 (second edition).
_FOLLOW_UPS = ("due", "overdue", "next_due_on", "interval_months")
# Whether an incident is sanctionable, what the law points to and its § 40 a escalation, and
# whether an imposed sanction is supported: each reads the benefit, readiness, contact attempts,
# offers and earlier sanctions of the whole case.
_INCIDENT_DECISION = (
    *(
        f"incidents[*].{name}"
        for name in ("sanctionable", "reasons", "recommended", "daily_rate_dkk", "escalation")
    ),
    "sanctions[*].unsupported",
)
_DUE = ("due_on", "overdue")


def _follow_ups(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}follow_ups.{name}" for name in _FOLLOW_UPS)


def _items(kind: str) -> tuple[str, ...]:
    return tuple(f"items[?kind={kind}].{name}" for name in _DUE)


WITHHELD_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "status": {
        # An immigrant is outside the programme (INL § 2 stk. 5): ``applies`` reads the category.
        "personal_data": (
            "category",
            "responsibility_assumed_on",
            "contract.applies",
            "program.applies",
            "follow_ups.applies",
        ),
        "responsibility": ("responsible_municipality", "municipalities", "permit"),
        "consent": (),
        "consent_to_others": (),
        "contract": ("contract", "program", *_follow_ups("")),
        "declaration": ("declaration",),
        "participation": ("participation", "follow_ups"),
        "danish_tests": ("danish_tests",),
        "sanctions": ("sanctions",),
        "readiness": (),
        "contact": (),
        "benefits": ("help.months_last_36", *_follow_ups("")),
        "employment": (
            "employment.ordinary_months_last_36",
            "employment.full_time_months_last_36",
            *_follow_ups(""),
        ),
        "education": _follow_ups(""),
        "status_requests": ("status_requests",),
    },
    "sanctions": {
        "personal_data": (),
        "responsibility": (),
        "consent": (),
        "consent_to_others": (),
        "contract": (),
        "declaration": (),
        "participation": ("incidents", "escalation", "sanctions[*].unsupported"),
        "danish_tests": (),
        "sanctions": ("sanctions", "totals", "escalation", *_INCIDENT_DECISION),
        "readiness": _INCIDENT_DECISION,
        "contact": _INCIDENT_DECISION,
        "benefits": (*_INCIDENT_DECISION, "escalation"),
        "employment": (),
        "education": (),
        "status_requests": (),
    },
    "history": {
        "personal_data": _OWN_EVENTS,
        "responsibility": (*_OWN_EVENTS, "municipalities", "deadlines.contracts_after_moves"),
        "consent": _OWN_EVENTS,
        "consent_to_others": _OWN_EVENTS,
        "contract": (*_OWN_EVENTS, "contracts", "deadlines", *_follow_ups("deadlines.")),
        "declaration": _OWN_EVENTS,
        "participation": (*_OWN_EVENTS, "deadlines.follow_ups"),
        "danish_tests": _OWN_EVENTS,
        "sanctions": _OWN_EVENTS,
        "readiness": _OWN_EVENTS,
        "contact": _OWN_EVENTS,
        "benefits": (*_OWN_EVENTS, *_follow_ups("deadlines.")),
        "employment": (*_OWN_EVENTS, *_follow_ups("deadlines.")),
        "education": (*_OWN_EVENTS, *_follow_ups("deadlines.")),
        "status_requests": _OWN_EVENTS,
    },
    # The worklist, case by case: a duty stays listed; when it is due derives from the case.
    "deadlines": {
        "personal_data": (*_items("contract"), *_items("program")),
        "responsibility": _items("contract_after_move"),
        "consent": (),
        "consent_to_others": (),
        "contract": (*_items("contract"), *_items("program"), *_items("follow_up")),
        "declaration": (),
        "participation": _items("follow_up"),
        "danish_tests": (),
        "sanctions": (),
        "readiness": (),
        "contact": (),
        "benefits": _items("follow_up"),
        "employment": _items("follow_up"),
        "education": _items("follow_up"),
        "status_requests": _items("status_request"),
    },
}


class Withheld(msgspec.Struct, frozen=True):
    """One category a reader may not see, and the paths of the values ``null`` because of it."""

    category: str
    fields: list[str]


INVESTIGATION_BASIS = N_("investigator access: audit, appeal and supervision of the case")


class Disclosure(NamedTuple):
    """What one reader may see of one case, and what of it came from other municipalities."""

    visible: list[StoredCaseEvent]
    disclosed: tuple[str, ...]  # categories of other municipalities' events shown
    withheld: tuple[str, ...]  # categories of other municipalities' events left out
    bases: tuple[str, ...]  # the legal basis of each disclosed category
    # The event ids left out, by category: the events a projection's ``[@]`` paths name.
    withheld_events: dict[str, frozenset[str]]


def category_of(event: Event, events_by_id: dict[UUID, Event], reader: str | None = None) -> str:
    """The event's category; for ``reader``, a consent given to anyone else is
    ``consent_to_others``."""
    if isinstance(event, EventRetracted):
        target = events_by_id.get(event.retracts)
        # A retraction names an event of its own case (a case invariant); were it ever not
        # so, the retraction alone would show nothing but an id.
        return "responsibility" if target is None else category_of(target, events_by_id, reader)
    if (
        isinstance(event, ConsentGiven | ConsentWithdrawn)
        and reader is not None
        and event.recipient != reader
    ):
        return "consent_to_others"
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


NO_RECORDER = N_("no caseworker named")
# Said in English into the access log, read back by the pages to say it in their reader's.
CONSENT_BASIS = Stored(
    N_(
        "consent of the person given on {given_on} (event {event}), recorded by municipality "
        "{municipality} ({recorder}), evidence: {evidence}"
    ),
    {
        "given_on": date.fromisoformat,
        "recorder": lambda text: Phrase(NO_RECORDER) if text == NO_RECORDER else text,
    },
)
# The legal bases the access log stores with values in them (every other one is a fixed text).
STORED_BASES = (CONSENT_BASIS,)


def consent_basis(consent: ConsentGiven) -> str:
    """The legal basis a standing consent gives, naming who recorded it and its evidence."""
    phrase = CONSENT_BASIS(
        given_on=consent.occurred_on,
        event=consent.event_id,
        municipality=consent.municipality,
        recorder=consent.recorded_by or Phrase(NO_RECORDER),
        evidence=consent.evidence,
    )
    return str(phrase)


def disclose(events: Sequence[StoredCaseEvent], municipality: str) -> Disclosure:
    """The case as ``municipality`` (responsible for it now) may see it."""
    by_id: dict[UUID, Event] = {s.event.event_id: s.event for s in events}
    consent = consent_to(municipality, (s.event for s in events))
    visible: list[StoredCaseEvent] = []
    disclosed: set[str] = set()
    withheld: dict[str, set[str]] = {}
    for stored in events:
        if stored.event.municipality == municipality:
            visible.append(stored)
            continue
        name = category_of(stored.event, by_id, municipality)
        if CATEGORIES[name].without_consent or consent is not None:
            visible.append(stored)
            disclosed.add(name)
        else:
            withheld.setdefault(name, set()).add(str(stored.event.event_id))
    bases = {
        CATEGORIES[n].basis
        if CATEGORIES[n].without_consent or consent is None
        else consent_basis(consent): None
        for n in sorted(disclosed)
    }
    return Disclosure(
        visible,
        tuple(sorted(disclosed)),
        tuple(sorted(withheld)),
        tuple(bases),
        {name: frozenset(ids) for name, ids in withheld.items()},
    )


def investigation(events: Sequence[StoredCaseEvent]) -> Disclosure:
    """The whole case, as an investigator sees it."""
    by_id: dict[UUID, Event] = {s.event.event_id: s.event for s in events}
    categories = sorted({category_of(s.event, by_id) for s in events})
    return Disclosure(list(events), tuple(categories), (), (INVESTIGATION_BASIS,), {})
