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
from functools import partial

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
    "no_written_notice": "no written notice of the consequences by {m} on or before the day",
    "no_contact_attempt": "activity-ready, and {m} has recorded no contact attempt since",
    "reasonable_cause": "a reasonable cause is documented",
    "no_open_offer": "{m} has no open offer standing that the person could take up",
    "no_benefit": "no benefit was paid on the day, so there is nothing to sanction",
}


class FiredRule(msgspec.Struct, frozen=True, kw_only=True):
    rule: str
    paragraph: str
    assumption: bool
    explanation: str


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


def _rule(rule: Rule, explanation: str) -> FiredRule:
    return FiredRule(
        rule=rule.name,
        paragraph=rule.paragraph,
        assumption=rule.assumption,
        explanation=explanation,
    )


DEADLINES: dict[DeadlineKind, str] = {
    "contract": "first contract",
    "program": "programme start",
    "contract_after_move": "new contract after the move",
}


def _deadline(deadline: Deadline) -> FiredRule:
    what = DEADLINES[deadline.kind]
    if deadline.done_on is None:
        text = f"{what} due by {deadline.due_on} ({deadline.municipality})"
    else:
        verdict = "met" if deadline.status == "met" else "missed"
        text = f"{what} on {deadline.done_on}, due by {deadline.due_on}: deadline {verdict}"
    return FiredRule(
        rule=deadline.rule,
        paragraph=deadline.paragraph,
        assumption=deadline.assumption,
        explanation=text,
    )


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
                f"the contract sets {hours:g} hours a week, below the {pack.weekly_hours.number} "
                "hours average a programme with employment offers has",
            )
        case ProgramStarted():
            months = pack.program_duration.number
            yield _rule(
                pack.program_duration,
                f"the programme lasts up to {months} months: until "
                f"{add_months(event.occurred_on, months)}",
            )
        case FollowUpHeld() if follow_ups(selection).applies is False:
            if pack.immigrant_outside_programme is not None:
                yield _rule(
                    pack.immigrant_outside_programme,
                    "an immigrant is outside the programme: no follow-up duty",
                )
        case FollowUpHeld():
            state = follow_ups(selection)
            yield _rule(
                pack.follow_up_interval,
                f"goals met on {state.goals_met_on}: further follow-ups only as needed"
                if state.next_due_on is None
                else f"goals not met: next follow-up due by {state.next_due_on}",
            )
        case MunicipalityMoved(to_municipality=receiving):
            yield _rule(
                pack.takeover,
                f"responsibility passes from {event.municipality} to {receiving}; the programme "
                f"continues only if {receiving} approves: takeover pending",
            )
            if sanctions.totals.effective:
                yield _rule(
                    pack.accumulation,
                    f"{sanctions.totals.effective} effective sanction(s) follow the person to "
                    f"{receiving} without consent",
                )
        case TakeoverDecided(approved=True):
            # The latest approved period is the one this approval opened.
            yield from map(_deadline, deadlines.contracts_after_moves[-1:])
        case TakeoverDecided():
            yield _rule(
                pack.refused_takeover,
                f"takeover refused: the programme does not continue in {event.municipality}, "
                "which may reduce or stop the benefit",
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
            yield _rule(pack.status_request, f"Udlændingestyrelsen asks for a status by {due_on}")
        case PermitGranted():
            yield _rule(
                pack.case_closed_by_permit,
                "permanent residence granted: the contract ends and the case is closed",
            )
        case _:
            pass


def _incident(
    event: AbsenceRecorded | OfferRefused, selection: Selection, sanctions: SanctionsView
) -> Iterator[FiredRule]:
    pack = selection.pack(event.occurred_on)
    assessed = {i.event_id: i for i in sanctions.incidents}[str(event.event_id)]
    for reason in assessed.reasons:
        explanation = REASONS[reason].format(m=event.municipality)
        yield _rule(reason_rule(pack, reason), f"not sanctionable: {explanation}")
    if assessed.recommended is None:
        return
    offers = {offer.offer_id: offer.kind for offer in selection.of_type(OfferMade)}
    kind, rule = law_points_to(pack, event, offers.get(event.offer_id))
    amount = assessed.recommended.amount_dkk
    yield _rule(
        rule, f"sanctionable: the law points to {kind}" + (f" of {amount} DKK" if amount else "")
    )
    if assessed.recommended.rule != rule.name:
        # Revision 2: on ressourceforløbsydelse the paragraphs are §§ 69 l-69 r.
        yield _rule(
            pack.rule(assessed.recommended.rule),
            f"the benefit is ressourceforløbsydelse: {assessed.recommended.paragraph}",
        )
    if amount is not None:
        yield _rule(
            pack.working_days_per_year,
            f"daily rate {assessed.daily_rate_dkk} DKK = monthly benefit * 12 / "
            f"{pack.working_days_per_year.number}",
        )


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
        amount = f" of {imposed.amount_dkk} DKK" if imposed.amount_dkk else ""
        text = f"{imposed.kind}{amount} imposed by {imposed.municipality}"
    else:
        text = f"{imposed.kind} {imposed.sanction_id} overturned by {event.by}: it no longer counts"
    yield _rule(pack.rule(imposed.rule), text)

    yield from _escalation(event.municipality, sanctions, eligible_before)


def _escalation(
    municipality: str, sanctions: SanctionsView, eligible_before: Callable[[], bool]
) -> Iterator[FiredRule]:
    """AKL § 40 a as it stands after a sanction changed, and what it relies on (§ 69 r)."""
    pack = pack_for(sanctions.as_of, sanctions.revision)
    escalation = sanctions.escalation
    counted = (
        f"{len(escalation.prior)} effective deduction(s) or reduction(s) in "
        f"{escalation.lookback_months} months"
    )
    if escalation.eligible:
        became = "still" if eligible_before() else "now"
        text = (
            f"{counted} ({', '.join(escalation.prior)}): {became} eligible for a suspension of "
            f"up to {escalation.max_suspension_months} months; a caseworker decides"
        )
    else:
        text = f"{counted}: not eligible ({escalation.threshold} needed)"
    yield _rule(pack.escalation_threshold, text)
    relied_on = {s.sanction_id: s.municipality for s in sanctions.sanctions}
    elsewhere = sorted({relied_on[p] for p in escalation.prior} - {municipality})
    if elsewhere:
        yield _rule(
            pack.accumulation, f"counts sanctions imposed by {', '.join(elsewhere)} as well"
        )
