"""The read service: the one path by which every face reads a projection or a worklist.

A read names its reader (a municipality, Udlændingestyrelsen, an investigator, or the operator
at the command line, who sees everything), the question (``When``: valid time, transaction time,
rule pack revision) and the person. The service decides whether the reader may see the case at
all (a municipality only a case it is responsible for now; anything else is answered exactly as
an unknown person is), folds the projection over the **whole** case (from the materialised row
when it answers the question, otherwise live), and then, for a reader who may not see a
category of other municipalities' events (``ledger.disclosure``), nulls the values derived from
it: the body says ``"redacted": true``, lists ``withheld``, and its digest covers the redacted
body. A conclusion is never recomputed over part of a case (DOMAIN.md, "Data sharing").

What a read disclosed, or that it was refused, comes back as an ``Access`` for the face to write
to its access log; the faces (``cli.views``, ``api.service``) compute and filter nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any, Literal, NamedTuple

import msgspec

from ledger.application import Ledger
from ledger.case import fold_case
from ledger.clock import today_in_denmark
from ledger.disclosure import (
    WITHHELD_FIELDS,
    Disclosure,
    Withheld,
    disclose,
    investigation,
)
from ledger.errors import Forbidden, InvalidField, UnknownPerson
from ledger.municipalities import is_kommunekode
from ledger.records import StoredCaseEvent
from ledger.rulepacks import LATEST_REVISION, check_revision
from projections.common import to_json
from projections.deadlines import worklist as fold_worklist
from projections.materialised import Views, render
from projections.replay import ReplayStep
from projections.replay import replay as fold_replay
from projections.status import digest_of

Role = Literal["operator", "municipality", "immigration_service", "investigator"]

# Which projections each reader may ask for (INTERFACE.md, "HTTP API").
KINDS_BY_ROLE: dict[Role, tuple[str, ...]] = {
    "operator": ("status", "sanctions", "history"),
    "investigator": ("status", "sanctions", "history"),
    "municipality": ("status", "sanctions", "history"),
    "immigration_service": ("status",),
}
REFUSED = "refused: the person is unknown, or not a case this municipality is responsible for now"

_json = msgspec.json.Decoder()


class Reader(NamedTuple):
    """Who reads: ``id`` names the token (or ``operator`` at the command line)."""

    role: Role
    municipality: str | None = None
    id: str = "operator"

    @classmethod
    def parse(cls, text: str) -> Reader:
        """A reader as the command line names one: a kommunekode, ``immigration_service``,
        ``investigator`` or ``operator``."""
        if is_kommunekode(text):
            return cls("municipality", text)
        if text in ("operator", "immigration_service", "investigator"):
            return cls(text)  # type: ignore[arg-type]
        raise InvalidField(
            f"{text!r} is not a reader: a kommunekode, immigration_service, investigator or "
            "operator",
            "reader",
        )


class When(NamedTuple):
    """The question: the case on ``as_of`` (default today), as known at ``known_at`` (default
    now), under rule pack revision ``revision`` (default the latest)."""

    as_of: date | None = None
    known_at: datetime | None = None
    revision: int | None = None

    @property
    def materialised(self) -> bool:
        """Is this the question the view rows answer: today, as known now, latest revision?"""
        return (
            self.known_at is None
            and self.as_of in (None, today_in_denmark())
            and self.revision in (None, LATEST_REVISION)
        )


class Access(NamedTuple):
    """One access-log entry a read asks its face to write."""

    person: str
    action: str
    categories: tuple[str, ...]
    legal_basis: tuple[str, ...]


class Read(NamedTuple):
    body: bytes
    withheld: tuple[str, ...]  # categories withheld from the reader
    access: Access | None


class NotVisible(UnknownPerson):
    """A read the reader may not make, answered exactly as an unknown person is; ``access``
    is the refusal to log."""

    def __init__(self, person: str, access: Access) -> None:
        super().__init__(f"the ledger holds no case for person '{person}'", "person")
        self.access = access


class ReadService:
    def __init__(self, ledger: Ledger, views: Views) -> None:
        self.ledger = ledger
        self.views = views

    # --- projections ---------------------------------------------------------------------------

    @staticmethod
    def from_row(
        kind: str, reader: Reader, when: When, row: tuple[str, bytes] | None
    ) -> Read | None:
        """The answer straight from a materialised row ``(as_of, body)``, when the reader needs
        neither the case (to check who may see it) nor a log entry; None otherwise."""
        if (
            not needs_case(reader)
            and kind in KINDS_BY_ROLE[reader.role]
            and when.materialised
            and row is not None
            and row[0] == today_in_denmark().isoformat()
        ):
            return Read(row[1], (), None)
        return None

    def projection(
        self, kind: str, person: str, reader: Reader, when: When, *, rows: bool = True
    ) -> Read:
        """``kind`` of ``person`` as ``reader`` may see it; ``rows``: may the materialised rows
        answer (False while they lag behind a position the caller waits for)."""
        _allowed(kind, reader)
        revision = check_revision(when.revision)
        stored = None
        if rows and when.materialised:
            row = self.views.recorder.select_view(person, kind)
            stored = None if row is None else self.views.opened(row)
            served = self.from_row(kind, reader, when, stored)
            if served is not None:
                return served
        events = self._case(person, reader, kind)
        if stored is not None and stored[0] == today_in_denmark().isoformat():
            return seen_by(kind, person, reader, events, stored[1])
        as_of = when.as_of or today_in_denmark()
        body = render(kind, person, events, as_of, when.known_at, revision)[1]
        return seen_by(kind, person, reader, events, body)

    def events(self, person: str, reader: Reader) -> tuple[list[StoredCaseEvent], Access]:
        """The stored events of a case, for an investigator (or the operator)."""
        if reader.role not in ("operator", "investigator"):
            raise Forbidden(f"the {reader.role} role may not read raw events", "person")
        events = self.ledger.case_events(person, open_personal=True)
        seen = investigation(events)
        return events, Access(person, "events", seen.disclosed, seen.bases)

    def replay(
        self,
        person: str,
        reader: Reader,
        until: tuple[int | None, date | None],
        revision: int | None = None,
    ) -> tuple[list[ReplayStep], Access | None]:
        """The case event by event up to ``until`` (a position, a date), with the rules that
        fired: for an investigator (the web pages; the read is logged) or the operator."""
        if reader.role not in ("operator", "investigator"):
            raise Forbidden(f"the {reader.role} role may not replay a case", "person")
        revision = check_revision(revision)
        events = self.ledger.case_events(person, open_personal=False)
        steps = fold_replay(person, events, *until, revision)
        if reader.role == "operator":
            return steps, None
        seen = investigation(events)
        return steps, Access(person, "replay", seen.disclosed, seen.bases)

    def _case(self, person: str, reader: Reader, kind: str) -> list[StoredCaseEvent]:
        if reader.role != "municipality":
            return self.ledger.case_events(person, open_personal=False)
        refused = Access(person, kind, (), (REFUSED,))
        try:
            events = self.ledger.case_events(person, open_personal=False)
        except UnknownPerson:
            raise NotVisible(person, refused) from None
        if _responsible(person, events) != reader.municipality:
            raise NotVisible(person, refused)
        return events

    # --- the worklist --------------------------------------------------------------------------

    def worklist(
        self, reader: Reader, municipality: str, on: date | None, revision: int | None = None
    ) -> tuple[bytes, list[Access]]:
        """What ``municipality`` has due or overdue in the cases it is responsible for, each
        case folded whole and redacted as that municipality may see it; with the access to log
        for each case whose worklist items rest on other municipalities' events."""
        revision = check_revision(revision)
        if reader.role != "operator" and reader.municipality != municipality:
            raise Forbidden(
                f"a reader of municipality {reader.municipality} reads only its own worklist",
                "code",
            )
        day = on or today_in_denmark()
        items: list[tuple[Any, dict[str, Any], list[tuple[str, str]]]] = []
        accesses: list[Access] = []
        for person in self.views.persons_of(municipality):
            # The view rows name who was responsible when they were computed; the events decide.
            events = self.ledger.case_events(person, open_personal=False)
            if _responsible(person, events) != municipality:
                continue
            case = fold_worklist(municipality, [(person, events)], day, revision)
            view: dict[str, Any] = msgspec.to_builtins(case)
            seen = disclose(events, municipality)
            if case.items and seen.disclosed:
                accesses.append(Access(person, "deadlines", seen.disclosed, seen.bases))
            nulled = redact("deadlines", view, seen) if seen.withheld else []
            for index, (full, shown) in enumerate(zip(case.items, view["items"], strict=True)):
                prefix = f"items[{index}]"
                mine = [
                    (c, p[len(prefix) :])
                    for c, p in nulled
                    if p == prefix or p.startswith((f"{prefix}.", f"{prefix}["))
                ]
                items.append(((full.due_on, full.person, full.kind), shown, mine))
        items.sort(key=lambda item: item[0])
        nulled_all = [
            (category, f"items[{index}]{rest}")
            for index, (_, _, mine) in enumerate(items)
            for category, rest in mine
        ]
        categories = _categories(nulled_all)
        body: dict[str, Any] = msgspec.to_builtins(fold_worklist(municipality, [], day, revision))
        body["items"] = [shown for _, shown, _ in items]
        if categories or "redacted" in body:  # revision 1 worklists predate the keys
            body["redacted"] = bool(categories)
            body["withheld"] = msgspec.to_builtins(_withheld(categories, nulled_all))
        return to_json(body), accesses


def seen_by(
    kind: str,
    person: str,
    reader: Reader,
    events: Sequence[StoredCaseEvent],
    body: bytes,
) -> Read:
    """A projection body folded over the whole case, as ``reader`` may see it: redacted for a
    municipality that may not see a category, with the access it asks to have logged."""
    if reader.role == "investigator":
        seen = investigation(events)
        return Read(body, (), Access(person, kind, seen.disclosed, seen.bases))
    if reader.role != "municipality" or reader.municipality is None:
        return Read(body, (), None)
    seen = disclose(events, reader.municipality)
    access = Access(person, kind, seen.disclosed, seen.bases) if seen.disclosed else None
    if not seen.withheld:
        return Read(body, (), access)
    view: dict[str, Any] = _json.decode(body)
    nulled = redact(kind, view, seen)
    if not nulled:  # nothing in this projection derives from what is withheld
        return Read(body, seen.withheld, access)
    view["redacted"] = True
    view["withheld"] = msgspec.to_builtins(_withheld(_categories(nulled), nulled))
    if "digest" in view:
        view["digest"] = digest_of(view)
    return Read(msgspec.json.encode(view), seen.withheld, access)


def needs_case(reader: Reader) -> bool:
    """Must the case be loaded before anything is shown: to decide whether the reader may see
    it and what of it, or to log the read? Not for the operator or Udlændingestyrelsen."""
    return reader.role in ("municipality", "investigator")


def _allowed(kind: str, reader: Reader) -> None:
    if kind not in KINDS_BY_ROLE[reader.role]:
        raise Forbidden(f"the {reader.role} role may not read the {kind} projection", "kind")


def _responsible(person: str, events: Sequence[StoredCaseEvent]) -> str | None:
    return fold_case(person, (stored.event for stored in events)).responsible


def _categories(nulled: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """The categories that nulled anything: the ones a body lists as withheld."""
    return tuple(sorted({category for category, _ in nulled}))


def _withheld(categories: Sequence[str], nulled: Sequence[tuple[str, str]]) -> list[Withheld]:
    return [
        Withheld(category, [path for c, path in nulled if c == category]) for category in categories
    ]


# --- redaction ----------------------------------------------------------------------------------

_STEP = re.compile(r"([A-Za-z_]\w*)|\[(\*|@|\?\w+=\w+)\]|\.")


def _steps(path: str) -> list[str]:
    """``a.b[*].c`` as ``["a", "b", "[*]", "c"]``."""
    steps = []
    position = 0
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            raise ValueError(f"not a field path: {path!r}")
        if match.group(1):
            steps.append(match.group(1))
        elif match.group(2):
            steps.append(f"[{match.group(2)}]")
        position = match.end()
    return steps


Location = tuple[str, Any, Any]  # concrete path, container, key or index


def locate(view: Any, path: str, ids: frozenset[str] = frozenset()) -> list[Location]:
    """Every place in ``view`` that ``path`` names (``ids``: the events ``[@]`` selects)."""
    return list(_locate(view, _steps(path), "", ids))


def _locate(node: Any, steps: Sequence[str], path: str, ids: frozenset[str]) -> Iterator[Location]:
    step, rest = steps[0], steps[1:]
    if not step.startswith("["):
        if not isinstance(node, dict) or step not in node:
            return
        places: list[tuple[str, Any]] = [(f"{path}.{step}" if path else step, step)]
    elif isinstance(node, list):
        places = [(f"{path}[{i}]", i) for i, item in enumerate(node) if _selects(step, item, ids)]
    else:
        return
    for here, key in places:
        if rest:
            yield from _locate(node[key], rest, here, ids)
        else:
            yield here, node, key


def _selects(step: str, item: Any, ids: frozenset[str]) -> bool:
    if step == "[*]":
        return True
    if step == "[@]":
        named = item.get("event_id") if isinstance(item, dict) else item
        return isinstance(named, str) and named in ids
    key, _, value = step[2:-1].partition("=")
    return isinstance(item, dict) and str(item.get(key)) == value


def redact(kind: str, view: dict[str, Any], seen: Disclosure) -> list[tuple[str, str]]:
    """Null, in ``view``, every value of a ``kind`` projection derived from a category withheld
    from the reader; returns each (category, path) nulled. Every location is found before any
    is nulled, so a value nulled as part of a larger one is still named."""
    found = [
        (category, location)
        for category in seen.withheld
        for path in WITHHELD_FIELDS[kind][category]
        for location in locate(view, path, seen.withheld_events.get(category, frozenset()))
    ]
    for _, (_, container, key) in found:
        container[key] = None
    return [(category, location[0]) for category, location in found]
