"""The case: what the ledger must know about one person's stream to accept the next event.

``CaseState`` is a small fold over the live (not retracted) events of one person. ``check``
enforces every case invariant of DOMAIN.md and raises the typed error with the field it
concerns; ``apply`` advances the state. A retraction changes what is live, so the caller
refolds the whole stream after one (retractions are rare; appends of other events are O(1),
plus a look through the handful of municipality periods of the case).

The invariants are the law as the latest rule pack revision reads it (revision 2, the second
edition of the brief): they apply to every new append, and each refusal names the paragraph of
the rule it applies (``pack_for``). Responsibility is a matter of valid time: a municipality
acts only on days in one of its periods of responsibility, and a record is corrected only by
whoever made it, also after the person moved away.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple, NoReturn
from uuid import UUID

from ledger.clock import add_months
from ledger.errors import (
    CaseAlreadyOpen,
    CaseClosed,
    CaseNotOpen,
    InvalidField,
    NotResponsible,
    RuleViolation,
    UnknownEvent,
    UnknownOffer,
    UnknownSanction,
)
from ledger.events import (
    INCIDENT_TYPES,
    AbsenceRecorded,
    ContractSigned,
    DeclarationSigned,
    Event,
    EventRetracted,
    MunicipalityMoved,
    OfferMade,
    OfferRefused,
    PermitGranted,
    ResponsibilityAssumed,
    SanctionImposed,
    SanctionOverturned,
    StatusRequested,
    TakeoverDecided,
)
from ledger.i18n import N_, Phrase
from ledger.rulepacks import Rule, pack_for

GENESIS_HASH = "0" * 64
UNRETRACTABLE = (ResponsibilityAssumed, EventRetracted)

# Udlændingestyrelsen, as the maker of a record: its status requests are its own, and so is a
# retraction whose ``recorded_by`` names it (the fixtures' and the HTTP API's convention,
# "udlaendingestyrelsen" or "udlaendingestyrelsen:<token id>").
IMMIGRATION_SERVICE = "udlaendingestyrelsen"

# Records that may be dated before T0 (INL § 19 stk. 2), for a refugee only.
BEFORE_T0_FOR_REFUGEES = (ContractSigned, DeclarationSigned)


def names_immigration_service(recorded_by: str | None) -> bool:
    return recorded_by is not None and recorded_by.split(":", 1)[0] == IMMIGRATION_SERVICE


def recorder_of(event: Event) -> str:
    """Who made a record, for the rule that corrections belong to them: Udlændingestyrelsen
    for its status requests and the retractions it records, else the acting municipality."""
    if isinstance(event, StatusRequested) or (
        isinstance(event, EventRetracted) and names_immigration_service(event.recorded_by)
    ):
        return IMMIGRATION_SERVICE
    return event.municipality


def _rule(day: date, name: str) -> Rule:
    """A case rule as the latest revision of the pack in force on ``day`` reads it."""
    return pack_for(day).rule(name)


class Period(NamedTuple):
    """A municipality's responsibility from ``starts_on`` through the next move's date."""

    municipality: str
    starts_on: date


class Record(NamedTuple):
    """What a retraction needs to know of a live event: its type and who made it."""

    type: str
    recorder: str


# A freshly folded case state keeps a record of every live event (what a retraction needs to
# know): one shared record for each pair of type and recorder (a few thousand at most), and the
# event id as its integer. A writer's kept states go without it (``live`` is None): only a
# retraction needs it, and the writer folds the case again for one anyway.
_RECORDS: dict[tuple[str, str], Record] = {}


def record_of(event: Event) -> Record:
    key = (event.type, recorder_of(event))
    record = _RECORDS.get(key)
    if record is None:
        record = _RECORDS[key] = Record(*key)
    return record


STATE_WEIGHT = 8  # a case state's own containers, in the entries they weigh about as much as


@dataclass(slots=True)
class CaseState:
    person: str
    version: int = 0
    head_hash: str = GENESIS_HASH
    t0: date | None = None
    refugee: bool = False
    periods: list[Period] = field(default_factory=list)
    takeover_pending: bool = False
    closed: bool = False
    offers: set[str] = field(default_factory=set)
    sanctions: dict[str, str] = field(default_factory=dict)  # sanction_id -> imposed by
    incidents: set[UUID] = field(default_factory=set)
    # By the event id's integer; None in a state kept without it (``KeptStates``).
    live: dict[int, Record] | None = field(default_factory=dict)
    retracted: set[UUID] = field(default_factory=set)

    def weight(self) -> int:
        """What the state holds, in entries (``KeptStates``): its own containers, about a
        kilobyte, as ``STATE_WEIGHT``, and one for each offer, incident, sanction, period and
        retraction it keeps."""
        return (
            STATE_WEIGHT
            + len(self.offers)
            + len(self.incidents)
            + len(self.sanctions)
            + len(self.periods)
            + len(self.retracted)
        )

    def copy(self) -> CaseState:
        return CaseState(
            person=self.person,
            version=self.version,
            head_hash=self.head_hash,
            t0=self.t0,
            refugee=self.refugee,
            periods=list(self.periods),
            takeover_pending=self.takeover_pending,
            closed=self.closed,
            offers=set(self.offers),
            sanctions=dict(self.sanctions),
            incidents=set(self.incidents),
            live=None if self.live is None else dict(self.live),
            retracted=set(self.retracted),
        )

    # --- responsibility in valid time --------------------------------------------------------

    @property
    def opened(self) -> bool:
        return bool(self.periods)

    @property
    def responsible(self) -> str | None:
        """The municipality responsible now (after the latest move)."""
        return self.periods[-1].municipality if self.periods else None

    def responsible_on(self, day: date) -> str | None:
        """The municipality responsible on ``day``: on a move's date the receiving one (the
        leaving one is responsible that day too); days before T0 fall to the first one."""
        chosen = None
        for period in self.periods:
            if chosen is None or period.starts_on <= day:
                chosen = period.municipality
        return chosen

    def was_responsible(self, municipality: str, day: date) -> bool:
        """Was ``municipality`` responsible on ``day``? A period runs from its start through
        the date of the move that ends it, both days included."""
        periods = self.periods
        if periods and periods[-1].municipality == municipality and day >= periods[-1].starts_on:
            return True  # the common case: the municipality responsible now
        for index, (holder, starts_on) in enumerate(periods):
            ends_on = periods[index + 1].starts_on if index + 1 < len(periods) else None
            if holder == municipality and starts_on <= day and (ends_on is None or day <= ends_on):
                return True
        return False

    # --- the invariants ----------------------------------------------------------------------

    def check(self, event: Event) -> None:
        """Raise the typed error for the first invariant ``event`` breaks, if any."""
        person = self.person
        if not self.opened:
            if not isinstance(event, ResponsibilityAssumed):
                raise CaseNotOpen(
                    "case '{person}' is not open: its first event must be ResponsibilityAssumed, "
                    "not {type}",
                    person=person,
                    type=event.type,
                )
            return
        if isinstance(event, ResponsibilityAssumed):
            raise CaseAlreadyOpen(
                "case '{person}' is already open (municipality {responsible} assumed "
                "responsibility); a case has exactly one ResponsibilityAssumed",
                person=person,
                responsible=self.responsible,
            )
        if self.closed and not isinstance(event, EventRetracted):
            raise CaseClosed(
                "case '{person}' is closed by PermitGranted (INL § 19 stk. 8); only "
                "EventRetracted is accepted",
                person=person,
            )
        self._check_limits(event)
        self._check_actor(event)
        self._check_references(event)

    def _check_limits(self, event: Event) -> None:
        """The legal limits the ledger enforces at append (code ``rule_violation``)."""
        day = event.occurred_on
        if self.t0 is not None and day < self.t0 and not self._may_predate_t0(event):
            rule = _rule(day, "before_t0")
            raise RuleViolation(
                "{type} on {day} is dated before T0 ({t0}) of case '{person}': nothing in a case "
                "is dated before the municipality took over responsibility, except a refugee's "
                "contract and declaration ({paragraph})",
                "occurred_on",
                type=event.type,
                day=day,
                t0=self.t0,
                person=self.person,
                paragraph=rule.paragraph,
            )
        match event:
            case TakeoverDecided(approved=False, ground="mandatory"):
                rule = _rule(day, "mandatory_takeover")
                raise RuleViolation(
                    "a takeover on the mandatory ground cannot be refused: the receiving "
                    "municipality must approve when the move matters significantly for "
                    "integration or special personal reasons apply ({paragraph})",
                    "approved",
                    paragraph=rule.paragraph,
                )
            case SanctionImposed(kind="suspension"):
                _check_suspension(event)
            case StatusRequested(due_on=due) if due < day:
                rule = _rule(day, "status_request_due")
                raise RuleViolation(
                    "due_on {due} is before the request was made ({day}): a status is due after "
                    "it is asked for ({paragraph})",
                    "due_on",
                    due=due,
                    day=day,
                    paragraph=rule.paragraph,
                )
            case _:
                pass

    def _may_predate_t0(self, event: Event) -> bool:
        return self.refugee and isinstance(event, BEFORE_T0_FOR_REFUGEES)

    def _check_actor(self, event: Event) -> None:
        """Is the acting municipality (or Udlændingestyrelsen) the one allowed to act?"""
        match event:
            case EventRetracted():
                self._check_correction(event)
            case SanctionOverturned():
                self._check_overturn(event)
            case MunicipalityMoved() | TakeoverDecided():
                self._check_move(event)
            case _:
                # A refugee's contract or declaration dated before T0 (the only events the
                # limits let through with such a date) is the first municipality's.
                day = max(event.occurred_on, self.t0 or event.occurred_on)
                if not self.was_responsible(event.municipality, day):
                    who = (
                        Phrase("a StatusRequested names the municipality responsible on its date")
                        if isinstance(event, StatusRequested)
                        else Phrase(
                            "a municipality records case actions only for days it was responsible"
                        )
                    )
                    self._not_responsible(event, who)

    def _not_responsible(self, event: Event, why: Phrase) -> NoReturn:
        rule = _rule(event.occurred_on, "responsibility_in_valid_time")
        raise NotResponsible(
            "municipality {municipality} was not responsible for case '{person}' on {occurred_on} "
            "({periods}); {why} ({paragraph})",
            "municipality",
            municipality=event.municipality,
            person=self.person,
            occurred_on=event.occurred_on,
            periods=self._describe_periods(),
            why=why,
            paragraph=rule.paragraph,
        )

    def _describe_periods(self) -> Phrase:
        periods = self.periods
        spans = []
        for index, (holder, starts_on) in enumerate(periods):
            if index + 1 < len(periods):
                spans.append(
                    Phrase(
                        "{holder} from {starts_on} to {ends_on}",
                        {
                            "holder": holder,
                            "starts_on": starts_on,
                            "ends_on": periods[index + 1].starts_on,
                        },
                    )
                )
            else:
                spans.append(
                    Phrase(
                        "{holder} from {starts_on} on", {"holder": holder, "starts_on": starts_on}
                    )
                )
        return Phrase("responsible: {spans}", {"spans": tuple(spans)})

    def _check_move(self, event: MunicipalityMoved | TakeoverDecided) -> None:
        """The person leaves the municipality responsible now; the municipality it moved to
        alone decides the takeover, once per move, on or after the move."""
        current = self.periods[-1]
        if event.municipality != current.municipality or event.occurred_on < current.starts_on:
            why = (
                Phrase("MunicipalityMoved is recorded by the municipality the person leaves")
                if isinstance(event, MunicipalityMoved)
                else Phrase("only the municipality the person moved to decides the takeover")
            )
            self._not_responsible(event, why)
        if isinstance(event, TakeoverDecided) and not self.takeover_pending:
            raise NotResponsible(
                "municipality {municipality} has no move awaiting a takeover decision in case "
                "'{person}' (INL § 18: one decision per move)",
                "municipality",
                municipality=event.municipality,
                person=self.person,
            )

    def _check_correction(self, event: EventRetracted) -> None:
        """Only whoever made a record retracts it, also after the person moved away."""
        target = self._live().get(event.retracts.int)
        if target is None:
            return  # not an event of this case: ``_check_references`` says so
        actor = recorder_of(event)
        if actor == target.recorder:
            return
        rule = _rule(event.occurred_on, "corrections_by_recorder")
        made_by = (
            "Udlændingestyrelsen"
            if target.recorder == IMMIGRATION_SERVICE
            else f"municipality {target.recorder}"
        )
        by = "Udlændingestyrelsen" if actor == IMMIGRATION_SERVICE else f"municipality {actor}"
        raise NotResponsible(
            "{by} may not retract {type} {retracts}: it was recorded by {made_by}, and a record "
            "is corrected only by whoever made it ({paragraph})",
            "recorded_by" if actor == IMMIGRATION_SERVICE else "municipality",
            by=by,
            type=target.type,
            retracts=event.retracts,
            made_by=made_by,
            paragraph=rule.paragraph,
        )

    def _check_overturn(self, event: SanctionOverturned) -> None:
        """A municipality overturns only its own sanction on reconsideration; Ankestyrelsen's
        decision is recorded by the imposing municipality or the one responsible when it
        arrives."""
        imposed_by = self.sanctions.get(event.sanction_id)
        if imposed_by is None or event.municipality == imposed_by:
            return  # an unknown sanction: ``_check_references`` says so
        if event.by == "municipality":
            rule = _rule(event.occurred_on, "corrections_by_recorder")
            raise NotResponsible(
                "municipality {municipality} may not overturn sanction '{sanction_id}' on "
                "reconsideration: municipality {imposed_by} imposed it, and only it reconsiders "
                "its own decision ({paragraph})",
                "municipality",
                municipality=event.municipality,
                sanction_id=event.sanction_id,
                imposed_by=imposed_by,
                paragraph=rule.paragraph,
            )
        if not self.was_responsible(event.municipality, event.occurred_on):
            self._not_responsible(
                event,
                Phrase(
                    "Ankestyrelsen's decision is recorded by the imposing municipality or the one "
                    "responsible when it arrives"
                ),
            )

    def _check_references(self, event: Event) -> None:
        person = self.person
        match event:
            case OfferRefused(offer_id=offer) | AbsenceRecorded(offer_id=offer):
                if offer not in self.offers:
                    raise UnknownOffer(
                        "offer '{offer}' was never made in case '{person}'",
                        "offer_id",
                        offer=offer,
                        person=person,
                    )
            case OfferMade(offer_id=offer) if offer in self.offers:
                raise InvalidField(
                    "offer '{offer}' was already made in case '{person}'; use a new offer_id",
                    "offer_id",
                    offer=offer,
                    person=person,
                )
            case SanctionOverturned(sanction_id=sanction) if sanction not in self.sanctions:
                raise UnknownSanction(
                    "sanction '{sanction}' was never imposed in case '{person}'",
                    "sanction_id",
                    sanction=sanction,
                    person=person,
                )
            case SanctionImposed(sanction_id=sanction, grounds=grounds):
                if sanction in self.sanctions:
                    raise InvalidField(
                        "sanction '{sanction}' was already imposed in case '{person}'",
                        "sanction_id",
                        sanction=sanction,
                        person=person,
                    )
                for index, ground in enumerate(grounds):
                    if ground not in self.incidents:
                        raise UnknownEvent(
                            "ground {ground} is not an absence or refusal in case '{person}'",
                            f"grounds[{index}]",
                            ground=ground,
                            person=person,
                        )
            case EventRetracted(retracts=target):
                record = self._live().get(target.int)
                if record is None:
                    unknown = (
                        N_("event {target} is already retracted an event of case '{person}'")
                        if target in self.retracted
                        else N_("event {target} is not an event of case '{person}'")
                    )
                    raise UnknownEvent(
                        unknown,
                        "retracts",
                        target=target,
                        person=person,
                    )
                if record.type in {cls.__name__ for cls in UNRETRACTABLE}:
                    raise InvalidField(
                        "a {type} cannot be retracted; record a correcting event instead",
                        "retracts",
                        type=record.type,
                    )
            case _:
                pass

    # --- the fold ----------------------------------------------------------------------------

    def _live(self) -> dict[int, Record]:
        if self.live is None:
            msg = "a case state kept without its live events cannot check a retraction"
            raise RuntimeError(msg)
        return self.live

    def apply(self, event: Event) -> None:
        """Advance the state by one accepted event (after a retraction: ``fold_case``)."""
        if self.live is not None:
            self.live[event.event_id.int] = record_of(event)
        match event:
            case ResponsibilityAssumed(municipality=municipality, occurred_on=t0):
                self.t0 = t0
                self.refugee = event.category == "refugee"
                self.periods = [Period(municipality, t0)]
            case MunicipalityMoved(to_municipality=to):
                self.periods.append(Period(to, event.occurred_on))
                self.takeover_pending = True
            case TakeoverDecided():
                self.takeover_pending = False
            case OfferMade(offer_id=offer):
                self.offers.add(offer)
            case SanctionImposed(sanction_id=sanction):
                self.sanctions[sanction] = event.municipality
            case PermitGranted():
                self.closed = True
            case _ if isinstance(event, INCIDENT_TYPES):
                self.incidents.add(event.event_id)
            case _:
                pass


def _check_suspension(event: SanctionImposed) -> None:
    """AKL § 40 a stk. 1: help is suspended for at most 3 calendar months. A suspension
    without ``starts_on`` starts on the day it is imposed (``occurred_on``); one without
    ``ends_on`` is refused: an open-ended suspension cannot be shown to keep to the limit."""
    rule = _rule(event.occurred_on, "suspension")
    months = rule.number
    if event.ends_on is None:
        raise RuleViolation(
            "a suspension must name its ends_on: help is suspended for at most {months} months "
            "({paragraph}), and an open-ended suspension may last longer",
            "ends_on",
            months=months,
            paragraph=rule.paragraph,
        )
    starts_on = event.starts_on or event.occurred_on
    latest_end = add_months(starts_on, months)
    if event.ends_on > latest_end:
        raise RuleViolation(
            "a suspension from {starts_on} to {ends_on} lasts more than {months} months (it may "
            "end on {latest_end} at the latest, {paragraph})",
            "ends_on",
            starts_on=starts_on,
            ends_on=event.ends_on,
            months=months,
            latest_end=latest_end,
            paragraph=rule.paragraph,
        )


class KeptStates:
    """The folded case states a writer keeps between appends, so that an append advances its
    case's state rather than folding it again; the least recently used are forgotten first.

    Kept without the records of their live events (``CaseState.live``): those grew with every
    event, and only a retraction needs them. Bounded by what the kept states hold
    (``CaseState.weight``), not by their number: a state's offers, incidents and sanctions grow
    with its case, so a few long cases weigh as much as many short ones. Not by the events they
    describe either: a case of contact attempts holds no more for being long, and a bound by
    events forgot, once the cases appended to in turn described more than it, each case just
    before its next append (least recently used, in turn), so that every append folded its
    case again. The state used last is kept whatever it holds."""

    def __init__(self, entries: int) -> None:
        self.entries = entries  # the bound
        self._kept: OrderedDict[UUID, tuple[CaseState, int]] = OrderedDict()
        self._held = 0  # the entries the kept states hold

    def __contains__(self, oid: UUID) -> bool:
        return oid in self._kept

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def held(self) -> int:
        return self._held

    def __getitem__(self, oid: UUID) -> CaseState:
        state = self.get(oid)
        if state is None:
            raise KeyError(oid)
        return state

    def get(self, oid: UUID) -> CaseState | None:
        kept = self._kept.get(oid)
        if kept is None:
            return None
        self._kept.move_to_end(oid)
        return kept[0]

    def keep(self, oid: UUID, state: CaseState) -> None:
        state.live = None
        self.forget(oid)
        weight = state.weight()
        self._kept[oid] = (state, weight)
        self._held += weight
        while self._held > self.entries and len(self._kept) > 1:
            _, (_, dropped) = self._kept.popitem(last=False)
            self._held -= dropped

    def forget(self, oid: UUID) -> None:
        kept = self._kept.pop(oid, None)
        if kept is not None:
            self._held -= kept[1]

    def clear(self) -> None:
        self._kept.clear()
        self._held = 0


def fold_case(person: str, events: Iterable[Event]) -> CaseState:
    """The case state after ``events`` (in recording order), honouring retractions."""
    history = list(events)
    retracted = {e.retracts for e in history if isinstance(e, EventRetracted)}
    live: dict[int, Record] = {}
    state = CaseState(person=person, version=len(history), live=live)
    for event in history:
        if isinstance(event, EventRetracted):
            live[event.event_id.int] = record_of(event)
        elif event.event_id not in retracted:
            state.apply(event)
    state.retracted = retracted
    return state
