"""Deadlines of the integration contract (INL §§ 16, 18, 19, 20), per case and per municipality.

Owns the time limits: the first contract and the programme start within a month of T0, a new
contract within a month of an approved takeover after a move [assumption], follow-ups at least
every three months until the goals are met, and Udlændingestyrelsen's status requests. A case's
deadlines (``case_deadlines``) feed the status report, the history and the replay; the worklist
(``worklist``, ``deadlines/1``) lists, for one municipality on one day, what is due or overdue.

Decisions where the sources are silent:
- A status request is answered by the first ``FollowUpHeld`` (any municipality) on or after the
  day it was requested: the follow-up is the municipality's review of the case (INL § 20), after
  which the ledger's status report reflects it.
- An obligation enters the worklist one month before it falls due (``LEAD_MONTHS``), so the
  first contract and the programme are listed from T0 on, and a follow-up a month ahead; it is
  overdue from the day after its due date.
- After a refused takeover the programme does not continue (INL § 18), so the refusing
  municipality gets no contract, programme or follow-up items; status requests still count.
- The next follow-up falls due three months after the latest one (or the first contract), the
  same day from which the status report calls follow-ups overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Literal

import msgspec

from ledger.application import StoredCaseEvent
from ledger.events import (
    ContractSigned,
    Event,
    FollowUpHeld,
    PermitGranted,
    ProgramStarted,
    ResponsibilityAssumed,
    StatusRequested,
)
from ledger.rulepacks import Rule, pack_for
from projections.common import (
    Period,
    Selection,
    add_months,
    municipality_periods,
    responsible,
    select,
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
    due: int
    overdue: bool
    next_due_on: date | None
    goals_met_on: date | None
    paragraph: str


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
    return selection.once("case_deadlines", _case_deadlines)


def _case_deadlines(selection: Selection) -> CaseDeadlines:
    as_of = selection.as_of
    opened = selection.first(ResponsibilityAssumed)
    contracts = selection.of_type(ContractSigned)
    contract = program = None
    if opened is not None:
        pack, t0, where = pack_for(opened.occurred_on), opened.occurred_on, opened.municipality
        first_contract = contracts[0] if contracts else None
        started = selection.first(ProgramStarted)
        contract = _deadline("contract", pack.contract_deadline, where, t0, first_contract, as_of)
        program = _deadline("program", pack.program_deadline, where, t0, started, as_of)
    return CaseDeadlines(
        contract=contract,
        program=program,
        contracts_after_moves=[
            _contract_after_move(period, period.decided_on, contracts, as_of)
            for period in municipality_periods(selection)
            if period.takeover == "approved" and period.decided_on is not None
        ],
        follow_ups=follow_ups(selection),
    )


def _contract_after_move(
    period: Period, decided_on: date, contracts: list[ContractSigned], as_of: date
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
    rule = pack_for(decided_on).contract_after_move
    return _deadline("contract_after_move", rule, period.municipality, decided_on, new, as_of)


def follow_ups(selection: Selection) -> FollowUps:
    return selection.once("follow_ups", _follow_ups)


def _follow_ups(selection: Selection) -> FollowUps:
    """INL § 20: ``due`` counts the k ≥ 1 with first contract + 3k months on or before
    ``as_of``, none ending after the first follow-up with the goals met; ``overdue`` when the
    goals are not met and ``as_of`` is past three months after the latest follow-up (or the
    first contract)."""
    held = selection.of_type(FollowUpHeld)
    first_contract = selection.first(ContractSigned)
    goals_met_on = next((f.occurred_on for f in held if f.goals_met), None)
    start = first_contract.occurred_on if first_contract is not None else selection.as_of
    rule = pack_for(start).follow_up_interval
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


def status_requests(selection: Selection) -> list[StatusRequest]:
    held = [f.occurred_on for f in selection.of_type(FollowUpHeld)]
    requests = []
    for request in selection.of_type(StatusRequested):
        answered_on = min((day for day in held if day >= request.occurred_on), default=None)
        requests.append(
            StatusRequest(
                request_id=request.request_id,
                requested_on=request.occurred_on,
                due_on=request.due_on,
                answered=answered_on is not None,
                answered_on=answered_on,
            )
        )
    return requests


# --- the worklist ---------------------------------------------------------------------------------


def worklist(
    municipality: str, cases: Iterable[tuple[str, Sequence[StoredCaseEvent]]], on: date
) -> Worklist:
    """What ``municipality``, responsible on ``on``, has due or overdue in its open cases."""
    horizon = add_months(on, LEAD_MONTHS)
    items = [
        item
        for person, events in cases
        for item in _case_items(municipality, select(person, events, on, None))
        if item.due_on <= horizon
    ]
    items.sort(key=lambda item: (item.due_on, item.person, item.kind))
    return Worklist(municipality=municipality, on=on, rule_pack=pack_for(on).id, items=items)


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
            if current.takeover == "approved"
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
            paragraph = pack_for(request.requested_on).status_request.paragraph
            yield item("status_request", request.due_on, paragraph, request.request_id)
