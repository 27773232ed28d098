"""The contract history, ``history/1`` (INTERFACE.md; the bill remark's "komplet historik").

Owns the investigator's timeline of one case: every live event in fold order with what the
ledger added when it stored it, the municipality periods, every contract version with what
changed from the one before, the events hidden by retractions, and the deadlines with the
paragraph of each rule (from ``projections.deadlines``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from ledger.disclosure import Withheld
from ledger.events import ContractSigned
from ledger.records import StoredCaseEvent, timestamp
from projections.common import (
    Period,
    Selection,
    municipality_periods,
    report_header,
    select,
)
from projections.deadlines import CaseDeadlines, case_deadlines

# What a new contract version can change (INL § 19 stk. 4-7), in the order it is reported.
CONTRACT_FIELDS = (
    "contract_id",
    "employment_goal",
    "education_goal",
    "weekly_hours",
    "activities",
    "sanctions_described",
    "set_by_municipality",
)


class ContractVersion(msgspec.Struct, frozen=True, kw_only=True):
    contract_id: str
    version: int
    event_id: str
    signed_on: date
    municipality: str
    changes: dict[str, tuple[Any, Any]]


class History(msgspec.Struct, frozen=True, kw_only=True):
    schema: Literal["history/1"] = "history/1"
    person: str
    as_of: date
    known_at: str | None
    position: int
    rule_pack: str
    entries: list[dict[str, Any]]
    municipalities: list[Period]
    contracts: list[ContractVersion]
    retracted: list[str]
    deadlines: CaseDeadlines
    rule_revision: int | UnsetType = UNSET
    head_hash: str | UnsetType | None = UNSET
    # Set by the read service (``projections.views``) for a reader who may not see everything;
    # revision 1 reports predate them.
    redacted: bool | UnsetType = UNSET
    withheld: list[Withheld] | UnsetType = UNSET


def contract_history(
    person: str,
    events: Sequence[StoredCaseEvent],
    as_of: date,
    known_at: datetime | None,
    revision: int | None = None,
) -> History:
    return fold_history(select(person, events, as_of, known_at, revision))


def fold_history(selection: Selection) -> History:
    return History(
        **report_header(selection),
        entries=entries(selection.facts),
        municipalities=municipality_periods(selection),
        contracts=contract_versions(selection),
        retracted=list(selection.retracted),
        deadlines=case_deadlines(selection),
    )


def entries(facts: Sequence[StoredCaseEvent]) -> list[dict[str, Any]]:
    """Each event's wire fields (personal data only where the event holds it) and what the
    ledger added when it stored it."""
    # The events converted in one call: a long case has thousands, and its history is made
    # again on every catch-up that touches it.
    listed: list[dict[str, Any]] = msgspec.to_builtins([stored.event for stored in facts])
    for fields, stored in zip(listed, facts, strict=True):
        fields["position"] = stored.position
        fields["version"] = stored.version
        fields["recorded_at"] = timestamp(stored.recorded_at)
        if stored.personal_erased:
            fields["personal_erased"] = True
    return listed


def contract_versions(selection: Selection) -> list[ContractVersion]:
    versions: list[ContractVersion] = []
    previous: ContractSigned | None = None
    for number, contract in enumerate(selection.of_type(ContractSigned), start=1):
        changes = {}
        if previous is not None:
            for name in CONTRACT_FIELDS:
                old, new = (msgspec.to_builtins(getattr(c, name)) for c in (previous, contract))
                if old != new:
                    changes[name] = (old, new)
        versions.append(
            ContractVersion(
                contract_id=contract.contract_id,
                version=number,
                event_id=str(contract.event_id),
                signed_on=contract.occurred_on,
                municipality=contract.municipality,
                changes=changes,
            )
        )
        previous = contract
    return versions
