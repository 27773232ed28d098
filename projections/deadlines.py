"""Deadlines of the integration contract (INL §§ 16, 18, 19, 20), per case and per municipality.

Owns the time limits: the first contract and the programme start within a month of T0, a new
contract within a month of an approved takeover after a move [assumption], follow-ups at least
every three months until the goals are met, and Udlændingestyrelsen's status requests. A case's
deadlines (``case_deadlines``) feed the status report, the history and the replay; the worklist
(``worklist``, ``deadlines/1``) lists, for one municipality on one day, what is due or overdue.

Rule pack revision 2 (the second edition) changes three things here, each cited in its pack:
immigrants are outside chapters 3-7 (INL § 2 stk. 5), so their case has no contract, programme
or follow-up deadlines; the follow-up duty follows the *latest* follow-up (or a later contract
version), every 3 months, or every 12 months while an ordinary job or education runs without
help (handbook on INL § 20); and a status request is answered only by ``StatusReported``.

Decisions where the sources are silent:
- Revision 1 only: a status request is answered by the first ``FollowUpHeld`` (any
  municipality) on or after the day it was requested.
- Revision 2: the next follow-up is counted from the latest follow-up, or from the contract
  version that brought the duty back after goals were met, or from the first contract; the
  interval is the one that applies on the day counted from (and again whenever it changes).
- An obligation enters the worklist one month before it falls due (``LEAD_MONTHS``), so the
  first contract and the programme are listed from T0 on, and a follow-up a month ahead; it is
  overdue from the day after its due date.
- After a refused takeover the programme does not continue (INL § 18), so the refusing
  municipality gets no contract, programme or follow-up items; status requests still count.
- The next follow-up falls due three months after the latest one (or the first contract), the
  same day from which the status report calls follow-ups overdue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType

from ledger.disclosure import Withheld
from ledger.events import (
    BenefitEnded,
    BenefitGranted,
    ContractSigned,
    EducationEnded,
    EducationStarted,
    EmploymentEnded,
    EmploymentStarted,
    Event,
    FollowUpHeld,
    PermitGranted,
    ProgramStarted,
    ResponsibilityAssumed,
    StatusReported,
    StatusRequested,
)
from ledger.records import StoredCaseEvent
from ledger.rulepacks import Rule, pack_for
from projections.common import (
    Period,
    Selection,
    add_months,
    municipality_periods,
    named_revision,
    responsible,
    select,
    since_revision,
    spans,
)

# Not a legal number: how far ahead the worklist shows what is coming.
LEAD_MONTHS = 1

Outcome = Literal["met", "missed", "pending"]
DeadlineKind = Literal["contract", "program", "contract_after_move"]
WorkKind = Literal["contract", "contract_after_move", "program", "follow_up", "status_request"]


class Deadline(msgspec.Struct, frozen=True, kw_only=True):
    """One time limit: ``met`` when done by ``due_on``, ``missed`` when done later or not done
    by ``as_of`` after ``due_on``, otherwise ``pending``."""

    kind: DeadlineKind
    rule: str
    paragraph: str
    assumption: bool
    municipality: str
    due_on: date
    done_on: date | None
    done_by: str | None
    status: Outcome

    @property
    def met(self) -> bool | None:
        return {"met": True, "missed": False, "pending": None}[self.status]


class FollowUps(msgspec.Struct, frozen=True, kw_only=True):
    held: int
    due: int | None  # None: the duty does not apply (an immigrant, revision 2)
    overdue: bool | None
    next_due_on: date | None
    goals_met_on: date | None
    paragraph: str
    applies: bool | UnsetType = UNSET
    interval_months: int | UnsetType | None = UNSET


class CaseDeadlines(msgspec.Struct, frozen=True, kw_only=True):
    contract: Deadline | None
    program: Deadline | None
    contracts_after_moves: list[Deadline]
    follow_ups: FollowUps


class StatusRequest(msgspec.Struct, frozen=True, kw_only=True):
    request_id: str
    requested_on: date
    due_on: date
    answered: bool
    answered_on: date | None
    late: bool | UnsetType = UNSET


class WorkItem(msgspec.Struct, frozen=True, kw_only=True):
    person: str
    kind: WorkKind
    due_on: date
    overdue: bool
    paragraph: str
    reference: str | None


class Worklist(msgspec.Struct, frozen=True, kw_only=True):
    schema: Literal["deadlines/1"] = "deadlines/1"
    municipality: str
    on: date
    rule_pack: str
    items: list[WorkItem]
    rule_revision: int | UnsetType = UNSET
    # Set by the read service (``projections.views``) for a reader who may not see everything;
    # revision 1 reports predate them.
    redacted: bool | UnsetType = UNSET
    withheld: list[Withheld] | UnsetType = UNSET


# --- one case -------------------------------------------------------------------------------------


def _deadline(
    kind: DeadlineKind,
    rule: Rule,
    municipality: str,
    start: date,
    done: Event | None,
    as_of: date,
) -> Deadline:
    due_on = add_months(start, rule.number)
    done_on = done.occurred_on if done is not None else None
    if done_on is not None:
        status: Outcome = "met" if done_on <= due_on else "missed"
    else:
        status = "missed" if as_of > due_on else "pending"
    return Deadline(
        kind=kind,
        rule=rule.name,
        paragraph=rule.paragraph,
        assumption=rule.assumption,
        municipality=municipality,
        due_on=due_on,
        done_on=done_on,
        done_by=str(done.event_id) if done is not None else None,
        status=status,
    )


def case_deadlines(selection: Selection) -> CaseDeadlines:
    return selection.once(_case_deadlines)


def programme_applies(selection: Selection) -> bool:
    """Revision 2: an immigrant is outside INL chapters 3-7 (INL § 2 stk. 5), so no contract,
    programme or follow-up deadline applies; revision 1 applied them to every category."""
    opened = selection.first(ResponsibilityAssumed)
    if opened is None or selection.revision < 2:
        return True
    return opened.category != "immigrant"


def _case_deadlines(selection: Selection) -> CaseDeadlines:
    as_of = selection.as_of
    opened = selection.first(ResponsibilityAssumed)
    contracts = selection.of_type(ContractSigned)
    contract = program = None
    applies = programme_applies(selection)
    if opened is not None and applies:
        t0, where = opened.occurred_on, opened.municipality
        pack = selection.pack(t0)
        first_contract = contracts[0] if contracts else None
        started = selection.first(ProgramStarted)
        contract = _deadline("contract", pack.contract_deadline, where, t0, first_contract, as_of)
        program = _deadline("program", pack.program_deadline, where, t0, started, as_of)
    return CaseDeadlines(
        contract=contract,
        program=program,
        contracts_after_moves=[
            _contract_after_move(selection, period, period.decided_on, contracts)
            for period in municipality_periods(selection)
            if applies and period.takeover == "approved" and period.decided_on is not None
        ],
        follow_ups=follow_ups(selection),
    )


def _contract_after_move(
    selection: Selection, period: Period, decided_on: date, contracts: list[ContractSigned]
) -> Deadline:
    """The receiving municipality's new contract, counted from its approval [assumption]."""
    new = next(
        (
            c
            for c in contracts
            if c.municipality == period.municipality
            and period.from_ <= c.occurred_on
            and (period.to is None or c.occurred_on <= period.to)
        ),
        None,
    )
    rule = selection.pack(decided_on).contract_after_move
    return _deadline(
        "contract_after_move", rule, period.municipality, decided_on, new, selection.as_of
    )


def follow_ups(selection: Selection) -> FollowUps:
    return selection.once(_follow_ups)


def _follow_ups(selection: Selection) -> FollowUps:
    if selection.revision < 2:
        return _follow_ups_revision_1(selection)
    return _follow_ups_revision_2(selection)


def _follow_ups_revision_1(selection: Selection) -> FollowUps:
    """INL § 20 as revision 1 read it: ``due`` counts the k ≥ 1 with first contract + 3k months
    on or before ``as_of``, none ending after the first follow-up with the goals met;
    ``overdue`` when the goals are not met and ``as_of`` is past three months after the latest
    follow-up (or the first contract)."""
    held = selection.of_type(FollowUpHeld)
    first_contract = selection.first(ContractSigned)
    goals_met_on = next((f.occurred_on for f in held if f.goals_met), None)
    start = first_contract.occurred_on if first_contract is not None else selection.as_of
    rule = selection.pack(start).follow_up_interval
    due, next_due_on = 0, None
    if first_contract is not None:
        until = goals_met_on or selection.as_of
        while add_months(start, rule.number * (due + 1)) <= until:
            due += 1
        if goals_met_on is None:
            latest = held[-1].occurred_on if held else start
            next_due_on = add_months(latest, rule.number)
    return FollowUps(
        held=len(held),
        due=due,
        overdue=next_due_on is not None and selection.as_of > next_due_on,
        next_due_on=next_due_on,
        goals_met_on=goals_met_on,
        paragraph=rule.paragraph,
    )


class _FollowUpDuty:
    """INL § 20 as revision 2 reads it: the duty is active while the latest follow-up, or the
    latest contract version when it is later, does not say the goals are met; its interval is
    12 months while an ordinary employment or education is active and no benefit is
    (handbook on INL § 20), else 3 months."""

    def __init__(self, selection: Selection) -> None:
        # Follow-ups and contract versions in fold order: the latest one on a day decides.
        self.reviews: list[FollowUpHeld | ContractSigned] = selection.of_type(
            FollowUpHeld, ContractSigned
        )
        employments = spans(selection, EmploymentStarted, EmploymentEnded, "employment_id")
        educations = spans(selection, EducationStarted, EducationEnded, "education_id")
        self.ordinary = [(e.occurred_on, last) for e, last in employments if e.ordinary] + [
            (e.occurred_on, last) for e, last in educations if e.ordinary
        ]
        self.benefits = [
            (granted.occurred_on, last)
            for granted, last in spans(selection, BenefitGranted, BenefitEnded, "benefit")
        ]
        self.selection = selection

    def active(self, day: date) -> bool:
        latest = None
        for review in self.reviews:
            if review.occurred_on > day:
                break
            latest = review
        return not (isinstance(latest, FollowUpHeld) and latest.goals_met)

    def interval(self, day: date) -> Rule:
        pack = self.selection.pack(day)
        working = any(first <= day <= last for first, last in self.ordinary)
        helped = any(first <= day <= last for first, last in self.benefits)
        if working and not helped and pack.follow_up_interval_ordinary is not None:
            return pack.follow_up_interval_ordinary
        return pack.follow_up_interval

    def _change_days(self, after: date, until: date) -> list[date]:
        return sorted({r.occurred_on for r in self.reviews if after < r.occurred_on <= until})

    def due(self, start: date, as_of: date) -> int:
        """The intervals that ended while the duty was active, from ``start`` (the first
        contract) to ``as_of``: counted from ``anchor`` in steps of the interval that applies
        there, restarted where the duty ends and comes back, or the interval changes."""
        due, anchor, steps = 0, start, 0
        while True:
            months = self.interval(anchor).number
            current = add_months(anchor, months * steps)
            if current > as_of:
                break
            if not self.active(current):
                back = next((d for d in self._change_days(current, as_of) if self.active(d)), None)
                if back is None:
                    break
                anchor, steps = back, 0
                continue
            boundary = add_months(anchor, months * (steps + 1))
            if boundary > as_of:
                break
            # A follow-up that finds the goals met on the last day still ends the interval.
            last_day = boundary - timedelta(days=1)
            ended = next(
                (d for d in self._change_days(current, last_day) if not self.active(d)), None
            )
            if ended is not None:
                anchor, steps = ended, 0
                continue
            due, steps = due + 1, steps + 1
            if self.interval(boundary).number != months:
                anchor, steps = boundary, 0
        return due

    def counted_from(self, first_contract: date) -> date:
        """The day the next follow-up is counted from: the latest follow-up, or the contract
        version that brought the duty back after goals were met, or the first contract."""
        anchor, met = first_contract, False
        for review in self.reviews:
            if review.occurred_on > self.selection.as_of:
                break
            if isinstance(review, FollowUpHeld):
                anchor, met = review.occurred_on, review.goals_met
            elif met:
                anchor, met = review.occurred_on, False
        return anchor


def _follow_ups_revision_2(selection: Selection) -> FollowUps:
    held = selection.of_type(FollowUpHeld)
    first_contract = selection.first(ContractSigned)
    as_of = selection.as_of
    pack = selection.pack(first_contract.occurred_on if first_contract is not None else as_of)
    if not programme_applies(selection):
        return FollowUps(
            held=len(held),
            due=None,
            overdue=None,
            next_due_on=None,
            goals_met_on=None,
            paragraph=pack.follow_up_interval.paragraph,
            applies=False,
            interval_months=None,
        )
    duty = _FollowUpDuty(selection)
    active = duty.active(as_of)
    due, next_due_on, interval = 0, None, None
    if first_contract is not None:
        due = duty.due(first_contract.occurred_on, as_of)
        if active:
            interval = duty.interval(as_of).number
            next_due_on = add_months(duty.counted_from(first_contract.occurred_on), interval)
    return FollowUps(
        held=len(held),
        due=due,
        overdue=next_due_on is not None and as_of > next_due_on,
        next_due_on=next_due_on,
        goals_met_on=None if active or not held else held[-1].occurred_on,
        paragraph=pack.follow_up_interval.paragraph,
        applies=True,
        interval_months=interval,
    )


def status_requests(selection: Selection) -> list[StatusRequest]:
    requests = []
    answers = _status_answers(selection)
    for request in selection.of_type(StatusRequested):
        answered_on = answers(request)
        requests.append(
            StatusRequest(
                request_id=request.request_id,
                requested_on=request.occurred_on,
                due_on=request.due_on,
                answered=answered_on is not None,
                answered_on=answered_on,
                late=since_revision(
                    selection, 2, (answered_on or selection.as_of) > request.due_on
                ),
            )
        )
    return requests


def _status_answers(selection: Selection) -> Callable[[StatusRequested], date | None]:
    """The day each request was answered: revision 2, the first ``StatusReported`` for it (the
    bill remark's "pligt til at udarbejde en status"); revision 1, the first follow-up on or
    after the request."""
    if selection.revision < 2:
        held = [f.occurred_on for f in selection.of_type(FollowUpHeld)]
        return lambda request: min((d for d in held if d >= request.occurred_on), default=None)
    reports: dict[str, date] = {}
    for reported in selection.of_type(StatusReported):
        reports.setdefault(reported.request_id, reported.occurred_on)
    return lambda request: reports.get(request.request_id)


# --- the worklist ---------------------------------------------------------------------------------


def worklist(
    municipality: str,
    cases: Iterable[tuple[str, Sequence[StoredCaseEvent]]],
    on: date,
    revision: int | None = None,
) -> Worklist:
    """What ``municipality``, responsible on ``on``, has due or overdue in its open cases."""
    horizon = add_months(on, LEAD_MONTHS)
    items = [
        item
        for person, events in cases
        for item in _case_items(municipality, select(person, events, on, None, revision))
        if item.due_on <= horizon
    ]
    items.sort(key=lambda item: (item.due_on, item.person, item.kind))
    pack = pack_for(on, revision)
    return Worklist(
        municipality=municipality,
        on=on,
        rule_pack=pack.id,
        items=items,
        rule_revision=named_revision(pack.revision),
        redacted=False if pack.revision >= 2 else UNSET,
        withheld=[] if pack.revision >= 2 else UNSET,
    )


def _case_items(municipality: str, selection: Selection) -> Iterator[WorkItem]:
    periods = municipality_periods(selection)
    if responsible(periods) != municipality or selection.first(PermitGranted) is not None:
        return
    current = periods[-1]
    on = selection.as_of

    def item(kind: WorkKind, due_on: date, paragraph: str, reference: str | None) -> WorkItem:
        return WorkItem(
            person=selection.person,
            kind=kind,
            due_on=due_on,
            overdue=on > due_on,
            paragraph=paragraph,
            reference=reference,
        )

    if current.takeover != "refused":
        deadlines = case_deadlines(selection)
        # An approved takeover replaces the T0 contract deadline with the new contract's.
        contract = (
            deadlines.contracts_after_moves[-1]
            if current.takeover == "approved" and deadlines.contracts_after_moves
            else deadlines.contract
        )
        for deadline in (contract, deadlines.program):
            if deadline is not None and deadline.done_on is None:
                yield item(deadline.kind, deadline.due_on, deadline.paragraph, None)
        follow_up = deadlines.follow_ups
        if follow_up.next_due_on is not None:
            yield item("follow_up", follow_up.next_due_on, follow_up.paragraph, None)
    for request in status_requests(selection):
        if not request.answered:
            paragraph = selection.pack(request.requested_on).status_request.paragraph
            yield item("status_request", request.due_on, paragraph, request.request_id)
