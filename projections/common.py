"""What every projection shares: the bitemporal selection of one person's events, calendar and
money arithmetic, the municipality periods and activity spans folded from the selection, and
the one JSON encoder of every view.

The selection (DOMAIN.md, "Projections"): events recorded at or before ``known_at`` are known;
a known ``EventRetracted`` hides its target (whatever ``as_of`` is); the remaining events with
``occurred_on`` on or before ``as_of`` are the case facts, folded in (``occurred_on``, version)
order. Retractions are not case facts themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import Any, Literal, TypeVar, cast

import msgspec
from msgspec import UNSET, UnsetType

from ledger.clock import add_months as add_months  # noqa: PLC0414 - re-exported for the views
from ledger.events import (
    Event,
    EventRetracted,
    MunicipalityMoved,
    ResponsibilityAssumed,
    TakeoverDecided,
)
from ledger.records import StoredCaseEvent, timestamp
from ledger.rulepacks import RulePack, check_revision, pack_for

E = TypeVar("E", bound=Event)
T = TypeVar("T")

ORE = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Selection:
    """One person's case as seen on ``as_of`` with what the ledger knew at ``known_at``."""

    person: str
    as_of: date
    known_at: str | None
    position: int
    facts: tuple[StoredCaseEvent, ...]
    retracted: tuple[str, ...]
    # The rule pack revision the folds apply (``ledger.rulepacks``): the latest unless a caller
    # reproduces a report made under an earlier one.
    revision: int
    # The hash of the person's latest known event (the one at ``position``).
    head_hash: str | None
    # The folds ask for events by type many times over; index them once: where in ``facts``
    # each type's events are, so that no fold walks the whole case for a few of its events,
    # and the events of several types can still be taken in fold order.
    places: dict[type, list[int]] = field(default_factory=dict)
    # Derived facts several views share (periods, deadlines, the sanction view), computed once,
    # keyed by the function that computes them (so a value's type is its function's result).
    memo: dict[Callable[[Selection], object], object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for place, stored in enumerate(self.facts):
            self.places.setdefault(type(stored.event), []).append(place)

    def of_type(self, *kinds: type[E]) -> list[E]:
        """The events of ``kinds``, in fold order."""
        places = [place for kind in kinds for place in self.places.get(kind, ())]
        if len(kinds) > 1:
            places.sort()
        # ``places`` files each event under its own type: these are events of ``kinds`` only.
        return cast("list[E]", [self.facts[place].event for place in places])

    def first(self, kind: type[E]) -> E | None:
        places = self.places.get(kind)
        return cast("E", self.facts[places[0]].event) if places else None

    def pack(self, day: date) -> RulePack:
        """The rule pack in force on ``day``, in this selection's revision."""
        return pack_for(day, self.revision)

    def once(self, compute: Callable[[Selection], T]) -> T:
        """``compute(self)``, computed at most once per selection."""
        if compute not in self.memo:
            self.memo[compute] = compute(self)
        # Stored under ``compute`` by the line above: its value is what ``compute`` returns.
        return cast("T", self.memo[compute])


def since_revision(selection: Selection, revision: int, value: T) -> T | UnsetType:
    """A value that rule pack revision ``revision`` added to the output: left out (``UNSET``)
    under earlier revisions, so a report made under one is reproduced byte for byte."""
    return value if selection.revision >= revision else UNSET


def named_revision(revision: int) -> int | UnsetType:
    """``rule_revision`` as output names it: revision 1 reports predate the key, so under
    revision 1 it is left out (a report without ``rule_revision`` was made under revision 1)."""
    return revision if revision >= 2 else UNSET


def report_header(selection: Selection) -> dict[str, Any]:
    """The fields every projection of one case opens with: whose case, as of when, as known
    when, up to which position, under which rule pack and revision, and (since revision 2) the
    chain head and the redaction marks, which the read path fills in for the reader."""
    pack = selection.pack(selection.as_of)
    return {
        "person": selection.person,
        "as_of": selection.as_of,
        "known_at": selection.known_at,
        "position": selection.position,
        "rule_pack": pack.id,
        "rule_revision": named_revision(pack.revision),
        "head_hash": since_revision(selection, 2, selection.head_hash),
        "redacted": since_revision(selection, 2, False),
        "withheld": since_revision(selection, 2, []),
    }


_position = attrgetter("position")
_fold_order = attrgetter("event.occurred_on", "version")


def select(
    person: str,
    events: Sequence[StoredCaseEvent],
    as_of: date,
    known_at: datetime | None,
    revision: int | None = None,
) -> Selection:
    if known_at is not None and known_at.tzinfo is None:
        # A timestamp without an offset is read as UTC, as the faces read it.
        known_at = known_at.replace(tzinfo=UTC)
    known = events if known_at is None else [e for e in events if e.recorded_at <= known_at]
    # Events are of their own type only (no event type derives from another), and ``type() is``
    # costs a fraction of ``isinstance`` on a struct, per event of the case.
    retractions = sorted(
        (e.position, e.event.retracts) for e in known if type(e.event) is EventRetracted
    )
    retracted = tuple(target for _, target in retractions)
    facts = [
        e for e in known if type(e.event) is not EventRetracted and e.event.occurred_on <= as_of
    ]
    if retracted:
        # Known by their integers: a UUID hashes in Python, an integer in C.
        hidden = {target.int for target in retracted}
        facts = [e for e in facts if e.event.event_id.int not in hidden]
    facts.sort(key=_fold_order)
    latest = max(known, key=_position, default=None)
    if known_at is not None:
        label: str | None = timestamp(known_at)
    else:
        # The latest recording time reproduces this very report when passed back as known_at.
        label = timestamp(latest.recorded_at) if latest is not None else None
    return Selection(
        person=person,
        as_of=as_of,
        known_at=label,
        position=latest.position if latest is not None else 0,
        facts=tuple(facts),
        retracted=tuple(str(target) for target in retracted),
        revision=check_revision(revision),
        head_hash=latest.hash if latest is not None else None,
    )


# --- calendar and money ---------------------------------------------------------------------------


def round_ore(value: Decimal) -> Decimal:
    return value.quantize(ORE, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """An amount in DKK as a string with two decimals, rounded half up to øre."""
    return f"{round_ore(value):f}"


def months_active(spans: Sequence[tuple[date, date]], as_of: date, months: int) -> int:
    """Distinct calendar months, among the ``months`` ending with the month of ``as_of``, with
    at least one day inside one of the spans (first and last day included)."""
    first_month = _month_number(as_of) - months + 1
    window_start = date(first_month // 12, first_month % 12 + 1, 1)
    active: set[int] = set()
    for first, last in spans:
        start, end = max(first, window_start), min(last, as_of)
        if start <= end:
            active.update(range(_month_number(start), _month_number(end) + 1))
    return len(active)


def _month_number(day: date) -> int:
    """Months since year 0: consecutive calendar months are consecutive numbers."""
    return day.year * 12 + day.month - 1


def spans(selection: Selection, start: type[E], end: type[Event], key: str) -> list[tuple[E, date]]:
    """Each ``start`` event with the last day it is active: through the first later ``end``
    event with the same ``key`` (that day included), or ``as_of`` while none has come."""
    began: list[E] = []
    ended_on: dict[int, date] = {}  # by index in ``began``
    running: dict[object, list[int]] = {}  # the indexes of the spans not ended yet, by key
    for event in selection.of_type(start, end):
        if isinstance(event, start):
            running.setdefault(getattr(event, key), []).append(len(began))
            began.append(event)
        else:
            for index in running.pop(getattr(event, key), ()):
                ended_on[index] = event.occurred_on
    return [(event, ended_on.get(index, selection.as_of)) for index, event in enumerate(began)]


# --- municipality periods -------------------------------------------------------------------------

Takeover = Literal["approved", "refused", "pending"]


class Period(msgspec.Struct, frozen=True, kw_only=True):
    """A stretch of responsibility: it ends on the day of the move, when the next begins."""

    municipality: str
    from_: date = msgspec.field(name="from")
    to: date | None
    takeover: Takeover | None
    decided_on: date | None


def municipality_periods(selection: Selection) -> list[Period]:
    return selection.once(_municipality_periods)


def _municipality_periods(selection: Selection) -> list[Period]:
    periods: list[Period] = []
    for event in selection.of_type(ResponsibilityAssumed, MunicipalityMoved, TakeoverDecided):
        match event:
            case ResponsibilityAssumed():
                periods.append(
                    Period(
                        municipality=event.municipality,
                        from_=event.occurred_on,
                        to=None,
                        takeover=None,
                        decided_on=None,
                    )
                )
            # A move dated before T0 has no period to end; the case opens at T0 regardless.
            case MunicipalityMoved(to_municipality=receiving) if periods:
                periods[-1] = msgspec.structs.replace(periods[-1], to=event.occurred_on)
                periods.append(
                    Period(
                        municipality=receiving,
                        from_=event.occurred_on,
                        to=None,
                        takeover="pending",
                        decided_on=None,
                    )
                )
            case TakeoverDecided(approved=approved) if (
                periods and periods[-1].municipality == event.municipality
            ):
                periods[-1] = msgspec.structs.replace(
                    periods[-1],
                    takeover="approved" if approved else "refused",
                    decided_on=event.occurred_on,
                )
            case _:
                pass
    return periods


def responsible(periods: Sequence[Period]) -> str | None:
    return periods[-1].municipality if periods else None


# --- JSON -----------------------------------------------------------------------------------------

_encoder = msgspec.json.Encoder(decimal_format="string")


def to_json(view: object) -> bytes:
    """Any view (or list of replay steps) as JSON: keys in declaration order, dates
    ``YYYY-MM-DD``, amounts as strings."""
    return _encoder.encode(view)
