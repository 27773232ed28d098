"""What the HTTP API asks of the ledger, with who may see what applied on the way.

Writes are committed in groups (``Ledger.append_together``) on one writer thread (one writer per
process; the store serialises writers across processes): requests that arrive while a group is
being committed wait in a bounded queue and go together in the next transaction, each validated
on its own against the cases as the requests before it left them, each answered with its own
result or refusal; a full queue answers ``busy`` (503 with ``Retry-After``). An append answers
once its group is committed, without waiting for the views: one projector per server (a
process of its own, ``api.projector``) follows the log, woken by commits and every poll interval
(``ledger.config``) for writes of other processes, and folds each touched person once per
catch-up however many of that person's events arrived, so a case appended to without pause costs
the projector one fold per catch-up and never holds up the requests. Reads of the default
projection (today, as known now) come straight from the materialised view rows through the async
store (kept for the new day by the projector when the Danish day changes); any other question,
a missing or stale row, or views that have not reached the position a caller asked for
(``min_position``, waited for boundedly) are answered by the live fold, the same
implementation, on a worker thread. What a reader may see, every fold, the feed and the
wait for a position are the read service's (``projections.views``), the one read path the
command line takes too; this module adds the waves in which view rows are fetched, and writes
the access log the read service asks for before anything leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import partial
from typing import Any, NamedTuple, TypeVar
from uuid import UUID, uuid5

import msgspec

from api.access_log import AccessLog
from api.observe import Metrics
from api.projector import Projector
from api.tokens import Token, Tokens
from api.waves import Waves
from ledger.application import AppendResult, Ledger, VerifyReport
from ledger.case import IMMIGRATION_SERVICE, fold_case, recorder_of
from ledger.clock import today_in_denmark
from ledger.config import Settings
from ledger.errors import Forbidden, LedgerError, UnknownEvent
from ledger.events import Event, PersonRef, Ref, StatusRequested, Text
from ledger.i18n import Phrase
from ledger.stores.aio import AccessEntry, AsyncStore
from ledger.stores.views import ViewRow
from ledger.wire import Line, decode_lines
from projections.replay import ReplayStep
from projections.views import (
    Access,
    NotVisible,
    Read,
    Reader,
    ReadService,
    ServedViews,
    StatusFeed,
    Views,
    When,
    needs_case,
)

T = TypeVar("T")

RETRY_AFTER_S = 1
STATUS_REQUESTS = UUID("0f3b8a52-9d47-4b1e-8f43-5b8f6c2d7e90")  # namespace of derived event ids


class Busy(LedgerError):
    """The queue of appends waiting for the next group commit is full: try again after
    ``retry_after`` seconds (``Retry-After``); nothing of the request was stored."""

    code = "busy"

    def __init__(self, retry_after: int, queued: int) -> None:
        super().__init__(
            "{queued} appends are waiting to be committed; retry after {retry_after} s",
            queued=queued,
            retry_after=retry_after,
        )
        self.retry_after = retry_after


class _Queued(NamedTuple):
    run: Callable[[], AppendResult]
    answer: asyncio.Future[AppendResult]


class StatusRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Udlændingestyrelsen asks for a status report on a person. Without an ``event_id`` one
    is derived from the person and ``request_id``, so a retried request is a duplicate, not a
    second request; ``occurred_on`` defaults to today in Denmark."""

    person: PersonRef
    request_id: Ref
    due_on: date
    event_id: UUID | None = None
    occurred_on: date | None = None


class StatusRetraction(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Udlændingestyrelsen retracts a status request it made in error (only its own: a
    municipality may not, ``ledger.case``). Without an ``event_id`` one is derived from the
    request retracted, so a retried retraction is a duplicate; ``occurred_on`` defaults to
    today in Denmark."""

    reason: Text
    event_id: UUID | None = None
    occurred_on: date | None = None


class AccessLogPage(msgspec.Struct, frozen=True):
    entries: list[AccessEntry]
    next_after: int


class Service:
    def __init__(self, ledger: Ledger, views: Views, store: AsyncStore, metrics: Metrics) -> None:
        self.ledger = ledger
        self.settings = ledger.settings  # as the composition root passed them down
        self.views = views
        self.reads = ReadService(ledger, views)
        self.served = ServedViews(store)
        self.store = store
        self.metrics = metrics
        self.tokens = Tokens(store)
        self._view_rows: Waves[tuple[str, str], ViewRow] = Waves(self.served.rows)
        metrics.view_rows_refused = lambda: views.refused_rows
        self.access_log = AccessLog(store)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-writer")
        self.projector = Projector(ledger.settings)
        self._queue: list[_Queued] = []
        self._arrived = asyncio.Event()  # the queue has requests for the committer
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def open(cls, db: str, metrics: Metrics, settings: Settings | None = None) -> Service:
        ledger = await asyncio.to_thread(Ledger, db, None, settings)
        views = Views(ledger)
        await asyncio.to_thread(views.position)  # the views' tables, before the store reads them
        store = await AsyncStore.open(ledger.settings)
        service = cls(ledger, views, store, metrics)
        service.projector.start()
        service._tasks = [
            asyncio.create_task(service._commit_groups()),
            asyncio.create_task(service._watch()),
        ]
        return service

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.store.close()
        self._writer.shutdown(wait=True)
        await asyncio.to_thread(self.projector.close)
        self.ledger.close()

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, partial(fn, *args))

    @staticmethod
    async def _read(fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    # --- writes ------------------------------------------------------------------------------

    async def append(self, caller: Token, lines: list[Line]) -> AppendResult:
        return await self._commit(partial(self._append, lines, caller.municipality))

    async def request_status(self, caller: Token, request: StatusRequest) -> AppendResult:
        return await self._commit(partial(self._request_status, caller, request))

    async def retract_status_request(
        self, caller: Token, person: str, request_id: str, retraction: StatusRetraction
    ) -> AppendResult:
        return await self._commit(
            partial(self._retract_status_request, caller, person, request_id, retraction)
        )

    async def _commit(self, run: Callable[[], AppendResult]) -> AppendResult:
        """Queue one append for the next group commit and wait for its own answer."""
        if len(self._queue) >= self.settings.write_queue:
            raise Busy(RETRY_AFTER_S, self.settings.write_queue)
        answer: asyncio.Future[AppendResult] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(run, answer))
        self._arrived.set()
        result = await answer
        self.metrics.appended_events += result.appended
        return result

    async def _commit_groups(self) -> None:
        """The committer: whatever queued while the last group was being committed goes in
        the next one."""
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            while self._queue:
                group = self._queue[: self.settings.write_group]
                del self._queue[: self.settings.write_group]
                try:
                    outcomes: list[AppendResult | BaseException] = list(
                        await self._write(
                            self.ledger.append_together, [queued.run for queued in group]
                        )
                    )
                except Exception as exc:  # noqa: BLE001 - the group is undone; each is told
                    outcomes = [exc] * len(group)
                for queued, outcome in zip(group, outcomes, strict=True):
                    if queued.answer.done():  # the caller went away; its append stands
                        continue
                    if isinstance(outcome, BaseException):
                        queued.answer.set_exception(outcome)
                    else:
                        queued.answer.set_result(outcome)
                if any(isinstance(o, AppendResult) and o.appended for o in outcomes):
                    self.projector.wake()

    def _append(self, lines: list[Line], acting_as: str | None) -> AppendResult:
        """Append one batch (every event as ``acting_as``, when given)."""
        decoded, errors = decode_lines(lines, today_in_denmark())
        if acting_as is not None:
            own = []
            for item in decoded:
                refusal = _not_as(item.event, acting_as)
                if refusal is None:
                    own.append(item)
                else:
                    errors.append(refusal.detail(item.line, str(item.event.event_id)))
            decoded = own
        return self.ledger.append(decoded, errors)

    def _request_status(self, caller: Token, request: StatusRequest) -> AppendResult:
        events = self.ledger.case_events(request.person, open_personal=False)
        occurred_on = request.occurred_on or today_in_denmark()
        case = fold_case(request.person, (stored.event for stored in events))
        event = {
            "type": "StatusRequested",
            "event_id": str(
                request.event_id or uuid5(STATUS_REQUESTS, f"{request.person}/{request.request_id}")
            ),
            "person": request.person,
            "municipality": case.responsible_on(occurred_on),
            "occurred_on": occurred_on.isoformat(),
            "request_id": request.request_id,
            "due_on": request.due_on.isoformat(),
            "recorded_by": f"{IMMIGRATION_SERVICE}:{caller.id}",
        }
        return self._append([Line(1, msgspec.json.encode(event))], None)

    def _retract_status_request(
        self, caller: Token, person: str, request_id: str, retraction: StatusRetraction
    ) -> AppendResult:
        events = self.ledger.case_events(person, open_personal=False)
        requests = [
            stored.event
            for stored in events
            if isinstance(stored.event, StatusRequested) and stored.event.request_id == request_id
        ]
        if not requests:
            raise UnknownEvent(
                "case '{person}' holds no status request '{request_id}'",
                "request_id",
                person=person,
                request_id=request_id,
            )
        # The latest request of that id; once retracted, a retry is the same retraction again
        # (a duplicate), since its event_id is derived from the request's.
        target = requests[-1]
        derived = uuid5(STATUS_REQUESTS, f"{target.event_id}/retracted")
        event = {
            "type": "EventRetracted",
            "event_id": str(retraction.event_id or derived),
            "person": person,
            "municipality": target.municipality,
            "occurred_on": (retraction.occurred_on or today_in_denmark()).isoformat(),
            "retracts": str(target.event_id),
            "reason": retraction.reason,
            "recorded_by": f"{IMMIGRATION_SERVICE}:{caller.id}",
        }
        return self._append([Line(1, msgspec.json.encode(event))], None)

    async def _watch(self) -> None:
        """Every poll interval: start the projector again should it have ended on its own,
        and replace the pooled connections the store dropped (a restart) before a request
        draws one."""
        while True:
            await asyncio.sleep(self.settings.poll_interval_s)
            self.projector.watch()
            with contextlib.suppress(Exception):  # a store that is down: requests say so
                await asyncio.to_thread(self.ledger.check_connections)

    # --- reads -------------------------------------------------------------------------------

    async def projection(
        self, kind: str, person: str, caller: Token, when: When, min_position: int | None
    ) -> Read:
        reader = reader_of(caller)
        waiting = self.settings.wait_for_views_s
        rows = when.materialised and (
            min_position is None or await self.served.wait_for(min_position, waiting)
        )
        if rows and not needs_case(reader):  # straight from the row, on the event loop
            row = await self._view_rows.ask((person, kind))
            opened = None if row is None else self.views.opened(row)
            served = self.reads.from_row(kind, reader, when, opened)
            if served is not None:
                return served
            rows = opened is not None or row is None  # a refused row: the live fold answers
        try:
            read = await self._read(
                partial(self.reads.projection, kind, person, reader, when, rows=rows)
            )
        except NotVisible as refused:
            await self._audit(caller, refused.access)
            raise
        await self._audit(caller, read.access)
        return read

    async def events(self, caller: Token, person: str) -> list[dict[str, Any]]:
        events, access = await self._read(self.reads.events, person, reader_of(caller))
        await self._audit(caller, access)
        return [stored.to_wire() for stored in events]

    async def replay(
        self, caller: Token, person: str, until: date | None, revision: int | None
    ) -> list[ReplayStep]:
        steps, access = await self._read(
            self.reads.replay, person, reader_of(caller), (None, until), revision
        )
        await self._audit(caller, access)
        return steps

    async def deadlines(
        self, caller: Token, municipality: str, on: date | None, revision: int | None
    ) -> bytes:
        body, accesses = await self._read(
            self.reads.worklist, reader_of(caller), municipality, on, revision
        )
        for access in accesses:
            await self._audit(caller, access)
        return body

    async def feed(self, after: int, limit: int, wait: float = 0) -> StatusFeed:
        return await self.served.feed(after, limit, wait)

    async def verify(self, person: str | None) -> VerifyReport:
        return await self._read(self.views.verify, person)

    async def access_entries(self, after: int, limit: int, person: str | None) -> AccessLogPage:
        entries = await self.access_log.entries(after, limit, person)
        return AccessLogPage(entries, entries[-1].id if entries else after)

    async def positions(self) -> tuple[int, int]:
        """The ledger's head position and the views' position."""
        return await self._read(lambda: (self.ledger.head_position(), self.views.position()))

    async def check_store(self) -> None:
        """Raises what a store that does not answer raises, asked both ways the server
        reaches it: its async connections, and the ledger's own."""
        await self.store.ping()
        await self.positions()

    async def _audit(self, caller: Token, access: Access | None) -> None:
        if access is not None:
            await self.access_log.record(
                caller, access.person, access.action, access.categories, access.legal_basis
            )


def reader_of(caller: Token) -> Reader:
    """The reader a token is (an admin token reads nothing; its routes refuse it first)."""
    if caller.role == "admin":
        raise Forbidden("the admin role may not read cases", "person")
    return Reader(caller.role, caller.municipality, caller.id)


def _not_as(event: Event, municipality: str) -> Forbidden | None:
    """Why a municipality's token may not append ``event``, if it may not: it appends only as
    itself, and never Udlændingestyrelsen's records (its status requests and their
    retractions go through ``/v1/status-requests``)."""
    if event.municipality != municipality:
        return Forbidden(
            "this token appends only as municipality {municipality}, not as {given}",
            "municipality",
            municipality=municipality,
            given=event.municipality,
        )
    if recorder_of(event) == IMMIGRATION_SERVICE:
        what = (
            Phrase("a StatusRequested")
            if isinstance(event, StatusRequested)
            else Phrase("this retraction")
        )
        return Forbidden(
            "{what} would be Udlændingestyrelsen's record; a municipality's token records only "
            "the municipality's own",
            "type" if isinstance(event, StatusRequested) else "recorded_by",
            what=what,
        )
    return None
