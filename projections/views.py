"""The read service: the one path by which every face reads a projection, a worklist or the
status feed, and by which the materialised views are kept.

**Keeping the views.** ``Views`` keeps one row per person and view kind (``projections.rows``)
current: a tracking recorder (eventsourcing's, extended with the view table,
``ledger.stores.views``) writes every batch of view rows together with the position it has
processed, and a row only over an older one, so a batch is applied exactly once. After an append the
faces call ``follow`` (the command line at once, a server from its projector). Rows are sealed as
stored: encrypted under the store's cipher when it has one, and each with the digest of what it
stores; a row that no longer matches it is never served, the live fold answers instead, and
``verify`` reports the row. Each batch also announces, in the status feed, the status reports it
wrote (``ledger.stores.views``: in the same transaction, in commit order). Rows are for the Danish
day they were computed on: when the day changes, ``reevaluate`` (a server's projector on its first
poll of the day, or ``ledger reevaluate``) folds the open cases again for the new day and announces
the reports whose values moved. Views are never the source of truth: ``projections.rebuild``
recomputes them from the events. ``ServedViews`` reads the same rows on the HTTP face's event loop,
through the async store: the rows of a wave of requests, the status feed (held for its next item
when asked to wait), and the wait for a position a caller wrote (read-your-writes).

**Reading.** A read names its reader (a municipality, Udlændingestyrelsen, an investigator, or
the operator at the command line, who sees everything), the question (``When``: valid time,
transaction time, rule pack revision) and the person. ``ReadService`` decides whether the reader
may see the case at all (a municipality only a case it is responsible for now; anything else is
answered exactly as an unknown person is), folds the projection over the **whole** case (from
the materialised row when it answers the question, otherwise live), and then, for a reader who
may not see a category of other municipalities' events (``ledger.disclosure``), nulls the values
derived from it: the body says ``"redacted": true``, lists ``withheld``, and its digest covers
the redacted body. A conclusion is never recomputed over part of a case (DOMAIN.md, "Data
sharing").

What a read disclosed, or that it was refused, comes back as an ``Access`` for the face to write
to its access log; the faces (``cli.views``, ``api.service``) compute and filter nothing.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from functools import cached_property
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from uuid import UUID

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import IntegrityError, OperationalError, Tracking

from ledger.application import Failure, Ledger, VerifyReport
from ledger.case import fold_case
from ledger.clock import today_in_denmark
from ledger.disclosure import (
    WITHHELD_FIELDS,
    Disclosure,
    Withheld,
    disclose,
    investigation,
)
from ledger.errors import NO_CASE, Forbidden, InvalidField, UnknownPerson
from ledger.faults import store_fault, unreachable
from ledger.i18n import N_
from ledger.municipalities import is_kommunekode
from ledger.records import StoredCaseEvent, stream_id
from ledger.retry import pauses
from ledger.rulepacks import LATEST_REVISION, check_revision
from ledger.stores.base import chunks
from ledger.stores.views import PAGE, VIEWS_NAME, Announced, FeedItem, ViewRecorder, ViewRow
from projections.common import to_json
from projections.deadlines import worklist as fold_worklist
from projections.recent import Case, RecentCases
from projections.replay import ReplayStep
from projections.replay import replay as fold_replay
from projections.rows import body_digest, packed, render, report_changed, unpacked, view_rows
from projections.status import digest_of

if TYPE_CHECKING:  # the command line's reads never load asyncio and the async drivers
    from ledger.stores import Notification
    from ledger.stores.aio import AsyncStore

STREAMS_PER_READ = 50
MAX_CONFLICTS = 20
Progress = Callable[[int], None]


# --- keeping the views ---------------------------------------------------------------------------


class Views:
    """Keeps the materialised views of one ledger, and reads them."""

    def __init__(self, ledger: Ledger, *, remember: int = 0) -> None:
        """``remember``: how many decoded events of the cases it folded last the views keep
        between catch-ups (``projections.recent``; a server's projector, which follows the log
        for as long as it runs)."""
        self.ledger = ledger
        self.recent = RecentCases(remember)
        self.refused_rows = 0  # stored rows not served: they did not match their digests
        self._day_seen: str | None = None  # the Danish day ``follow_day`` last re-evaluated for

    @cached_property
    def recorder(self) -> ViewRecorder:
        """Opened on first use: making a ``Views`` never reaches the store, so ``follow``
        answers for a store that does not answer."""
        return self.ledger.view_recorder()

    def position(self) -> int:
        return self.recorder.max_tracking_id(VIEWS_NAME) or 0

    def sealed(self, rows: list[ViewRow]) -> list[ViewRow]:
        """Rows as stored, with their digests: long bodies compressed (``packed``), then
        encrypted under the store's cipher, when it has one (the views hold whole case
        histories and must not be the clear copy of an encrypted store)."""
        rows = [row._replace(body=packed(row.body)) for row in rows]
        cipher = self.ledger.mapper.cipher
        if cipher is not None:
            rows = [row._replace(body=cipher.encrypt(row.body)) for row in rows]
        return [row._replace(body_digest=body_digest(row)) for row in rows]

    def open_body(self, body: bytes) -> bytes:
        """A stored view body as JSON: decrypted when the store has a cipher, and unpacked."""
        cipher = self.ledger.mapper.cipher
        return unpacked(body if cipher is None else cipher.decrypt(body))

    def served(self, row: ViewRow) -> bytes | None:
        """A stored row's body, if it may be served (counted in ``refused_rows`` when not)."""
        body = self._checked(row)
        if body is None:
            self.refused_rows += 1
        return body

    def _checked(self, row: ViewRow) -> bytes | None:
        """A stored row's body; None when it does not match its digest (or, encrypted, does
        not decrypt)."""
        if row.body_digest != body_digest(row):
            return None
        try:
            return self.open_body(row.body)
        except (ValueError, zlib.error):  # the cipher's refusal of a changed ciphertext
            return None

    def opened(self, row: ViewRow) -> tuple[str, bytes] | None:
        """``(as_of, body)`` of a stored row that may be served; None otherwise."""
        body = self.served(row)
        return None if body is None else (row.as_of, body)

    def stored(self, person: str, kind: str) -> tuple[str, bytes] | None:
        """``(as_of, body)`` of the stored ``kind`` row of ``person``, when there is one that
        may be served."""
        row = self.recorder.select_view(person, kind)
        return None if row is None else self.opened(row)

    def verify(
        self,
        person: str | None = None,
        progress: Progress | None = None,
        public_key: Ed25519PublicKey | None = None,
    ) -> VerifyReport:
        """``Ledger.verify``, and the view rows: each must match its digest and reflect no
        position beyond its case's last stored event (the views remember events that a
        deletion took from the store, checkpoint or not)."""
        ends: dict[str, int] = {}
        report = self.ledger.verify(person, progress, public_key=public_key, ends=ends)
        reported = {failure.position for failure in report.failures}
        found: list[Failure] = []
        for row in self.recorder.iter_views(person):
            if self._checked(row) is None:
                found.append(
                    Failure(
                        row.position,
                        row.person,
                        0,
                        f"the materialised {row.kind} view does not match its digest; it is not "
                        "served (`ledger rebuild` writes it again)",
                    )
                )
            end = ends.get(row.person, 0)
            if row.position > end and row.position not in reported and self._gone(row.position):
                reported.add(row.position)
                found.append(
                    Failure(
                        row.position,
                        row.person,
                        0,
                        f"missing: the materialised {row.kind} view reflects an event of "
                        f"{row.person} at this position, which is not stored "
                        f"(the case's last stored event is at position {end})",
                    )
                )
        if not found:
            return report
        failures = sorted([*report.failures, *found], key=lambda failure: failure.position)
        return msgspec.structs.replace(
            report, ok=False, first_failure=failures[0], failures=failures[:100]
        )

    def _gone(self, position: int) -> bool:
        """Is nothing stored at a position? (One that was appended after verify read the
        events is stored: never a finding.)"""
        found = self.ledger.notifications(position - 1, 1)
        return not found or found[0].id != position

    def catch_up(self, progress: Progress | None = None, max_pages: int | None = None) -> int:
        """Apply stored events the views have not seen (all of them, or ``max_pages`` pages
        of them, so a server's writer is not held up by a long backlog); returns the new
        position."""
        pages = 0
        # Bounded: a deadlock or lock time-out with another projector is tried again at most
        # MAX_CONFLICTS times.
        backoff = islice(pauses(0.01, 0.2, jitter=True), MAX_CONFLICTS)
        while max_pages is None or pages < max_pages:
            after = self.position()
            page = self.ledger.notifications(after, PAGE)
            if not page:
                return after
            cases = self._cases_of(after, page)
            rows, announced = self._rows_of(cases)
            # One order for every writer, so concurrent projectors lock rows alike.
            rows.sort(key=lambda r: (r.person, r.kind))
            announced.sort(key=lambda item: item.position)  # the feed follows the log
            try:
                self.recorder.write_views(rows, Tracking(VIEWS_NAME, page[-1].id), announced)
            except IntegrityError:
                continue  # another process applied this page first: start again from there
            except OperationalError:
                # A deadlock or lock time-out with another projector: it rolled back, so
                # nothing was applied; try again from the tracked position, boundedly.
                delay = next(backoff, None)
                if delay is None:
                    raise
                time.sleep(delay)
                continue
            self.recent.applied(page[-1].id)
            pages += 1
            if progress is not None:
                progress(len(page))
        return self.position()

    def follow(self, most: int | None = None) -> str | None:
        """Catch up after an append (the command line's, or a server's group commit): with
        ``most``, only when at most that many events wait (a whole import's folding is not the
        append's to pay). A store that refuses leaves the views behind and the append
        committed, and every read still answers: returns why, for the face to say."""
        faults: tuple[type[Exception], ...] = (*unreachable(), OSError)
        try:
            if most is None or self.ledger.head_position() - self.position() <= most:
                self.catch_up()
        except faults as exc:
            return store_fault(exc).message
        return None

    def follow_day(self) -> Reevaluated | None:
        """A server projector's look at the calendar, on every poll: ``reevaluate`` once the
        Danish day has changed (the store decides which process does it); None on other
        polls."""
        day = today_in_denmark().isoformat()
        if day == self._day_seen:
            return None
        done = self.reevaluate()
        self._day_seen = done.day
        return done

    def _cases_of(self, after: int, page: Sequence[Notification]) -> Iterator[Case]:
        """The cases a page of the log touches, each whole up to the page's end: those the
        views remember extended by the page's events, the others read from the store a few
        at a time (one trip for many persons, and never more than STREAMS_PER_READ whole
        cases read at once)."""
        new: dict[UUID, list[StoredCaseEvent]] = {}
        for stored in self.ledger.stored_of(page):
            new.setdefault(stream_id(stored.event.person), []).append(stored)

        def read(oids: list[UUID]) -> Iterator[list[StoredCaseEvent]]:
            for some in chunks(oids, STREAMS_PER_READ):
                yield from self.ledger.cases_of(some, open_personal=False)

        return self.recent.cases((after, page[-1].id), new, read)

    def _rows_of(self, cases: Iterable[Case]) -> tuple[list[ViewRow], list[Announced]]:
        """The view rows of ``cases`` for today, and the feed items announcing their status
        reports (a new event changes a report: its position at least)."""
        today = today_in_denmark()
        rows: list[ViewRow] = []
        announced: list[Announced] = []
        for events in cases:
            case = view_rows(events[0].event.person, events, today)
            rows += self.sealed(case.rows)
            announced.append(case.announced)
        return rows, announced

    def reevaluate(self, progress: Progress | None = None, *, force: bool = False) -> Reevaluated:
        """When the Danish day has changed since the views were last re-evaluated: fold again
        the open cases whose rows are for an earlier day, rewrite their rows for today, and
        announce in the feed each person whose status report changed beyond its stamps
        (``report_changed``). A case that has ended (``CaseState.closed``) is left as it is.
        The day is claimed in the store first, so of several processes on one store one does
        it; ``force`` goes over the stale rows even when the day was claimed already (the
        command line: it finishes what a process stopped during a re-evaluation left)."""
        day = today_in_denmark().isoformat()
        claimed = self.recorder.claim_day(day)
        if not claimed and not force:
            return Reevaluated(day, 0, 0)
        rewritten = announced_count = 0
        after = ""
        while stale := self.recorder.stale_statuses(day, after, STREAMS_PER_READ):
            after = stale[-1].person
            rows, announced = self._refolded(stale, date.fromisoformat(day))
            persons, items = self.recorder.write_reevaluated(rows, announced, day)
            rewritten += persons
            announced_count += items
            if progress is not None:
                progress(len(stale))
        return Reevaluated(day, rewritten, announced_count)

    def _refolded(
        self, stale: Sequence[ViewRow], today: date
    ) -> tuple[list[ViewRow], list[Announced]]:
        """The rows of the open cases among ``stale`` (status rows) for ``today``, and the
        items of those whose report changed beyond its stamps."""
        before = {row.person: row for row in stale}
        oids = [stream_id(person) for person in before]
        rows: list[ViewRow] = []
        announced: list[Announced] = []
        for events in self.ledger.cases_of(oids, open_personal=False):
            if not events:
                continue
            person = events[0].event.person
            if fold_case(person, (stored.event for stored in events)).closed:
                continue
            case = view_rows(person, events, today)
            if case.announced.position != before[person].position:
                continue  # a newer event: the catch-up writes this person's rows
            rows += self.sealed(case.rows)
            old = self._checked(before[person])
            status = next(row for row in case.rows if row.kind == "status")
            if old is None or report_changed(old, status.body):
                announced.append(case.announced)
        return rows, announced

    def persons_of(self, municipality: str) -> list[str]:
        """Persons whose view rows name ``municipality`` as responsible, and every person with
        events the views have not reached yet (their rows may not name it yet): the views
        follow the log, so a worklist must not miss a case that just moved in."""
        persons = dict.fromkeys(self.recorder.select_persons(municipality))
        after = self.position()
        while page := self.ledger.notifications(after, PAGE):
            for oid in dict.fromkeys(_uuid(n.originator_id) for n in page):
                events = self.ledger.case_events_of(oid, open_personal=False)
                if events:
                    persons.setdefault(events[0].event.person)
            after = page[-1].id
        return list(persons)


class Reevaluated(NamedTuple):
    """What a re-evaluation did: for which day, how many persons' rows it rewrote, how many
    status reports it announced as changed."""

    day: str
    rewritten: int
    announced: int


class StatusFeed(msgspec.Struct, frozen=True):
    items: list[FeedItem]
    next_after: int  # pass as ``after`` to continue


class ServedViews:
    """The view rows as the HTTP face reads them: on its event loop, through the async store
    (``ledger.stores.aio``); what is served of a row is still ``Views.opened``'s to say."""

    WAIT_FIRST_S = 0.005
    WAIT_MOST_S = 0.1

    def __init__(self, store: AsyncStore) -> None:
        self.store = store

    async def wait_for(self, position: int, within: float) -> bool:
        """Wait (``within`` seconds at most) until the views reflect ``position``; True if they
        do. Not eventsourcing's ``TrackingRecorder.wait``: that one blocks a thread per waiter
        and sleeps 100 ms before its second look, where a write the server just committed is
        nearly always projected within a few milliseconds (and the event loop must not block)."""
        return await self._until(lambda: self._reached(position), within)

    async def _reached(self, position: int) -> bool:
        return await self.store.views_position() >= position

    async def _until(self, done: Callable[[], Awaitable[bool]], within: float) -> bool:
        """Look at ``done`` until it is true, pausing between looks (``ledger.retry.pauses``),
        for ``within`` seconds at most; whether it became true."""
        import asyncio  # noqa: PLC0415 - only a server waits here; the command line never does

        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        waits = pauses(self.WAIT_FIRST_S, self.WAIT_MOST_S, within=within)
        while not await done():
            # The pauses end short of ``within``: the last look is at its very end.
            delay = next(waits, None) or deadline - loop.time()
            if delay <= 0:
                return False
            await asyncio.sleep(delay)
        return True

    async def rows(self, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ViewRow]:
        """The stored rows of (person, kind) pairs, those that have one (for a wave of reads)."""
        persons: dict[str, list[str]] = {}
        for person, kind in wanted:
            persons.setdefault(kind, []).append(person)
        found: dict[tuple[str, str], ViewRow] = {}
        for kind, names in persons.items():
            for row in await self.store.view_rows(kind, names):
                found[(row.person, kind)] = row
        return found

    async def feed(self, after: int, limit: int, wait: float = 0) -> StatusFeed:
        """The status feed of INTERFACE.md: items with ``seq`` above ``after``, in ``seq``
        order; with ``wait``, held until there is one (an empty page after ``wait`` seconds)."""
        items: list[FeedItem] = []

        async def found() -> bool:
            items[:] = await self.store.feed(after, limit)
            return bool(items)

        await self._until(found, wait)
        return StatusFeed(items, items[-1].seq if items else after)


# --- reading -------------------------------------------------------------------------------------

Role = Literal["operator", "municipality", "immigration_service", "investigator"]

# Which projections each reader may ask for (INTERFACE.md, "HTTP API").
KINDS_BY_ROLE: dict[Role, tuple[str, ...]] = {
    "operator": ("status", "sanctions", "history"),
    "investigator": ("status", "sanctions", "history"),
    "municipality": ("status", "sanctions", "history"),
    "immigration_service": ("status",),
}
REFUSED = N_(
    "refused: the person is unknown, or not a case this municipality is responsible for now"
)

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
            "{given!r} is not a reader: a kommunekode, immigration_service, investigator or "
            "operator",
            "reader",
            given=text,
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
        super().__init__(NO_CASE, "person", person=person)
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
            stored = self.views.stored(person, kind)
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
            raise Forbidden("the {role} role may not read raw events", "person", role=reader.role)
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
            raise Forbidden("the {role} role may not replay a case", "person", role=reader.role)
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
                "a reader of municipality {municipality} reads only its own worklist",
                "code",
                municipality=reader.municipality,
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
        raise Forbidden(
            "the {role} role may not read the {kind} projection",
            "kind",
            role=reader.role,
            kind=kind,
        )


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


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)
