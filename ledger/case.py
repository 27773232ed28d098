"""The case: what the ledger must know about one person's stream to accept the next event.

``CaseState`` is a small fold over the live (not retracted) events of one person. ``check``
enforces every case invariant of DOMAIN.md and raises the typed error with the field it
concerns; ``apply`` advances the state. A retraction changes what is live, so the caller
refolds the whole stream after one (retractions are rare; appends of other events are O(1)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from ledger.errors import (
    CaseAlreadyOpen,
    CaseClosed,
    CaseNotOpen,
    InvalidField,
    NotResponsible,
    UnknownEvent,
    UnknownOffer,
    UnknownSanction,
)
from ledger.events import (
    INCIDENT_TYPES,
    AbsenceRecorded,
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

GENESIS_HASH = "0" * 64
UNRETRACTABLE = (ResponsibilityAssumed, EventRetracted)


@dataclass(slots=True)
class CaseState:
    person: str
    version: int = 0
    head_hash: str = GENESIS_HASH
    opened: bool = False
    responsible: str | None = None
    takeover_pending: bool = False
    closed: bool = False
    offers: set[str] = field(default_factory=set)
    sanctions: set[str] = field(default_factory=set)
    incidents: set[UUID] = field(default_factory=set)
    live: dict[UUID, str] = field(default_factory=dict)
    retracted: set[UUID] = field(default_factory=set)

    def copy(self) -> CaseState:
        return CaseState(
            person=self.person,
            version=self.version,
            head_hash=self.head_hash,
            opened=self.opened,
            responsible=self.responsible,
            takeover_pending=self.takeover_pending,
            closed=self.closed,
            offers=set(self.offers),
            sanctions=set(self.sanctions),
            incidents=set(self.incidents),
            live=dict(self.live),
            retracted=set(self.retracted),
        )

    # --- the invariants ----------------------------------------------------------------------

    def check(self, event: Event) -> None:
        """Raise the typed error for the first invariant ``event`` breaks, if any."""
        person = self.person
        if not self.opened:
            if not isinstance(event, ResponsibilityAssumed):
                raise CaseNotOpen(
                    f"case '{person}' is not open: its first event must be "
                    f"ResponsibilityAssumed, not {event.type}"
                )
            return
        if isinstance(event, ResponsibilityAssumed):
            raise CaseAlreadyOpen(
                f"case '{person}' is already open (municipality {self.responsible} assumed "
                "responsibility); a case has exactly one ResponsibilityAssumed"
            )
        if self.closed and not isinstance(event, EventRetracted):
            raise CaseClosed(
                f"case '{person}' is closed by PermitGranted (INL § 19 stk. 8); only "
                "EventRetracted is accepted"
            )
        self._check_responsibility(event)
        self._check_references(event)

    def _check_responsibility(self, event: Event) -> None:
        if event.municipality != self.responsible:
            who = (
                "the responsible municipality named by StatusRequested"
                if isinstance(event, StatusRequested)
                else "only the responsible municipality records case actions"
            )
            raise NotResponsible(
                f"municipality {event.municipality} is not responsible for case "
                f"'{self.person}' (responsible: {self.responsible}); {who}",
                "municipality",
            )
        if isinstance(event, TakeoverDecided) and not self.takeover_pending:
            raise NotResponsible(
                f"municipality {event.municipality} has no move awaiting a takeover decision "
                f"in case '{self.person}' (INL § 18: one decision per move)",
                "municipality",
            )

    def _check_references(self, event: Event) -> None:
        person = self.person
        match event:
            case OfferRefused(offer_id=offer) | AbsenceRecorded(offer_id=offer):
                if offer not in self.offers:
                    raise UnknownOffer(
                        f"offer '{offer}' was never made in case '{person}'", "offer_id"
                    )
            case OfferMade(offer_id=offer) if offer in self.offers:
                raise InvalidField(
                    f"offer '{offer}' was already made in case '{person}'; use a new offer_id",
                    "offer_id",
                )
            case SanctionOverturned(sanction_id=sanction) if sanction not in self.sanctions:
                raise UnknownSanction(
                    f"sanction '{sanction}' was never imposed in case '{person}'",
                    "sanction_id",
                )
            case SanctionImposed(sanction_id=sanction, grounds=grounds):
                if sanction in self.sanctions:
                    raise InvalidField(
                        f"sanction '{sanction}' was already imposed in case '{person}'",
                        "sanction_id",
                    )
                for index, ground in enumerate(grounds):
                    if ground not in self.incidents:
                        raise UnknownEvent(
                            f"ground {ground} is not an absence or refusal in case '{person}'",
                            f"grounds[{index}]",
                        )
            case EventRetracted(retracts=target):
                kind = self.live.get(target)
                if kind is None:
                    state = "already retracted" if target in self.retracted else "not"
                    raise UnknownEvent(
                        f"event {target} is {state} an event of case '{person}'", "retracts"
                    )
                if kind in {cls.__name__ for cls in UNRETRACTABLE}:
                    raise InvalidField(
                        f"a {kind} cannot be retracted; record a correcting event instead",
                        "retracts",
                    )
            case _:
                pass

    # --- the fold ----------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Advance the state by one accepted event (a retraction: see ``refold``)."""
        self.live[event.event_id] = event.type
        match event:
            case ResponsibilityAssumed(municipality=municipality):
                self.opened = True
                self.responsible = municipality
            case MunicipalityMoved(to_municipality=to):
                self.responsible = to
                self.takeover_pending = True
            case TakeoverDecided():
                self.takeover_pending = False
            case OfferMade(offer_id=offer):
                self.offers.add(offer)
            case SanctionImposed(sanction_id=sanction):
                self.sanctions.add(sanction)
            case PermitGranted():
                self.closed = True
            case _ if isinstance(event, INCIDENT_TYPES):
                self.incidents.add(event.event_id)
            case _:
                pass


def fold_case(person: str, events: Iterable[Event]) -> CaseState:
    """The case state after ``events`` (in recording order), honouring retractions."""
    history = list(events)
    retracted = {e.retracts for e in history if isinstance(e, EventRetracted)}
    state = CaseState(person=person, version=len(history))
    for event in history:
        if isinstance(event, EventRetracted):
            state.live[event.event_id] = event.type
        elif event.event_id not in retracted:
            state.apply(event)
    state.retracted = retracted
    return state
