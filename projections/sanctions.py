"""The sanction accumulation view, ``sanctions/1`` (INTERFACE.md; AKL §§ 35-41, § 69 r).

Owns the sanction rules: how an incident (an absence or a refusal) is assessed and what the law
points to for it, the daily rate, the status and paragraph of every imposed sanction, the totals,
and the § 40 a escalation, which counts prior sanctions in any municipality (§ 69 r). Rules for
an incident or a sanction come from the pack in force on its date; escalation from the pack in
force on ``as_of``; every pack in the selection's revision.

Revision 2 (the second edition, read against the source texts): a refused interview points to a
deduction under § 37, not cessation; personal contact (P2) binds only for uddannelseshjælp,
kontanthjælp and ressourceforløbsydelse and is met by a reached contact or attempts through two
channels from the incident up to the decision; ressourceforløbsydelse incidents cite §§ 69 l-69 r
and are outside § 40 a; § 40 a eligibility is assessed per new sanctionable incident, only for
help under §§ 22, 23 and 25; every imposed sanction lists what the law finds missing
(``unsupported``).
"""

from __future__ import annotations

import typing
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from ledger.disclosure import Withheld
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
from ledger.records import StoredCaseEvent
from ledger.rulepacks import Rule, RulePack
from projections.common import (
    Selection,
    add_months,
    money,
    report_header,
    round_ore,
    select,
    spans,
)

ReasonCode = Literal[
    "no_written_notice", "no_contact_attempt", "reasonable_cause", "no_open_offer", "no_benefit"
]
UnsupportedCode = Literal[
    "no_written_notice",
    "no_contact_attempt",
    "reasonable_cause",
    "no_open_offer",
    "no_benefit",
    "suspension_too_long",
    "benefit_not_covered",
]
Incident = AbsenceRecorded | OfferRefused

MONTHS_PER_YEAR = 12
ESCALATING_KINDS = ("deduction", "reduction")
# AKL § 35 stk. 2 and § 69 l: personal contact binds for these benefits (revision 2).
CONTACT_BENEFITS = ("uddannelseshjaelp", "kontanthjaelp", "ressourceforloebsydelse")
# AKL § 40 a stk. 1: suspension only of help under §§ 22, 23 and 25.
SUSPENDABLE_BENEFITS = ("integrationsydelse", "uddannelseshjaelp", "kontanthjaelp")
RESOURCE_BENEFIT = "ressourceforloebsydelse"
UNSUPPORTED_ORDER: tuple[UnsupportedCode, ...] = typing.get_args(UnsupportedCode)


class Recommended(msgspec.Struct, frozen=True, kw_only=True):
    kind: SanctionKind
    paragraph: str
    amount_dkk: str | None
    rule: str


class IncidentEscalation(msgspec.Struct, frozen=True, kw_only=True):
    """§ 40 a for one incident: eligible, and the prior sanctions it relies on."""

    eligible: bool
    prior: list[str]


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
    escalation: IncidentEscalation | UnsetType = UNSET


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
    unsupported: list[UnsupportedCode] | UnsetType = UNSET


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
    rule_revision: int | UnsetType = UNSET
    head_hash: str | UnsetType | None = UNSET
    # Set by the read service (``projections.views``) for a reader who may not see everything;
    # revision 1 reports predate them.
    redacted: bool | UnsetType = UNSET
    withheld: list[Withheld] | UnsetType = UNSET

    @property
    def revision(self) -> int:
        """The rule pack revision this view applied (revision 1 views do not name it)."""
        return self.rule_revision if isinstance(self.rule_revision, int) else 1


def sanctions_view(
    person: str,
    events: Sequence[StoredCaseEvent],
    as_of: date,
    known_at: datetime | None,
    revision: int | None = None,
) -> SanctionsView:
    return fold_sanctions(select(person, events, as_of, known_at, revision))


def fold_sanctions(selection: Selection) -> SanctionsView:
    return selection.once(_fold_sanctions)


def _fold_sanctions(selection: Selection) -> SanctionsView:
    assessed = assess_incidents(selection)
    imposed = imposed_sanctions(selection, assessed)
    if selection.revision >= 2:
        assessed = incident_escalations(selection, assessed, imposed)
    return SanctionsView(
        **report_header(selection),
        sanctions=imposed,
        totals=totals(imposed),
        incidents=assessed,
        escalation=escalation(selection, imposed, assessed),
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
    if offer_kind == "interview" and pack.refused_interview_deduction is not None:
        # Revision 2: "udeblivelse fra samtaler m.v." (AKL § 37) covers a refused interview.
        return "deduction", pack.refused_interview_deduction
    return "cessation", pack.refusal_cessation


def benefit_on(benefits: Sequence[tuple[BenefitGranted, date]], day: date) -> BenefitGranted | None:
    """The benefit active on ``day`` (the latest granted, when several are)."""
    active = [granted for granted, last in benefits if granted.occurred_on <= day <= last]
    return active[-1] if active else None


def daily_rate(
    benefits: Sequence[tuple[BenefitGranted, date]], day: date, pack: RulePack
) -> Decimal | None:
    """Monthly amount times 12 / working days a year, rounded half up to øre, of the benefit active
    on ``day`` (the latest granted, when several are)."""
    granted = benefit_on(benefits, day)
    if granted is None:
        return None
    monthly = granted.monthly_amount_dkk
    return round_ore(monthly * MONTHS_PER_YEAR / pack.working_days_per_year.number)


def benefit_spans(selection: Selection) -> list[tuple[BenefitGranted, date]]:
    return spans(selection, BenefitGranted, BenefitEnded, "benefit")


def incidents(selection: Selection) -> list[Incident]:
    """The absences and refusals, in fold order."""
    return selection.of_type(*INCIDENT_TYPES)


def assess_incidents(selection: Selection) -> list[IncidentAssessment]:
    offers = {offer.offer_id: offer for offer in selection.of_type(OfferMade)}
    notices = selection.of_type(ConsequencesNotified)
    readiness = selection.of_type(ReadinessAssessed)
    contacts = selection.of_type(ContactAttempted)
    benefits = benefit_spans(selection)
    decided = _decision_days(selection)
    assessed = []
    for incident in incidents(selection):
        pack = selection.pack(incident.occurred_on)
        day, municipality = incident.occurred_on, incident.municipality
        offer = offers.get(incident.offer_id)
        offer_kind = offer.kind if offer is not None else None
        rate = daily_rate(benefits, day, pack)
        benefit = benefit_on(benefits, day)
        assessed_before = [r.readiness for r in readiness if r.occurred_on <= day]
        activity_ready = bool(assessed_before) and assessed_before[-1] == "activity_ready"
        kind, rule = law_points_to(pack, incident, offer_kind)

        reasons: list[ReasonCode] = []
        if not any(
            n.municipality == municipality
            and n.occurred_on <= day
            and n.regarding in (None, incident.offer_id)
            for n in notices
        ):
            reasons.append("no_written_notice")
        own_contacts = [c for c in contacts if c.municipality == municipality]
        decision = decided.get(incident.event_id, selection.as_of)
        if pack.revision < 2:
            if activity_ready and not any(c.occurred_on >= day for c in own_contacts):
                reasons.append("no_contact_attempt")
        elif (
            activity_ready
            and benefit is not None
            and benefit.benefit in CONTACT_BENEFITS
            and not _every_reasonable_way(
                pack,
                [c for c in own_contacts if day <= c.occurred_on <= decision],
            )
        ):
            reasons.append("no_contact_attempt")
        if incident.reasonable_cause is not None:
            reasons.append("reasonable_cause")
        needs_open_offer = kind == "cessation" if pack.revision >= 2 else offer_kind != "job"
        if (
            isinstance(incident, OfferRefused)
            and needs_open_offer
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
            resource = (
                pack.resource_sanctions
                if benefit is not None and benefit.benefit == RESOURCE_BENEFIT
                else None
            )
            recommended = Recommended(
                kind=kind,
                paragraph=(resource or rule).paragraph,
                amount_dkk=_amount(rule, rate, incident),
                rule=(resource or rule).name,
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


def _decision_days(selection: Selection) -> dict[UUID, date]:
    """Each incident's decision: the first imposition of a sanction grounded on it."""
    decided: dict[UUID, date] = {}
    for sanction in selection.of_type(SanctionImposed):
        for ground in sanction.grounds:
            decided.setdefault(ground, sanction.occurred_on)
    return decided


def _every_reasonable_way(pack: RulePack, contacts: Sequence[ContactAttempted]) -> bool:
    """AKL § 35 stk. 2: 'udtømt alle rimelige muligheder for at komme i personlig kontakt' —
    the person was reached, or tried through the pack's number of different channels."""
    channels = {c.channel for c in contacts}
    return any(c.reached for c in contacts) or len(channels) >= pack.contact_attempt.number


def _amount(rule: Rule, rate: Decimal, incident: Incident) -> str | None:
    """Deductions: days times the rate; reductions: 3 times the rate; cessation: no amount."""
    if rule.value is None:
        return None
    days = incident.days if isinstance(incident, AbsenceRecorded) else 1
    return money(rate * rule.value * days)


# --- imposed sanctions ----------------------------------------------------------------------------


def imposed_sanctions(
    selection: Selection, assessed: Sequence[IncidentAssessment]
) -> list[ImposedSanction]:
    overturns: dict[str, SanctionOverturned] = {}
    for overturned in selection.of_type(SanctionOverturned):
        overturns.setdefault(overturned.sanction_id, overturned)
    offer_kinds = {offer.offer_id: offer.kind for offer in selection.of_type(OfferMade)}
    grounded = {incident.event_id: incident for incident in incidents(selection)}
    reasons = {a.event_id: a.reasons for a in assessed}
    benefits = benefit_spans(selection)
    result = []
    for sanction in selection.of_type(SanctionImposed):
        grounds = [grounded[g] for g in sanction.grounds if g in grounded]
        overturn = overturns.get(sanction.sanction_id)
        pack = selection.pack(sanction.occurred_on)
        incident_on = max((g.occurred_on for g in grounds), default=sanction.occurred_on)
        rule = _sanction_rule(pack, sanction, grounds, offer_kinds)
        unsupported: list[UnsupportedCode] | UnsetType = UNSET
        if pack.revision >= 2:
            benefit = benefit_on(benefits, incident_on)
            if (
                sanction.kind != "suspension"
                and benefit is not None
                and benefit.benefit == RESOURCE_BENEFIT
                and pack.resource_sanctions is not None
            ):
                rule = pack.resource_sanctions
            found: set[UnsupportedCode] = {
                code for g in grounds for code in reasons.get(str(g.event_id), ())
            }
            found |= _suspension_unsupported(selection, pack, sanction, benefits)
            unsupported = [code for code in UNSUPPORTED_ORDER if code in found]
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
                incident_on=incident_on,
                grounds=[str(g) for g in sanction.grounds],
                overturned_on=overturn.occurred_on if overturn is not None else None,
                overturned_by=overturn.by if overturn is not None else None,
                unsupported=unsupported,
            )
        )
    return result


def _suspension_unsupported(
    selection: Selection,
    pack: RulePack,
    sanction: SanctionImposed,
    benefits: Sequence[tuple[BenefitGranted, date]],
) -> set[UnsupportedCode]:
    """AKL § 40 a stk. 1: at most 3 months, only of help under §§ 22, 23 and 25, with an open
    offer given at the same time (one made by then that has not yet started)."""
    if sanction.kind != "suspension":
        return set()
    found: set[UnsupportedCode] = set()
    starts = sanction.starts_on or sanction.occurred_on
    if sanction.ends_on is not None and sanction.ends_on > add_months(
        starts, pack.suspension.number
    ):
        found.add("suspension_too_long")
    benefit = benefit_on(benefits, starts)
    if benefit is None or benefit.benefit not in SUSPENDABLE_BENEFITS:
        found.add("benefit_not_covered")
    if not any(
        offer.open_offer
        and offer.municipality == sanction.municipality
        and offer.occurred_on <= sanction.occurred_on <= offer.starts_on
        for offer in selection.of_type(OfferMade)
    ):
        found.add("no_open_offer")
    return found


def _sanction_rule(
    pack: RulePack,
    sanction: SanctionImposed,
    grounds: list[Incident],
    offer_kinds: dict[str, OfferKind],
) -> Rule:
    match sanction.kind:
        case "deduction":
            # Revision 2: a refused interview is a § 37 matter too ("samtaler m.v.").
            interview_types = (
                INCIDENT_TYPES if pack.refused_interview_deduction is not None else AbsenceRecorded
            )
            interview_only = bool(grounds) and all(
                isinstance(g, interview_types) and offer_kinds.get(g.offer_id) == "interview"
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


def _priors(imposed: Sequence[ImposedSanction], since: date, until: date) -> list[str]:
    """Effective deductions and reductions whose incidents fall after ``since`` and on or
    before ``until``, wherever imposed (§ 69 r)."""
    return [
        s.sanction_id
        for s in imposed
        if s.status == "effective" and s.kind in ESCALATING_KINDS and since < s.incident_on <= until
    ]


def incident_escalations(
    selection: Selection,
    assessed: Sequence[IncidentAssessment],
    imposed: Sequence[ImposedSanction],
) -> list[IncidentAssessment]:
    """Revision 2, AKL § 40 a per new sanctionable incident: eligible when the help on its date
    is under §§ 22, 23 or 25 and enough effective deductions or reductions have incidents in
    the lookback before it (not on its own day: they are not prior to it)."""
    benefits = benefit_spans(selection)
    result = []
    for incident in assessed:
        pack = selection.pack(incident.occurred_on)
        day = incident.occurred_on
        prior: list[str] = []
        eligible = False
        benefit = benefit_on(benefits, day)
        if (
            incident.sanctionable
            and benefit is not None
            and benefit.benefit in SUSPENDABLE_BENEFITS
        ):
            since = add_months(day, -pack.escalation_lookback.number)
            prior = _priors(imposed, since, day - timedelta(days=1))
            eligible = len(prior) >= pack.escalation_threshold.number
        result.append(
            msgspec.structs.replace(
                incident, escalation=IncidentEscalation(eligible=eligible, prior=prior)
            )
        )
    return result


def escalation(
    selection: Selection,
    imposed: Sequence[ImposedSanction],
    assessed: Sequence[IncidentAssessment],
) -> Escalation:
    """AKL § 40 a. Revision 1: effective deductions and reductions whose incidents fall in the
    lookback (``as_of`` minus the lookback, exclusive, through ``as_of``), wherever imposed
    (§ 69 r). Revision 2: the escalation of the latest sanctionable incident on or before
    ``as_of`` that is not already in the grounds of an effective suspension."""
    as_of = selection.as_of
    pack = selection.pack(as_of)
    lookback = pack.escalation_lookback.number
    if pack.revision < 2:
        prior = _priors(imposed, add_months(as_of, -lookback), as_of)
        eligible = len(prior) >= pack.escalation_threshold.number
    else:
        answered = {
            ground
            for s in imposed
            if s.kind == "suspension" and s.status == "effective"
            for ground in s.grounds
        }
        latest = next(
            (
                a.escalation
                for a in reversed(assessed)
                if a.sanctionable
                and a.event_id not in answered
                and isinstance(a.escalation, IncidentEscalation)
            ),
            None,
        )
        eligible = latest is not None and latest.eligible
        prior = list(latest.prior) if latest is not None else []
    return Escalation(
        eligible=eligible,
        paragraph=pack.escalation_threshold.paragraph,
        prior=prior,
        lookback_months=lookback,
        threshold=pack.escalation_threshold.number,
        max_suspension_months=pack.suspension.number,
    )
