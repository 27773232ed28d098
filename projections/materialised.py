"""Materialised views: the pure projections, kept current and stored for fast reads.

One row per person and view kind (``status``, ``sanctions``, ``history``), computed by the
same fold a live read uses, for the Danish day on which it was computed. A tracking recorder
(eventsourcing's, extended with the view table) writes every batch of view rows together with
the position it has processed, in one transaction: a batch is applied exactly once, and a
reader can wait until the views have caught up with a position it wrote (read-your-writes).
Views are never the source of truth: ``rebuild`` recomputes them from the events. Each row
keeps the digest of what it stores (``body_digest``, over the row's person, kind, day, position
and stored body); a row that no longer matches it is never served, the live fold answers
instead, and ``verify`` reports the row.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from typing import Any, NamedTuple, cast
from uuid import UUID

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import IntegrityError, OperationalError, Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteTrackingRecorder
from eventsourcing.utils import resolve_topic

from ledger.application import Failure, Ledger, VerifyReport
from ledger.clock import now_utc, today_in_denmark
from ledger.config import VIEW_RECORDER_TOPIC
from ledger.records import StoredCaseEvent
from ledger.stores.base import Shard, chunks, shards
from ledger.stores.sqlite import ImmediateTransaction
from projections.common import Selection, select, to_json
from projections.history import fold_history
from projections.sanctions import fold_sanctions
from projections.status import fold_status

VIEWS_NAME = "case-views"
KINDS = ("status", "sanctions", "history")
PAGE = 2000
PERSONS_PER_WRITE = 500
STREAMS_PER_READ = 50
PARALLEL_FROM_EVENTS = 50_000  # below this, starting worker processes costs more than it saves
EVENTS_PER_SHARD = 20_000  # a worker's unit of work: bounds what it holds and sends back
MAX_CONFLICTS = 20
Progress = Callable[[int], None]


class ViewRow(NamedTuple):
    person: str
    kind: str
    municipality: str | None
    as_of: str
    position: int
    digest: str | None
    body: bytes
    body_digest: str | None = None


def body_digest(row: ViewRow) -> str:
    """SHA-256 over what a row stores and says it is: person, kind, day, position and the
    stored body (encrypted, when the store is)."""
    header = f"{row.person}|{row.kind}|{row.as_of}|{row.position}|".encode()
    return hashlib.sha256(header + row.body).hexdigest()


class FeedItem(NamedTuple):
    person: str
    position: int
    digest: str | None


def render(
    kind: str,
    person: str,
    events: Sequence[StoredCaseEvent],
    as_of: date,
    known_at: datetime | None = None,
    revision: int | None = None,
) -> tuple[Any, bytes]:
    """The one implementation behind live reads and materialised rows."""
    view = _fold(kind, select(person, events, as_of, known_at, revision))
    return view, to_json(view)


def _fold(kind: str, selection: Selection) -> Any:
    if kind == "status":
        return fold_status(selection, now_utc())
    if kind == "sanctions":
        return fold_sanctions(selection)
    if kind == "history":
        return fold_history(selection)
    raise ValueError(kind)


def view_rows(person: str, events: Sequence[StoredCaseEvent], as_of: date) -> list[ViewRow]:
    selection = select(person, events, as_of, None)  # one selection, shared by every view
    rows = []
    for kind in KINDS:
        view = _fold(kind, selection)
        body = to_json(view)
        rows.append(
            ViewRow(
                person=person,
                kind=kind,
                municipality=getattr(view, "responsible_municipality", None),
                as_of=as_of.isoformat(),
                position=view.position,
                digest=getattr(view, "digest", None),
                body=body,
            )
        )
    return rows


class ViewRecorder(ABC):
    """What the views need of a store, beyond eventsourcing's tracking recorder."""

    @abstractmethod
    def write_views(self, rows: Sequence[ViewRow], tracking: Tracking | None) -> None:
        """Upsert rows and record the tracking position, in one transaction."""

    @abstractmethod
    def reset_views(self, name: str) -> None:
        """Forget every row and the tracking position (before a rebuild)."""

    @abstractmethod
    def select_view(self, person: str, kind: str) -> ViewRow | None: ...

    @abstractmethod
    def iter_views(self, person: str | None) -> Iterator[ViewRow]:
        """Every view row (of one person, if given)."""

    @abstractmethod
    def select_feed(self, after: int, limit: int) -> list[FeedItem]: ...

    @abstractmethod
    def select_persons(self, municipality: str) -> list[str]: ...

    @abstractmethod
    def max_tracking_id(self, application_name: str) -> int | None: ...


VIEW_COLUMNS = "person, kind, municipality, as_of, position, digest, body, body_digest"


class SQLiteViewRecorder(SQLiteTrackingRecorder, ViewRecorder):
    def create_table(self) -> None:
        # eventsourcing looks for the tracking table before its create transaction and, finding
        # none, records its table version; a process that created the table in between makes
        # that record a duplicate. Looking again then finds the table and its version.
        try:
            super().create_table()
        except IntegrityError:
            super().create_table()
        with (
            self.datastore.get_connection(commit=True) as conn,
            ImmediateTransaction(conn, commit=True) as c,
        ):
            c.execute("SELECT name FROM pragma_table_info('ledger_views')")
            if "body_digest" not in {row[0] for row in c.fetchall()}:
                # Rows written before digests were kept have none: never served, until rebuilt.
                c.execute("ALTER TABLE ledger_views ADD COLUMN body_digest TEXT")

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            (
                "CREATE TABLE IF NOT EXISTS ledger_views (person TEXT NOT NULL, "
                "kind TEXT NOT NULL, municipality TEXT, as_of TEXT NOT NULL, "
                "position INTEGER NOT NULL, digest TEXT, body BLOB NOT NULL, "
                "body_digest TEXT, PRIMARY KEY (person, kind)) WITHOUT ROWID"
            ),
            "CREATE INDEX IF NOT EXISTS ledger_views_feed ON ledger_views (kind, position)",
            (
                "CREATE INDEX IF NOT EXISTS ledger_views_municipality "
                "ON ledger_views (kind, municipality)"
            ),
        ]

    def write_views(self, rows: Sequence[ViewRow], tracking: Tracking | None) -> None:
        with (
            self.datastore.get_connection(commit=True) as conn,
            ImmediateTransaction(conn, commit=True) as c,
        ):
            self._upsert(c, rows)
            if tracking is not None:
                self._insert_tracking(c, tracking)

    @staticmethod
    def _upsert(c: SQLiteCursor, rows: Sequence[ViewRow]) -> None:
        c.executemany(
            f"INSERT OR REPLACE INTO ledger_views ({VIEW_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
            rows,
        )

    def reset_views(self, name: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute("DELETE FROM ledger_views")
            c.execute("DELETE FROM tracking WHERE application_name = ?", (name,))

    def select_view(self, person: str, kind: str) -> ViewRow | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {VIEW_COLUMNS} FROM ledger_views WHERE person = ? AND kind = ?",
                (person, kind),
            )
            row = c.fetchone()
            return None if row is None else ViewRow(*row)

    def iter_views(self, person: str | None) -> Iterator[ViewRow]:
        with self.datastore.transaction(commit=False) as c:
            if person is None:
                c.execute(f"SELECT {VIEW_COLUMNS} FROM ledger_views ORDER BY person, kind")
            else:
                c.execute(
                    f"SELECT {VIEW_COLUMNS} FROM ledger_views WHERE person = ? ORDER BY kind",
                    (person,),
                )
            for row in c.sqlite_cursor:
                yield ViewRow(*row)

    def select_feed(self, after: int, limit: int) -> list[FeedItem]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT person, position, digest FROM ledger_views "
                "WHERE kind = 'status' AND position > ? ORDER BY position LIMIT ?",
                (after, limit),
            )
            return [FeedItem(*row) for row in c.fetchall()]

    def select_persons(self, municipality: str) -> list[str]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT person FROM ledger_views WHERE kind = 'status' AND municipality = ? "
                "ORDER BY person",
                (municipality,),
            )
            return [row[0] for row in c.fetchall()]


class Views:
    """Keeps the materialised views of one ledger, and reads them."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        # The recorder of the ledger's kind of store, named by topic in ``ledger.config``.
        cls = resolve_topic(ledger.env[VIEW_RECORDER_TOPIC])
        self.recorder = cast(ViewRecorder, ledger.factory.tracking_recorder(cls))
        self.refused_rows = 0  # stored rows not served: they did not match their digests

    def position(self) -> int:
        return self.recorder.max_tracking_id(VIEWS_NAME) or 0

    def _sealed(self, rows: list[ViewRow]) -> list[ViewRow]:
        """Rows as stored, with their digests: bodies encrypted under the store's cipher, when
        it has one (the views hold whole case histories and must not be the clear copy of an
        encrypted store)."""
        cipher = self.ledger.mapper.cipher
        if cipher is not None:
            rows = [row._replace(body=cipher.encrypt(row.body)) for row in rows]
        return [row._replace(body_digest=body_digest(row)) for row in rows]

    def open_body(self, body: bytes) -> bytes:
        """A stored view body, decrypted when the store has a cipher."""
        cipher = self.ledger.mapper.cipher
        return body if cipher is None else cipher.decrypt(body)

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
        except ValueError:  # the cipher's refusal of a changed ciphertext
            return None

    def opened(self, row: ViewRow) -> tuple[str, bytes] | None:
        """``(as_of, body)`` of a stored row that may be served; None otherwise."""
        body = self.served(row)
        return None if body is None else (row.as_of, body)

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
        found = self.ledger.store.select_notifications(position, 1)
        return not found or found[0].id != position

    def catch_up(self, progress: Progress | None = None, max_pages: int | None = None) -> int:
        """Apply stored events the views have not seen (all of them, or ``max_pages`` pages
        of them, so a server's writer is not held up by a long backlog); returns the new
        position."""
        pages = 0
        conflicts = 0
        while max_pages is None or pages < max_pages:
            after = self.position()
            page = self.ledger.store.select_notifications(after, PAGE, inclusive_of_start=False)
            if not page:
                return after
            streams = list(dict.fromkeys(_uuid(n.originator_id) for n in page))
            # One order for every writer, so concurrent projectors lock rows alike.
            rows = sorted(self._rows_for(streams), key=lambda r: (r.person, r.kind))
            try:
                self.recorder.write_views(rows, Tracking(VIEWS_NAME, page[-1].id))
            except IntegrityError:
                continue  # another process applied this page first: start again from there
            except OperationalError:
                # A deadlock or lock time-out with another projector: it rolled back, so
                # nothing was applied; try again from the tracked position, boundedly.
                conflicts += 1
                if conflicts > MAX_CONFLICTS:
                    raise
                time.sleep(0.01 * conflicts)
                continue
            pages += 1
            if progress is not None:
                progress(len(page))
        return self.position()

    def rebuild(self, progress: Progress | None = None, workers: int = 1) -> int:
        """Recompute every view from the events, streaming; with ``workers`` > 1, that many
        processes fold and write ranges of persons (spawned: a script calling this needs the
        ``if __name__ == "__main__":`` guard)."""
        self.ledger.require_writable("rebuilt")
        self.recorder.reset_views(VIEWS_NAME)
        head = self.ledger.head_position()
        today = today_in_denmark()
        if workers > 1:
            written = self._rebuilt_apart(head, today, workers)
        else:
            written = self.rewrite(head, today, shard=None)
        for events in written:
            if progress is not None:
                progress(events)
        # The position last, once every row is written: a rebuild cut short is not taken for
        # a finished one.
        self.recorder.write_views([], Tracking(VIEWS_NAME, head) if head else None)
        return self.catch_up()

    def rewrite(self, head: int, today: date, shard: Shard | None) -> Iterator[int]:
        """Fold and write the views of every person (in ``shard``) up to ``head``, a few
        hundred persons a transaction; yields how many events each transaction covered."""
        rows: list[ViewRow] = []
        events = 0
        cases = self.ledger.iter_cases(until=head, open_personal=False, shard=shard)
        for persons, case in enumerate(cases, start=1):
            rows += self._sealed(view_rows(case[0].event.person, case, today))
            events += len(case)
            if persons % PERSONS_PER_WRITE == 0:
                self.recorder.write_views(rows, None)
                yield events
                rows, events = [], 0
        self.recorder.write_views(rows, None)
        yield events

    def _rebuilt_apart(self, head: int, today: date, workers: int) -> Iterator[int]:
        """The same rows, folded and written by worker processes, one range of persons each at
        a time; yields how many events each range held, as the ranges are done."""
        tasks = [
            (shard, head, today) for shard in shards(max(workers * 4, head // EVENTS_PER_SHARD))
        ]
        with ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_open_worker,
            initargs=(self.ledger.db, self.ledger.overrides),
        ) as pool:
            yield from pool.map(_rebuild_shard, tasks)

    def _rows_for(self, streams: Iterable[UUID]) -> list[ViewRow]:
        today = today_in_denmark()
        rows: list[ViewRow] = []
        # The touched cases are read a few at a time: one trip for many persons, and never
        # more than STREAMS_PER_READ whole cases in memory at once.
        for some in chunks(streams, STREAMS_PER_READ):
            for events in self.ledger.cases_of(some, open_personal=False):
                if events:
                    rows += self._sealed(view_rows(events[0].event.person, events, today))
        return rows

    def wait_for(self, position: int, timeout: float) -> bool:
        """Wait (bounded) until the views reflect ``position``; True if they do."""
        deadline = time.monotonic() + timeout
        delay = 0.005
        while self.position() < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        return True

    def feed(self, after: int, limit: int) -> list[FeedItem]:
        return self.recorder.select_feed(after, limit)

    def persons_of(self, municipality: str) -> list[str]:
        """Persons whose view rows name ``municipality`` as responsible, and every person with
        events the views have not reached yet (their rows may not name it yet): the views
        follow the log, so a worklist must not miss a case that just moved in."""
        persons = dict.fromkeys(self.recorder.select_persons(municipality))
        after = self.position()
        while page := self.ledger.store.select_notifications(after, PAGE, inclusive_of_start=False):
            for oid in dict.fromkeys(_uuid(n.originator_id) for n in page):
                events = self.ledger.case_events_of(oid, open_personal=False)
                if events:
                    persons.setdefault(events[0].event.person)
            after = page[-1].id
        return list(persons)


def rebuild_workers(head: int) -> int:
    """Processes ``ledger rebuild`` uses by default for a ledger of ``head`` events: one per
    core available to this process when the ledger is large enough to repay starting them."""
    if head < PARALLEL_FROM_EVENTS:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


_WORKER: dict[str, Views] = {}  # a rebuild worker's own connection to the store


def _open_worker(db: str, overrides: dict[str, str]) -> None:
    _WORKER["views"] = Views(Ledger(db, overrides))


def _rebuild_shard(task: tuple[Shard, int, date]) -> int:
    """In a worker: fold and write the views of the persons in one shard; returns how many
    events they hold."""
    shard, head, today = task
    return sum(_WORKER["views"].rewrite(head, today, shard))


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)
