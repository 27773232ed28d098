"""The sanction accumulation view, ``sanctions/1`` (INTERFACE.md; AKL §§ 35-41, § 69 r).

Owns the sanction rules: how an incident (an absence or a refusal) is assessed and what the law
points to for it, the daily rate, the status and paragraph of every imposed sanction, the totals,
and the § 40 a escalation, which counts prior sanctions in any municipality (§ 69 r). Rules for
an incident or a sanction come from the pack in force on its date; escalation from the pack in
force on ``as_of``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import msgspec

from ledger.application import StoredCaseEvent
from ledger.events import (
    INCIDENT_TYPES,
    AbsenceRecorded,
    BenefitEnded,
    BenefitGranted,
    ConsequencesNotified,
    ContactAttempted,
    OfferKind,
    OfferMade,
    OfferRefused,
    ReadinessAssessed,
    SanctionImposed,
    SanctionKind,
    SanctionOverturned,
)
from ledger.rulepacks import Rule, RulePack, pack_for
from projections.common import Selection, add_months, money, round_ore, select, spans

ReasonCode = Literal[
    "no_written_notice", "no_contact_attempt", "reasonable_cause", "no_open_offer", "no_benefit"
]
Incident = AbsenceRecorded | OfferRefused

MONTHS_PER_YEAR = 12
ESCALATING_KINDS = ("deduction", "reduction")


class Recommended(msgspec.Struct, frozen=True, kw_only=True):
    kind: SanctionKind
    paragraph: str
    amount_dkk: str | None
    rule: str


class IncidentAssessment(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    type: str
    occurred_on: date
    municipality: str
    offer_id: str
    sanctionable: bool
    reasons: list[ReasonCode]
    recommended: Recommended | None
    daily_rate_dkk: str | None


class ImposedSanction(msgspec.Struct, frozen=True, kw_only=True):
    sanction_id: str
    kind: SanctionKind
    paragraph: str
    municipality: str
    occurred_on: date
    amount_dkk: str | None
    status: Literal["effective", "overturned"]
    rule: str
    incident_on: date
    grounds: list[str]
    overturned_on: date | None
    overturned_by: str | None


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    effective: int
    overturned: int
    by_municipality: dict[str, int]
    by_kind: dict[str, int]


class Escalation(msgspec.Struct, frozen=True, kw_only=True):
    eligible: bool
    paragraph: str
    prior: list[str]
    lookback_months: int
    threshold: int
    max_suspension_months: int


class SanctionsView(msgspec.Struct, frozen=True, kw_only=True):
    schema: Literal["sanctions/1"] = "sanctions/1"
    person: str
    as_of: date
    known_at: str | None
    position: int
    rule_pack: str
    sanctions: list[ImposedSanction]
    totals: Totals
    incidents: list[IncidentAssessment]
    escalation: Escalation


def sanctions_view(
    person: str, events: Sequence[StoredCaseEvent], as_of: date, known_at: datetime | None
) -> SanctionsView:
    return fold_sanctions(select(person, events, as_of, known_at))


def fold_sanctions(selection: Selection) -> SanctionsView:
    return selection.once("fold_sanctions", _fold_sanctions)


def _fold_sanctions(selection: Selection) -> SanctionsView:
    imposed = imposed_sanctions(selection)
    return SanctionsView(
        person=selection.person,
        as_of=selection.as_of,
        known_at=selection.known_at,
        position=selection.position,
        rule_pack=pack_for(selection.as_of).id,
        sanctions=imposed,
        totals=totals(imposed),
        incidents=assess_incidents(selection),
        escalation=escalation(imposed, selection.as_of),
    )


# --- incidents ------------------------------------------------------------------------------------


def reason_rule(pack: RulePack, reason: ReasonCode) -> Rule:
    """The rule a reason for not sanctioning rests on."""
    rules = {
        "no_written_notice": pack.written_notice,
        "no_contact_attempt": pack.contact_attempt,
        "reasonable_cause": pack.reasonable_cause,
        "no_open_offer": pack.open_offer,
        "no_benefit": pack.benefit_active,
    }
    return rules[reason]


def law_points_to(
    pack: RulePack, incident: Incident, offer_kind: OfferKind | None
) -> tuple[SanctionKind, Rule]:
    if isinstance(incident, AbsenceRecorded):
        if offer_kind == "interview":
            return "deduction", pack.interview_absence_deduction
        return "deduction", pack.absence_deduction
    if offer_kind == "job":
        return "reduction", pack.job_refusal_reduction
    return "cessation", pack.refusal_cessation


def daily_rate(
    benefits: Sequence[tuple[BenefitGranted, date]], day: date, pack: RulePack
) -> Decimal | None:
    """Monthly amount times 12 / working days a year, rounded half up to øre, of the benefit active
    on ``day`` (the latest granted, when several are)."""
    active = [granted for granted, last in benefits if granted.occurred_on <= day <= last]
    if not active:
        return None
    monthly = active[-1].monthly_amount_dkk
    return round_ore(monthly * MONTHS_PER_YEAR / pack.working_days_per_year.number)


def benefit_spans(selection: Selection) -> list[tuple[BenefitGranted, date]]:
    return spans(selection, BenefitGranted, BenefitEnded, "benefit")


def assess_incidents(selection: Selection) -> list[IncidentAssessment]:
    offers = {offer.offer_id: offer for offer in selection.of_type(OfferMade)}
    notices = selection.of_type(ConsequencesNotified)
    readiness = selection.of_type(ReadinessAssessed)
    contacts = selection.of_type(ContactAttempted)
    benefits = benefit_spans(selection)
    assessed = []
    for incident in selection.events():
        if not isinstance(incident, INCIDENT_TYPES):
            continue
        pack = pack_for(incident.occurred_on)
        day, municipality = incident.occurred_on, incident.municipality
        offer = offers.get(incident.offer_id)
        offer_kind = offer.kind if offer is not None else None
        rate = daily_rate(benefits, day, pack)
        assessed_before = [r.readiness for r in readiness if r.occurred_on <= day]
        activity_ready = bool(assessed_before) and assessed_before[-1] == "activity_ready"

        reasons: list[ReasonCode] = []
        if not any(
            n.municipality == municipality
            and n.occurred_on <= day
            and n.regarding in (None, incident.offer_id)
            for n in notices
        ):
            reasons.append("no_written_notice")
        if activity_ready and not any(
            c.municipality == municipality and c.occurred_on >= day for c in contacts
        ):
            reasons.append("no_contact_attempt")
        if incident.reasonable_cause is not None:
            reasons.append("reasonable_cause")
        if (
            isinstance(incident, OfferRefused)
            and offer_kind != "job"
            and not any(
                o.open_offer and o.municipality == municipality and o.starts_on >= day
                for o in offers.values()
            )
        ):
            reasons.append("no_open_offer")
        if rate is None:
            reasons.append("no_benefit")

        recommended = None
        if not reasons and rate is not None:
            kind, rule = law_points_to(pack, incident, offer_kind)
            recommended = Recommended(
                kind=kind,
                paragraph=rule.paragraph,
                amount_dkk=_amount(rule, rate, incident),
                rule=rule.name,
            )
        assessed.append(
            IncidentAssessment(
                event_id=str(incident.event_id),
                type=incident.type,
                occurred_on=day,
                municipality=municipality,
                offer_id=incident.offer_id,
                sanctionable=not reasons,
                reasons=reasons,
                recommended=recommended,
                daily_rate_dkk=money(rate) if rate is not None else None,
            )
        )
    return assessed


def _amount(rule: Rule, rate: Decimal, incident: Incident) -> str | None:
    """Deductions: days times the rate; reductions: 3 times the rate; cessation: no amount."""
    if rule.value is None:
        return None
    days = incident.days if isinstance(incident, AbsenceRecorded) else 1
    return money(rate * rule.value * days)


# --- imposed sanctions ----------------------------------------------------------------------------


def imposed_sanctions(selection: Selection) -> list[ImposedSanction]:
    overturns: dict[str, SanctionOverturned] = {}
    for overturned in selection.of_type(SanctionOverturned):
        overturns.setdefault(overturned.sanction_id, overturned)
    offer_kinds = {offer.offer_id: offer.kind for offer in selection.of_type(OfferMade)}
    incidents = {
        event.event_id: event for event in selection.events() if isinstance(event, INCIDENT_TYPES)
    }
    result = []
    for sanction in selection.of_type(SanctionImposed):
        grounds = [incidents[g] for g in sanction.grounds if g in incidents]
        overturn = overturns.get(sanction.sanction_id)
        rule = _sanction_rule(pack_for(sanction.occurred_on), sanction, grounds, offer_kinds)
        result.append(
            ImposedSanction(
                sanction_id=sanction.sanction_id,
                kind=sanction.kind,
                paragraph=rule.paragraph,
                municipality=sanction.municipality,
                occurred_on=sanction.occurred_on,
                amount_dkk=money(sanction.amount_dkk) if sanction.amount_dkk is not None else None,
                status="effective" if overturn is None else "overturned",
                rule=rule.name,
                incident_on=max((g.occurred_on for g in grounds), default=sanction.occurred_on),
                grounds=[str(g) for g in sanction.grounds],
                overturned_on=overturn.occurred_on if overturn is not None else None,
                overturned_by=overturn.by if overturn is not None else None,
            )
        )
    return result


def _sanction_rule(
    pack: RulePack,
    sanction: SanctionImposed,
    grounds: list[Incident],
    offer_kinds: dict[str, OfferKind],
) -> Rule:
    match sanction.kind:
        case "deduction":
            interview_only = bool(grounds) and all(
                isinstance(g, AbsenceRecorded) and offer_kinds.get(g.offer_id) == "interview"
                for g in grounds
            )
            return pack.interview_absence_deduction if interview_only else pack.absence_deduction
        case "reduction":
            return pack.job_refusal_reduction
        case "suspension":
            return pack.suspension
        case "cessation":
            return pack.refusal_cessation


def totals(imposed: Sequence[ImposedSanction]) -> Totals:
    effective = [s for s in imposed if s.status == "effective"]
    return Totals(
        effective=len(effective),
        overturned=len(imposed) - len(effective),
        by_municipality=dict(sorted(Counter(s.municipality for s in effective).items())),
        by_kind=dict(sorted(Counter(s.kind for s in effective).items())),
    )


def escalation(imposed: Sequence[ImposedSanction], as_of: date) -> Escalation:
    """AKL § 40 a: effective deductions and reductions whose incidents fall in the lookback
    (``as_of`` minus the lookback, exclusive, through ``as_of``), wherever imposed (§ 69 r)."""
    pack = pack_for(as_of)
    lookback = pack.escalation_lookback.number
    since = add_months(as_of, -lookback)
    prior = [
        s.sanction_id
        for s in imposed
        if s.status == "effective" and s.kind in ESCALATING_KINDS and since < s.incident_on
    ]
    return Escalation(
        eligible=len(prior) >= pack.escalation_threshold.number,
        paragraph=pack.escalation_threshold.paragraph,
        prior=prior,
        lookback_months=lookback,
        threshold=pack.escalation_threshold.number,
        max_suspension_months=pack.suspension.number,
    )
