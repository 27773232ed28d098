"""The status report for Udlændingestyrelsen, ``status-report/1`` (INTERFACE.md; UDL § 11).

Owns what the report says and its digest: the facts permanent residence looks at (declaration,
Danish tests, ordinary employment, help in the last 36 months) next to the case's course
(municipalities, contract, programme, participation, sanctions, follow-ups, status requests).
The report gives facts and does not decide. ``digest`` is SHA-256 over the canonical JSON of
the report without ``generated_at`` and ``digest`` (sorted keys, no spaces, UTF-8), so anyone
holding the JSON can recompute it with ``report_digest``.

Decisions where the sources are silent: the declaration's ``signed_on`` is the first
declaration signed without a waiver; ``waived_reason`` and ``waived_on`` report the latest waiver
only while no signed declaration exists. Every benefit in the catalogue counts as help.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from ledger.disclosure import Withheld
from ledger.events import (
    AbsenceRecorded,
    ContractSigned,
    DanishTestPassed,
    DeclarationSigned,
    EmploymentEnded,
    EmploymentStarted,
    OfferMade,
    OfferRefused,
    PermitGranted,
    ProgramStarted,
    ResponsibilityAssumed,
)
from ledger.records import StoredCaseEvent, timestamp
from projections.common import (
    Period,
    Selection,
    months_active,
    municipality_periods,
    report_header,
    responsible,
    select,
    since_revision,
    spans,
)
from projections.deadlines import (
    Deadline,
    FollowUps,
    StatusRequest,
    case_deadlines,
    follow_ups,
    programme_applies,
    status_requests,
)
from projections.sanctions import Totals, benefit_spans, fold_sanctions


class ContractFacts(msgspec.Struct, frozen=True, kw_only=True):
    signed_on: date | None
    versions: int
    deadline_met: bool | None
    due_on: date | None
    paragraph: str | None
    applies: bool | UnsetType = UNSET


class DeclarationFacts(msgspec.Struct, frozen=True, kw_only=True):
    signed_on: date | None
    waived_reason: str | None
    waived_on: date | None


class ProgramFacts(msgspec.Struct, frozen=True, kw_only=True):
    started_on: date | None
    deadline_met: bool | None
    due_on: date | None
    paragraph: str | None
    applies: bool | UnsetType = UNSET


class Participation(msgspec.Struct, frozen=True, kw_only=True):
    offers: int
    absence_days: int
    absence_days_excused: int
    refusals: int


class DanishTest(msgspec.Struct, frozen=True, kw_only=True):
    test: str
    passed_on: date


class Employment(msgspec.Struct, frozen=True, kw_only=True):
    ordinary_months_last_36: int
    lookback_months: int
    paragraph: str
    full_time_months_last_36: int | UnsetType = UNSET
    full_time_hours: int | UnsetType = UNSET


class Help(msgspec.Struct, frozen=True, kw_only=True):
    months_last_36: int
    lookback_months: int
    paragraph: str


class Permit(msgspec.Struct, frozen=True, kw_only=True):
    granted_on: date | None


class StatusReport(msgspec.Struct, frozen=True, kw_only=True):
    schema: Literal["status-report/1"] = "status-report/1"
    person: str
    as_of: date
    known_at: str | None
    position: int
    generated_at: str
    digest: str
    rule_pack: str
    responsible_municipality: str | None
    category: str | None
    responsibility_assumed_on: date | None
    municipalities: list[Period]
    contract: ContractFacts
    declaration: DeclarationFacts
    program: ProgramFacts
    participation: Participation
    sanctions: Totals
    follow_ups: FollowUps
    danish_tests: list[DanishTest]
    employment: Employment
    help: Help
    permit: Permit
    status_requests: list[StatusRequest]
    rule_revision: int | UnsetType = UNSET
    head_hash: str | UnsetType | None = UNSET
    # Set by the read service (``projections.views``) for a reader who may not see everything;
    # revision 1 reports predate them.
    redacted: bool | UnsetType = UNSET
    withheld: list[Withheld] | UnsetType = UNSET


_canonical = msgspec.json.Encoder(order="sorted")


def report_digest(report: StatusReport) -> str:
    """``sha256:`` + hex SHA-256 of the canonical JSON without ``generated_at`` and ``digest``."""
    return digest_of(msgspec.to_builtins(report))


def digest_of(body: dict[str, Any]) -> str:
    """The digest of a report as JSON (also of one redacted for its reader)."""
    covered = {k: v for k, v in body.items() if k not in ("generated_at", "digest")}
    return "sha256:" + hashlib.sha256(_canonical.encode(covered)).hexdigest()


def status_report(
    person: str,
    events: Sequence[StoredCaseEvent],
    as_of: date,
    known_at: datetime | None,
    generated_at: datetime,
    revision: int | None = None,
) -> StatusReport:
    return fold_status(select(person, events, as_of, known_at, revision), generated_at)


def fold_status(selection: Selection, generated_at: datetime) -> StatusReport:
    as_of = selection.as_of
    opened = selection.first(ResponsibilityAssumed)
    periods = municipality_periods(selection)
    deadlines = case_deadlines(selection)
    permit = selection.first(PermitGranted)
    pack = selection.pack(as_of)
    lookback = pack.permanent_residence_lookback
    applies = since_revision(selection, 2, programme_applies(selection))
    employments = [
        (started, last)
        for started, last in spans(selection, EmploymentStarted, EmploymentEnded, "employment_id")
        if started.ordinary
    ]
    full_time = pack.full_time_hours
    report = StatusReport(
        **report_header(selection),
        generated_at=timestamp(generated_at),
        digest="",
        responsible_municipality=responsible(periods),
        category=opened.category if opened is not None else None,
        responsibility_assumed_on=opened.occurred_on if opened is not None else None,
        municipalities=periods,
        contract=_contract(selection, deadlines.contract, applies),
        declaration=_declaration(selection),
        program=_program(selection, deadlines.program, applies),
        participation=_participation(selection),
        sanctions=fold_sanctions(selection).totals,
        follow_ups=follow_ups(selection),
        danish_tests=[
            DanishTest(test=t.test, passed_on=t.occurred_on)
            for t in selection.of_type(DanishTestPassed)
        ],
        employment=Employment(
            ordinary_months_last_36=months_active(
                [(started.occurred_on, last) for started, last in employments],
                as_of,
                lookback.number,
            ),
            lookback_months=lookback.number,
            paragraph=lookback.paragraph,
            # Revision 2: only ordinary work of at least the full-time hours counts (UDL § 11).
            full_time_months_last_36=UNSET
            if full_time is None
            else months_active(
                [
                    (started.occurred_on, last)
                    for started, last in employments
                    if started.hours_per_week >= full_time.number
                ],
                as_of,
                lookback.number,
            ),
            full_time_hours=UNSET if full_time is None else full_time.number,
        ),
        help=Help(
            months_last_36=months_active(
                [(granted.occurred_on, last) for granted, last in benefit_spans(selection)],
                as_of,
                lookback.number,
            ),
            lookback_months=lookback.number,
            paragraph=lookback.paragraph,
        ),
        permit=Permit(granted_on=permit.occurred_on if permit is not None else None),
        status_requests=status_requests(selection),
    )
    return msgspec.structs.replace(report, digest=report_digest(report))


def _contract(
    selection: Selection, deadline: Deadline | None, applies: bool | UnsetType
) -> ContractFacts:
    contracts = selection.of_type(ContractSigned)
    return ContractFacts(
        applies=applies,
        signed_on=contracts[0].occurred_on if contracts else None,
        versions=len(contracts),
        deadline_met=deadline.met if deadline is not None else None,
        due_on=deadline.due_on if deadline is not None else None,
        paragraph=deadline.paragraph if deadline is not None else None,
    )


def _program(
    selection: Selection, deadline: Deadline | None, applies: bool | UnsetType
) -> ProgramFacts:
    started = selection.first(ProgramStarted)
    return ProgramFacts(
        applies=applies,
        started_on=started.occurred_on if started is not None else None,
        deadline_met=deadline.met if deadline is not None else None,
        due_on=deadline.due_on if deadline is not None else None,
        paragraph=deadline.paragraph if deadline is not None else None,
    )


def _declaration(selection: Selection) -> DeclarationFacts:
    declarations = selection.of_type(DeclarationSigned)
    signed = next((d for d in declarations if d.waived_reason is None), None)
    waived = [d for d in declarations if d.waived_reason is not None]
    if signed is not None or not waived:
        return DeclarationFacts(
            signed_on=signed.occurred_on if signed is not None else None,
            waived_reason=None,
            waived_on=None,
        )
    return DeclarationFacts(
        signed_on=None, waived_reason=waived[-1].waived_reason, waived_on=waived[-1].occurred_on
    )


def _participation(selection: Selection) -> Participation:
    absences = selection.of_type(AbsenceRecorded)
    return Participation(
        offers=len(selection.of_type(OfferMade)),
        absence_days=sum(a.days for a in absences),
        absence_days_excused=sum(a.days for a in absences if a.reasonable_cause is not None),
        refusals=len(selection.of_type(OfferRefused)),
    )
