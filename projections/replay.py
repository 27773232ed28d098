"""Replay for investigators: one case event by event, the state after each and the rules that
fired for it, each with its paragraph and an explanation.

Steps follow recording order (ledger position). Each step is the case as the ledger showed it
right after recording that event: every event recorded up to it, as of the Danish day it was
recorded (or ``until_date`` when that is earlier). With ``until_date``, events that occurred
after it are left out; with ``until_position``, the replay stops after that position. The rules
are those of the other projections (sanctions, deadlines), applied, not restated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import msgspec

from ledger.clock import DENMARK
from ledger.events import (
    INCIDENT_TYPES,
    AbsenceRecorded,
    AnyEvent,
    ContractSigned,
    FollowUpHeld,
    MunicipalityMoved,
    OfferMade,
    OfferRefused,
    PermitGranted,
    ProgramStarted,
    ResponsibilityAssumed,
    SanctionImposed,
    SanctionOverturned,
    StatusRequested,
    TakeoverDecided,
)
from ledger.i18n import LABELS, N_, Phrase, Words, carried, carry
from ledger.records import StoredCaseEvent, timestamp
from ledger.rulepacks import Rule, pack_for
from projections.common import Selection, add_months, municipality_periods, responsible, select
from projections.deadlines import Deadline, DeadlineKind, case_deadlines, follow_ups
from projections.sanctions import (
    IncidentEscalation,
    ReasonCode,
    SanctionsView,
    fold_sanctions,
    law_points_to,
    reason_rule,
)

REASONS: dict[ReasonCode, str] = {
    "no_written_notice": N_("no written notice of the consequences by {m} on or before the day"),
    "no_contact_attempt": N_("activity-ready, and {m} has recorded no contact attempt since"),
    "reasonable_cause": N_("a reasonable cause is documented"),
    "no_open_offer": N_("{m} has no open offer standing that the person could take up"),
    "no_benefit": N_("no benefit was paid on the day, so there is nothing to sanction"),
}


class FiredRule(msgspec.Struct, frozen=True, kw_only=True, dict=True):
    """A rule that fired, its explanation in English (the interface); the phrase it was made
    from rides along for people (`said`)."""

    rule: str
    paragraph: str
    assumption: bool
    explanation: str

    def said(self, words: Words) -> str:
        """The explanation in the language of ``words``, days and amounts as Babel writes them."""
        return words.text(carried(self, self.explanation))


class ReplayState(msgspec.Struct, frozen=True, kw_only=True):
    responsible_municipality: str | None
    case_open: bool
    contract_versions: int
    open_offers: int
    effective_sanctions: int
    escalation_eligible: bool


class ReplayStep(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    version: int
    recorded_at: str
    as_of: date
    event_id: str
    type: str
    occurred_on: date
    municipality: str
    state: ReplayState
    rules: list[FiredRule]


def replay(
    person: str,
    events: Sequence[StoredCaseEvent],
    until_position: int | None,
    until_date: date | None,
    revision: int | None = None,
) -> list[ReplayStep]:
    recorded = sorted(events, key=lambda stored: stored.position)
    steps = []
    for index, stored in enumerate(recorded):
        if until_position is not None and stored.position > until_position:
            break
        event = stored.event
        if until_date is not None and event.occurred_on > until_date:
            continue
        day = stored.recorded_at.astimezone(DENMARK).date()
        as_of = day if until_date is None else min(day, until_date)
        selection = select(person, recorded[: index + 1], as_of, None, revision)
        sanctions = fold_sanctions(selection)

        steps.append(
            ReplayStep(
                position=stored.position,
                version=stored.version,
                recorded_at=timestamp(stored.recorded_at),
                as_of=as_of,
                event_id=str(event.event_id),
                type=event.type,
                occurred_on=event.occurred_on,
                municipality=event.municipality,
                state=_state(selection, sanctions),
                rules=list(
                    _fired(
                        event,
                        selection,
                        sanctions,
                        partial(_eligible_before, person, recorded[:index], as_of, revision),
                    )
                ),
            )
        )
    return steps


def _eligible_before(
    person: str, earlier: Sequence[StoredCaseEvent], as_of: date, revision: int | None
) -> bool:
    """Escalation eligibility on the same day without the event being replayed."""
    return fold_sanctions(select(person, earlier, as_of, None, revision)).escalation.eligible


def _state(selection: Selection, sanctions: SanctionsView) -> ReplayState:
    periods = municipality_periods(selection)
    return ReplayState(
        responsible_municipality=responsible(periods),
        case_open=bool(periods) and selection.first(PermitGranted) is None,
        contract_versions=len(selection.of_type(ContractSigned)),
        open_offers=sum(
            1
            for offer in selection.of_type(OfferMade)
            if offer.open_offer and offer.starts_on >= selection.as_of
        ),
        effective_sanctions=sanctions.totals.effective,
        escalation_eligible=sanctions.escalation.eligible,
    )


def _rule(rule: Rule, explanation: Phrase) -> FiredRule:
    return _fired_rule(rule.name, rule.paragraph, rule.assumption, explanation)


def _fired_rule(name: str, paragraph: str, assumption: bool, explanation: Phrase) -> FiredRule:
    made = FiredRule(
        rule=name, paragraph=paragraph, assumption=assumption, explanation=str(explanation)
    )
    return carry(made, explanation)


DEADLINES: dict[DeadlineKind, str] = {
    "contract": N_("first contract"),
    "program": N_("programme start"),
    "contract_after_move": N_("new contract after the move"),
}


def _deadline(deadline: Deadline) -> FiredRule:
    what = Phrase(DEADLINES[deadline.kind])
    if deadline.done_on is None:
        text = Phrase(
            "{what} due by {due_on} ({municipality})",
            {"what": what, "due_on": deadline.due_on, "municipality": deadline.municipality},
        )
    else:
        text = Phrase(
            N_("{what} on {done_on}, due by {due_on}: deadline met")
            if deadline.status == "met"
            else N_("{what} on {done_on}, due by {due_on}: deadline missed"),
            {"what": what, "done_on": deadline.done_on, "due_on": deadline.due_on},
        )
    return _fired_rule(deadline.rule, deadline.paragraph, deadline.assumption, text)


def _fired(
    event: AnyEvent,
    selection: Selection,
    sanctions: SanctionsView,
    eligible_before: Callable[[], bool],
) -> Iterator[FiredRule]:
    pack = selection.pack(event.occurred_on)
    deadlines = case_deadlines(selection)
    for deadline in (deadlines.contract, deadlines.program, *deadlines.contracts_after_moves):
        if deadline is not None and deadline.done_by == str(event.event_id):
            yield _deadline(deadline)
    match event:
        case ResponsibilityAssumed():
            for deadline in (deadlines.contract, deadlines.program):
                if deadline is not None and deadline.done_on is None:
                    yield _deadline(deadline)
        case ContractSigned(weekly_hours=hours) if hours < pack.weekly_hours.number:
            yield _rule(
                pack.weekly_hours,
                Phrase(
                    "the contract sets {hours:g} hours a week, below the {average} hours average "
                    "a programme with employment offers has",
                    {"hours": hours, "average": pack.weekly_hours.number},
                ),
            )
        case ProgramStarted():
            months = pack.program_duration.number
            yield _rule(
                pack.program_duration,
                Phrase(
                    "the programme lasts up to {months} months: until {until}",
                    {"months": months, "until": add_months(event.occurred_on, months)},
                ),
            )
        case FollowUpHeld() if follow_ups(selection).applies is False:
            if pack.immigrant_outside_programme is not None:
                yield _rule(
                    pack.immigrant_outside_programme,
                    Phrase("an immigrant is outside the programme: no follow-up duty"),
                )
        case FollowUpHeld():
            state = follow_ups(selection)
            yield _rule(
                pack.follow_up_interval,
                Phrase(
                    "goals met on {goals_met_on}: further follow-ups only as needed",
                    {"goals_met_on": state.goals_met_on},
                )
                if state.next_due_on is None
                else Phrase(
                    "goals not met: next follow-up due by {next_due_on}",
                    {"next_due_on": state.next_due_on},
                ),
            )
        case MunicipalityMoved(to_municipality=receiving):
            yield _rule(
                pack.takeover,
                Phrase(
                    "responsibility passes from {leaving} to {receiving}; the programme "
                    "continues only if {receiving} approves: takeover pending",
                    {"leaving": event.municipality, "receiving": receiving},
                ),
            )
            if sanctions.totals.effective:
                yield _rule(
                    pack.accumulation,
                    Phrase(
                        "{effective} effective sanction(s) follow the person to {receiving} "
                        "without consent",
                        {"effective": sanctions.totals.effective, "receiving": receiving},
                    ),
                )
        case TakeoverDecided(approved=True):
            # The latest approved period is the one this approval opened.
            yield from map(_deadline, deadlines.contracts_after_moves[-1:])
        case TakeoverDecided():
            yield _rule(
                pack.refused_takeover,
                Phrase(
                    "takeover refused: the programme does not continue in {municipality}, "
                    "which may reduce or stop the benefit",
                    {"municipality": event.municipality},
                ),
            )
        case _ if isinstance(event, INCIDENT_TYPES):
            yield from _incident(event, selection, sanctions)
            assessed = {i.event_id: i for i in sanctions.incidents}[str(event.event_id)]
            if isinstance(assessed.escalation, IncidentEscalation) and assessed.escalation.eligible:
                # Revision 2: § 40 a is assessed for each new sanctionable incident.
                yield from _escalation(event.municipality, sanctions, eligible_before)
        case SanctionImposed() | SanctionOverturned():
            yield from _sanction(event, sanctions, eligible_before)
        case StatusRequested(due_on=due_on):
            yield _rule(
                pack.status_request,
                Phrase("Udlændingestyrelsen asks for a status by {due_on}", {"due_on": due_on}),
            )
        case PermitGranted():
            yield _rule(
                pack.case_closed_by_permit,
                Phrase("permanent residence granted: the contract ends and the case is closed"),
            )
        case _:
            pass


def _incident(
    event: AbsenceRecorded | OfferRefused, selection: Selection, sanctions: SanctionsView
) -> Iterator[FiredRule]:
    pack = selection.pack(event.occurred_on)
    assessed = {i.event_id: i for i in sanctions.incidents}[str(event.event_id)]
    for reason in assessed.reasons:
        explanation = Phrase(REASONS[reason], {"m": event.municipality})
        yield _rule(
            reason_rule(pack, reason),
            Phrase("not sanctionable: {explanation}", {"explanation": explanation}),
        )
    if assessed.recommended is None:
        return
    offers = {offer.offer_id: offer.kind for offer in selection.of_type(OfferMade)}
    kind, rule = law_points_to(pack, event, offers.get(event.offer_id))
    amount = assessed.recommended.amount_dkk
    yield _rule(
        rule,
        Phrase(
            "sanctionable: the law points to {kind} of {amount} DKK",
            {"kind": Phrase(LABELS[kind]), "amount": _amount(amount)},
        )
        if amount
        else Phrase("sanctionable: the law points to {kind}", {"kind": Phrase(LABELS[kind])}),
    )
    if assessed.recommended.rule != rule.name:
        # Revision 2: on ressourceforløbsydelse the paragraphs are §§ 69 l-69 r.
        yield _rule(
            pack.rule(assessed.recommended.rule),
            Phrase(
                "the benefit is ressourceforløbsydelse: {paragraph}",
                {"paragraph": assessed.recommended.paragraph},
            ),
        )
    if amount is not None:
        yield _rule(
            pack.working_days_per_year,
            Phrase(
                "daily rate {rate} DKK = monthly benefit * 12 / {days}",
                {
                    "rate": _amount(assessed.daily_rate_dkk),
                    "days": pack.working_days_per_year.number,
                },
            ),
        )


def _amount(text: str | None) -> Decimal | str:
    """An amount of the projections (a decimal string) as a number people read in their
    language; its English text stays the string."""
    return Decimal(text) if text else str(text)


def _sanction(
    event: SanctionImposed | SanctionOverturned,
    sanctions: SanctionsView,
    eligible_before: Callable[[], bool],
) -> Iterator[FiredRule]:
    imposed = {s.sanction_id: s for s in sanctions.sanctions}.get(event.sanction_id)
    if imposed is None:
        # The sanction is not a fact of the case on this day: retracted, or imposed with a
        # later date than its overturn. Nothing counts, so no rule fires.
        return
    pack = pack_for(imposed.occurred_on, sanctions.revision)
    if isinstance(event, SanctionImposed):
        kind = Phrase(LABELS[imposed.kind])
        text = (
            Phrase(
                "{kind} of {amount} DKK imposed by {municipality}",
                {
                    "kind": kind,
                    "amount": _amount(imposed.amount_dkk),
                    "municipality": imposed.municipality,
                },
            )
            if imposed.amount_dkk
            else Phrase(
                "{kind} imposed by {municipality}",
                {"kind": kind, "municipality": imposed.municipality},
            )
        )
    else:
        text = Phrase(
            "{kind} {sanction_id} overturned by {by}: it no longer counts",
            {
                "kind": Phrase(LABELS[imposed.kind]),
                "sanction_id": imposed.sanction_id,
                "by": event.by,
            },
        )
    yield _rule(pack.rule(imposed.rule), text)

    yield from _escalation(event.municipality, sanctions, eligible_before)


def _escalation(
    municipality: str, sanctions: SanctionsView, eligible_before: Callable[[], bool]
) -> Iterator[FiredRule]:
    """AKL § 40 a as it stands after a sanction changed, and what it relies on (§ 69 r)."""
    pack = pack_for(sanctions.as_of, sanctions.revision)
    escalation = sanctions.escalation
    counted = Phrase(
        "{prior} effective deduction(s) or reduction(s) in {months} months",
        {"prior": len(escalation.prior), "months": escalation.lookback_months},
    )
    if escalation.eligible:
        text = Phrase(
            N_(
                "{counted} ({sanctions}): still eligible for a suspension of up to {months} "
                "months; a caseworker decides"
            )
            if eligible_before()
            else N_(
                "{counted} ({sanctions}): now eligible for a suspension of up to {months} "
                "months; a caseworker decides"
            ),
            {
                "counted": counted,
                "sanctions": ", ".join(escalation.prior),
                "months": escalation.max_suspension_months,
            },
        )
    else:
        text = Phrase(
            "{counted}: not eligible ({threshold} needed)",
            {"counted": counted, "threshold": escalation.threshold},
        )
    yield _rule(pack.escalation_threshold, text)
    relied_on = {s.sanction_id: s.municipality for s in sanctions.sanctions}
    elsewhere = sorted({relied_on[p] for p in escalation.prior} - {municipality})
    if elsewhere:
        yield _rule(
            pack.accumulation,
            Phrase(
                "counts sanctions imposed by {municipalities} as well",
                {"municipalities": ", ".join(elsewhere)},
            ),
        )


def for_people(steps: Sequence[ReplayStep], words: Words) -> list[dict[str, Any]]:
    """The steps as plain values with each rule's explanation in the language of ``words``
    (the terminal, the investigator's page); the JSON keeps the English."""
    shown: list[dict[str, Any]] = []
    for step in steps:
        plain = msgspec.to_builtins(step)
        for rule, fired in zip(plain["rules"], step.rules, strict=True):
            rule["explanation"] = fired.said(words)
        shown.append(plain)
    return shown
