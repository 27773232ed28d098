"""The application service: appending batches, reading cases, verifying chains, forgetting.

``Ledger`` is an eventsourcing ``Application`` whose store is chosen by configuration. Appends
take a lean path: wire events are decoded by msgspec, checked against a small per-person case
state, chained and sealed, and written with their idempotency index in one transaction. Case
states are cached; optimistic concurrency on (stream, version) makes a stale cache harmless: a
writer that lost a race gets an IntegrityError, drops what it knew of those cases and retries
(bounded), so concurrent writers never lose or duplicate an event.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, cast
from uuid import UUID

import msgspec
from eventsourcing.application import Application
from eventsourcing.utils import resolve_topic

from ledger.case import GENESIS_HASH, CaseState, KeptStates, fold_case
from ledger.checkpoints import Audit, chain_step, fingerprint, is_signed_by, sign
from ledger.clock import now_utc, today_in_denmark
from ledger.config import (
    DEFAULT_DB,
    MAX_CASE_EVENTS_ENV,
    VIEW_RECORDER_TOPIC,
    Settings,
    describe,
    store_env,
)
from ledger.errors import (
    NO_CASE,
    BatchRefused,
    CaseTooLong,
    ConcurrentWrites,
    DuplicateConflict,
    ErrorDetail,
    IntegrityFailure,
    LedgerError,
    StoreError,
    StoreUnavailable,
    UnknownPerson,
)
from ledger.events import AnyEvent, Event, EventRetracted, ResponsibilityAssumed, encode_event
from ledger.faults import store_fault, unreachable
from ledger.i18n import Phrase, Words, carried, carry
from ledger.personal import new_key, seal, unseal
from ledger.records import CaseRecord, StoredCaseEvent, chain_hash, stream_id
from ledger.retry import pauses
from ledger.stores import IntegrityError, Notification, PersistenceError, StoredEvent
from ledger.stores.base import (
    STORE_FAILURES,
    CheckedEvent,
    Checkpoint,
    CheckpointRace,
    Destroyed,
    GroupRefused,
    IndexEntry,
    IndexRow,
    KeyRow,
    KeyState,
    LedgerRecorder,
    RestoredEvent,
    Shard,
    chunks,
    settle_encryption,
)
from ledger.stores.mapper import LedgerMapper
from ledger.stores.views import ViewRecorder
from ledger.wire import Decoded, Line, decode_lines

if TYPE_CHECKING:  # keys are made and loaded by ledger.checkpoints, when a command needs one
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

MAX_ATTEMPTS = 8
PAUSE_COLLECTOR_FROM = 1000  # events in a batch
# What the case states a writer keeps folded may hold (``KeptStates``, in entries): about
# 30 MB of states.
KEPT_STATE_ENTRIES = 200_000

Progress = Callable[[int], None]
# A store that could not be opened: it failed, or its file (or folder) could not be used.
OPEN_FAILURES: tuple[type[Exception], ...] = (*STORE_FAILURES, OSError)


Status = Literal["appended", "duplicate"]


class EventResult(msgspec.Struct, frozen=True):
    event_id: str
    status: Status
    position: int | None


class AppendResult(msgspec.Struct, frozen=True):
    appended: int
    duplicates: int
    position: int | None
    results: list[EventResult]


class Failure(msgspec.Struct, frozen=True, dict=True):
    """What verify found wrong, and where; ``reason`` in English (the interface), the phrase it
    was made from riding along for people (`said`)."""

    position: int
    person: str | None
    version: int
    reason: str

    def said(self, words: Words) -> str:
        return words.text(carried(self, self.reason))


def failed(position: int, person: str | None, version: int, reason: Phrase) -> Failure:
    return carry(Failure(position, person, version, str(reason)), reason)


class CheckpointSeen(msgspec.Struct, frozen=True):
    """The checkpoint a verification checked the store against."""

    position: int
    created_at: str
    key_fingerprint: str
    signature_checked: bool

    @classmethod
    def of(cls, checkpoint: Checkpoint, key: Ed25519PublicKey | None) -> CheckpointSeen:
        return cls(
            checkpoint.position, checkpoint.created_at, checkpoint.key_fingerprint, key is not None
        )


class VerifyReport(msgspec.Struct, frozen=True):
    ok: bool
    checked: int
    persons: int
    first_failure: Failure | None
    failures: list[Failure]
    checkpoint: CheckpointSeen | None = None


@dataclass(slots=True)
class _Pending:
    """What one attempt has accepted for one person so far: (decoded line, sequence number in
    the batch's accepted events) each."""

    stream: UUID
    base: CaseState
    working: CaseState
    room: int  # how many more events the case may take
    events: list[tuple[Decoded, int]] = field(default_factory=list)


class Ledger(Application[UUID]):
    name = "Ledger"

    def __init__(
        self,
        db: str = DEFAULT_DB,
        env: dict[str, str] | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.db = db
        self.overrides = dict(env or {})  # what another process needs to open the same store
        # The settings a face passed down (else those of the environment), with any of them
        # the overrides name replaced: checked before the store is opened.
        self.settings = (settings or Settings.from_env()).updated(self.overrides).with_db(db)
        self.max_case_events = self.settings.max_case_events
        self.read_only = False
        try:
            store = store_env(db, self.settings) | self.overrides
            # The kind of store, named by topic, prepares its opening: a store this process
            # cannot write is opened read-only (everything that reads works, everything that
            # writes is refused).
            recorder: type[LedgerRecorder] = resolve_topic(store["APPLICATION_RECORDER_TOPIC"])
            opening = recorder.opening(store)
            self.read_only = opening.read_only
            # Opened for writing, the recorder applies the schema's pending migrations.
            super().__init__(env=opening.env)
        except OPEN_FAILURES as exc:
            self._close_opened()
            raise StoreError(
                "cannot open the ledger store {store}: {exc}", "db", store=describe(db), exc=exc
            ) from None
        except StoreError:
            self._close_opened()
            raise
        self.store = cast(LedgerRecorder, self.recorder)
        self.ledger_mapper = cast(LedgerMapper, self.mapper)
        try:
            if self.read_only:
                self.store.check_schema()
            settle_encryption(self.store, self.mapper.cipher, writable=not self.read_only)
        except StoreError:
            self.close()
            raise
        self._states = KeptStates(KEPT_STATE_ENTRIES)

    def _close_opened(self) -> None:
        """Close what an open that failed had opened of the store."""
        factory = getattr(self, "factory", None)
        if factory is not None:
            factory.close()

    # --- appending -----------------------------------------------------------------------------

    def append_lines(self, lines: Sequence[Line], progress: Progress | None = None) -> AppendResult:
        """Append one atomic batch of wire lines (NDJSON lines or JSON array items)."""
        with collector_paused(len(lines)):
            # The decoded batch is handed on, not kept here: it is freed when the append
            # returns, before the collector is back, which then walks only what outlives it.
            return self.append(*decode_lines(lines, today_in_denmark(), progress))

    def append(
        self, decoded: Sequence[Decoded], errors: Sequence[ErrorDetail] = ()
    ) -> AppendResult:
        """Append decoded events as one batch; raises ``BatchRefused`` listing every refusal."""
        self.require_writable(Phrase("appended to"))
        with collector_paused(len(decoded)):
            return self._append(decoded, errors)

    def _append(self, decoded: Sequence[Decoded], errors: Sequence[ErrorDetail]) -> AppendResult:
        persons = {d.event.person for d in decoded}
        waits = pauses(0.02, 1.28, jitter=True)
        for attempt in range(MAX_ATTEMPTS):
            # The first attempt assumes no event_id is stored yet and skips the index read: the
            # index's unique key refuses the write if one is, and any refusal is decided again
            # with the index read, so a re-sent event is still a duplicate, never an error.
            hopeful = attempt == 0 and not errors
            try:
                result = self._attempt(decoded, list(errors), read_index=not hopeful)
            except IntegrityError:
                # Another writer won a stream version, or an event_id is stored already:
                # forget what we knew of these cases and decide again on fresh state.
                for person in persons:
                    self._states.forget(stream_id(person))
                if not hopeful:
                    time.sleep(next(waits))
                continue
            except unreachable() as exc:
                raise StoreUnavailable(
                    "the store did not answer; nothing was written: {exc}", exc=exc
                ) from None
            except PersistenceError as exc:
                raise StoreError("the store refused the write: {exc}", exc=exc) from None
            if result is not None:
                return result
        raise ConcurrentWrites(
            "other writers kept changing the same cases; gave up after {MAX_ATTEMPTS} attempts",
            MAX_ATTEMPTS=MAX_ATTEMPTS,
        )

    def append_together(
        self, appends: Sequence[Callable[[], AppendResult]]
    ) -> list[AppendResult | LedgerError]:
        """Group commit: run several independent appends (each a call of ``append``, with
        whatever it reads first) one after another in one transaction, committed once.

        Each keeps its own atomicity and answer: one refused (its ``LedgerError`` in its place)
        stores nothing and leaves the others; each sees the cases, and the idempotency index,
        as the appends before it in the group left them. Nothing is stored, and no append
        counts as done, until the group commits; if the commit fails, every append that was
        to be stored answers ``StoreError``.

        The appends' rows are sent to the store together where that saves round trips
        (``LedgerRecorder.together``); should the store refuse them (``GroupRefused``), the
        group is run again with each append written in a savepoint of its own, so that the
        refusal is the one append's alone."""
        try:
            return self._together(appends, deferred=True)
        except GroupRefused:
            return self._together(appends, deferred=False)

    def _together(
        self, appends: Sequence[Callable[[], AppendResult]], *, deferred: bool
    ) -> list[AppendResult | LedgerError]:
        outcomes: list[AppendResult | LedgerError] = []
        try:
            with self.store.together(deferred=deferred):
                for run in appends:
                    try:
                        outcomes.append(run())
                    except LedgerError as exc:
                        outcomes.append(exc)
        except STORE_FAILURES as exc:
            # The case states cached during the group describe writes now undone.
            self._states.clear()
            failed = (
                store_fault(exc)
                if isinstance(exc, unreachable())
                else StoreError("the store refused the write: {exc}", exc=exc)
            )
            refused: list[AppendResult | LedgerError] = [
                o if isinstance(o, LedgerError) else failed for o in outcomes
            ]
            return refused + [failed] * (len(appends) - len(outcomes))
        except BaseException:
            self._states.clear()
            raise
        return outcomes

    def _attempt(
        self, decoded: Sequence[Decoded], errors: list[ErrorDetail], *, read_index: bool
    ) -> AppendResult | None:
        """Decide and write the batch; None when an attempt without the idempotency index met
        a refusal, which a stored duplicate may explain: then decide again with the index."""
        keys = self._keys_for(decoded)
        index: dict[UUID, IndexEntry] = {}
        if read_index and decoded:
            index = self.store.select_index([d.event.event_id for d in decoded])
        self._load_states({d.event.person for d in decoded})

        # One pass in line order. Accepted events are numbered in that order (their order in
        # the store); each person's slot is found by the person reference, whose hash Python
        # keeps, and in-batch duplicates by the event id's integer.
        pending: dict[str, _Pending] = {}
        seen: dict[int, tuple[AnyEvent, int]] = {}  # event_id -> (event, sequence number)
        outcomes: list[tuple[Status, UUID, int | None, int | None]] = []
        accepted = 0

        for item in decoded:
            line, event, _ = item
            event_id = event.event_id
            if index:
                earlier = index.get(event_id)
                if earlier is not None:
                    same = earlier.originator_id == stream_id(event.person)
                    if same and self._same_as_stored(event, earlier, keys):
                        outcomes.append(("duplicate", event_id, earlier.position, None))
                    else:
                        errors.append(_conflict(line, event, Phrase("is already stored")))
                    continue
            in_batch = seen.get(event_id.int)
            if in_batch is not None:
                if in_batch[0] == event:
                    outcomes.append(("duplicate", event_id, None, in_batch[1]))
                else:
                    errors.append(_conflict(line, event, Phrase("appears twice in this batch")))
                continue

            slot = pending.get(event.person)
            if slot is None:
                oid = stream_id(event.person)
                base = self._state(event.person, oid)
                room = self.max_case_events - base.version
                slot = pending[event.person] = _Pending(oid, base, base.copy(), room)
            try:
                if len(slot.events) >= slot.room:
                    raise CaseTooLong(
                        "case '{person}' holds {max_case_events} events, the most one case may "
                        "hold ({MAX_CASE_EVENTS_ENV}={max_case_events})",
                        "person",
                        person=event.person,
                        max_case_events=self.max_case_events,
                        MAX_CASE_EVENTS_ENV=MAX_CASE_EVENTS_ENV,
                    )
                if isinstance(event, EventRetracted):
                    # What is live, which a kept state does not hold: the case folded again.
                    history = [
                        *self._decoded_stream(slot.stream),
                        *(p[0].event for p in slot.events),
                    ]
                    if slot.working.live is None:
                        slot.working = fold_case(event.person, history)
                slot.working.check(event)
            except LedgerError as exc:
                if not read_index:
                    return None
                errors.append(exc.detail(line, str(event_id)))
                continue
            if isinstance(event, EventRetracted):
                slot.working = fold_case(event.person, [*history, event])
            else:
                slot.working.apply(event)
            slot.events.append((item, accepted))
            seen[event_id.int] = (event, accepted)
            outcomes.append(("appended", event_id, None, accepted))
            accepted += 1

        if errors:
            if not read_index:
                return None  # the full list of refusals needs the stored duplicates
            raise BatchRefused(sorted(errors, key=lambda e: e.line or 0))

        positions = self._write(pending, accepted, keys)
        results = [
            EventResult(str(event_id), status, position if n is None else positions[n])
            for status, event_id, position, n in outcomes
        ]
        head = max(positions) if positions else self.store.max_notification_id()
        return AppendResult(
            appended=accepted,
            duplicates=len(results) - accepted,
            position=head,
            results=results,
        )

    def _keys_for(self, decoded: Sequence[Decoded]) -> dict[UUID, tuple[bytes, bool]]:
        """Data keys of persons whose events carry personal data: (key, is_new)."""
        wanted = list(
            {
                stream_id(d.event.person)
                for d in decoded
                if isinstance(d.event, ResponsibilityAssumed) and d.event.personal is not None
            }
        )
        if not wanted:
            return {}
        stored = self.store.select_keys(wanted)
        keys: dict[UUID, tuple[bytes, bool]] = {}
        for oid in wanted:
            if oid in stored:
                key = stored[oid]
                # A forgotten person's key is gone for good: seal under a throwaway key, which
                # also makes a re-sent event with personal data a conflict, never a match.
                keys[oid] = (key, False) if key is not None else (new_key(), False)
            else:
                keys[oid] = (new_key(), True)
        return keys

    def _same_as_stored(
        self, event: AnyEvent, stored: IndexEntry, keys: dict[UUID, tuple[bytes, bool]]
    ) -> bool:
        """Is a re-sent event the very event already stored? Compared field by field, with
        personal data opened under the person's key (gone after ``forget``: then it cannot be
        shown to be the same, and is not)."""
        record = self.ledger_mapper.record(
            stored.originator_id, stored.originator_version, stored.topic, stored.state
        )
        kept = record.decode()
        if record.sealed is not None and isinstance(kept, ResponsibilityAssumed):
            if not isinstance(event, ResponsibilityAssumed) or event.personal is None:
                return False
            personal = unseal(keys[stored.originator_id][0], stored.originator_id, record.sealed)
            kept = msgspec.structs.replace(kept, personal=personal)
        return kept == event

    @staticmethod
    def _stored_form(
        event: AnyEvent, canonical: bytes, keys: dict[UUID, tuple[bytes, bool]]
    ) -> tuple[bytes, bytes | None]:
        """Canonical stored JSON and sealed personal data of one event, ``canonical`` being
        its canonical JSON as decoded: stored as is unless personal data is sealed apart."""
        if isinstance(event, ResponsibilityAssumed) and event.personal is not None:
            oid = stream_id(event.person)
            event_json = encode_event(msgspec.structs.replace(event, personal=None))
            return event_json, seal(keys[oid][0], oid, event.personal)
        return canonical, None

    def _write(
        self, pending: dict[str, _Pending], count: int, keys: dict[UUID, tuple[bytes, bool]]
    ) -> list[int]:
        """Chain, seal and store the ``count`` accepted events; their positions, in the order
        they were accepted."""
        if not count:
            return []
        recorded_at = now_utc()
        recorded_iso = recorded_at.isoformat()
        to_stored = self.ledger_mapper.to_stored_event
        stored: list[StoredEvent | None] = [None] * count
        index: list[IndexRow] = []
        for slot in pending.values():
            oid = slot.stream
            stream_hex = oid.hex
            version, head = slot.base.version, slot.base.head_hash
            for (_line, event, canonical), n in slot.events:
                event_json, sealed = self._stored_form(event, canonical, keys)
                version += 1
                schema = type(event).SCHEMA_VERSION
                digest = chain_hash(
                    head, stream_hex, version, recorded_iso, schema, sealed, event_json
                )
                stored[n] = to_stored(
                    CaseRecord(
                        originator_id=oid,
                        originator_version=version,
                        type=event.type,
                        schema=schema,
                        recorded_at=recorded_at,
                        prev_hash=head,
                        hash=digest,
                        sealed=sealed,
                        event_json=event_json,
                    )
                )
                index.append(IndexRow(event.event_id, oid, version))
                head = digest
            slot.working.version, slot.working.head_hash = version, head
        new_keys = [KeyRow(oid, key) for oid, (key, is_new) in keys.items() if is_new]
        # Every sequence number was filled: each accepted event sits in exactly one slot.
        filled = cast("list[StoredEvent]", stored)
        ids = self.recorder.insert_events(filled, index=index, keys=new_keys)
        if ids is None or len(ids) != count:
            raise StoreError("the store did not report a position for every stored event")
        for slot in pending.values():
            if slot.events:
                self._remember(slot.stream, slot.working)
        return list(ids)

    # --- case state ----------------------------------------------------------------------------

    def _state(self, person: str, oid: UUID) -> CaseState:
        state = self._states.get(oid)
        if state is None:
            self._load_states([person])
            state = self._states[oid]  # the state kept last stays, whatever its length
        return state

    def _load_states(self, persons: Iterable[str]) -> None:
        """Fold the cases of persons not in the cache, reading their streams in one query."""
        missing = {stream_id(p): p for p in persons if stream_id(p) not in self._states}
        if not missing:
            return
        mapper = self.ledger_mapper
        streams = self.store.select_streams(list(missing))
        for oid, rows in streams.items():
            records = [mapper.record(oid, n.originator_version, n.topic, n.state) for n in rows]
            state = fold_case(missing[oid], [record.decode() for record in records])
            state.head_hash = records[-1].hash if records else GENESIS_HASH
            state.version = len(records)
            self._remember(oid, state)

    def _remember(self, oid: UUID, state: CaseState) -> None:
        self._states.keep(oid, state)

    def _records(self, oid: UUID) -> list[tuple[int, CaseRecord]]:
        mapper = self.ledger_mapper
        return [
            (n.id, mapper.record(oid, n.originator_version, n.topic, n.state))
            for n in self.store.select_stream(oid)
        ]

    def _decoded_stream(self, oid: UUID) -> list[AnyEvent]:
        return [record.decode() for _, record in self._records(oid)]

    # --- reading -------------------------------------------------------------------------------

    def case_events(self, person: str, *, open_personal: bool = True) -> list[StoredCaseEvent]:
        """Every stored event of a person, in version order. Personal data is opened only when
        asked for and only while the person's key exists; otherwise it is left out."""
        events = self.case_events_of(stream_id(person), open_personal=open_personal)
        if not events:
            raise UnknownPerson(NO_CASE, "person", person=person)
        return events

    def case_events_of(self, oid: UUID, *, open_personal: bool = True) -> list[StoredCaseEvent]:
        return self._opened(self._records(oid), open_personal=open_personal)

    def cases_of(
        self, oids: Sequence[UUID], *, open_personal: bool = True
    ) -> Iterator[list[StoredCaseEvent]]:
        """The cases of several persons, read together (in one trip per few hundred persons);
        an empty list for a person without events."""
        mapper = self.ledger_mapper
        for oid, rows in self.store.select_streams(oids).items():
            records = [
                (n.id, mapper.record(oid, n.originator_version, n.topic, n.state)) for n in rows
            ]
            yield self._opened(records, open_personal=open_personal)

    def iter_cases(
        self, until: int, *, open_personal: bool = False, shard: Shard | None = None
    ) -> Iterator[list[StoredCaseEvent]]:
        """Every case up to a position (of the persons in ``shard``, if given), one at a time,
        never the whole ledger in memory."""
        mapper = self.ledger_mapper
        for oid, rows in self.store.iter_streams(until, shard):
            records = [(r.position, mapper.record(oid, r.version, r.topic, r.state)) for r in rows]
            yield self._opened(records, open_personal=open_personal)

    def _opened(
        self, records: list[tuple[int, CaseRecord]], *, open_personal: bool
    ) -> list[StoredCaseEvent]:
        key: bytes | None = None
        if open_personal and any(record.sealed is not None for _, record in records):
            oid = records[0][1].originator_id
            key = self.store.select_keys([oid]).get(oid)
        return [
            self._open(position, record, key, open_personal=open_personal)
            for position, record in records
        ]

    @staticmethod
    def _open(
        position: int, record: CaseRecord, key: bytes | None, *, open_personal: bool
    ) -> StoredCaseEvent:
        event = record.decode()
        erased = False
        if open_personal and record.sealed is not None and isinstance(event, ResponsibilityAssumed):
            personal = unseal(key, record.originator_id, record.sealed) if key else None
            if personal is None:
                erased = True
            else:
                event = msgspec.structs.replace(event, personal=personal)
        return StoredCaseEvent(
            position=position,
            version=record.originator_version,
            recorded_at=record.recorded_at,
            hash=record.hash,
            prev_hash=record.prev_hash,
            event=event,
            personal_erased=erased,
        )

    def check_connections(self) -> None:
        """Replace the store's pooled connections that it dropped (``ledger serve`` asks every
        poll interval)."""
        self.store.check_connections()

    def head_position(self) -> int:
        return self.store.max_notification_id() or 0

    def forget(self, person: str) -> Destroyed:
        """Destroy the person's data key, and say whether every copy of it is gone from the
        store's files (asked again, it tries that again)."""
        oid = stream_id(person)
        if not self.store.select_stream(oid):
            raise UnknownPerson(NO_CASE, "person", person=person)
        self.require_writable(Phrase("changed"))
        return self.store.destroy_key(oid, now_utc().isoformat())

    def require_writable(self, doing: Phrase) -> None:
        if self.read_only:
            raise StoreError(
                "the store {store} is opened read-only (the file or its folder cannot be "
                "written): it cannot be {doing}",
                "db",
                store=describe(self.db),
                doing=doing,
            )

    # --- integrity -----------------------------------------------------------------------------

    def verify(
        self,
        person: str | None = None,
        progress: Progress | None = None,
        *,
        public_key: Ed25519PublicKey | None = None,
        ends: dict[str, int] | None = None,
    ) -> VerifyReport:
        """Re-check every chain (or one person's): decoding, order, predecessor and own hash;
        then the stored events against the latest signed checkpoint, if there is one (its
        signature too, given the public key). ``ends``, when given, receives the last stored
        position of every person seen."""
        if person is not None:
            oid = stream_id(person)
            stream = self.store.select_stream(oid)
            if not stream:
                raise UnknownPerson(NO_CASE, "person", person=person)
            rows: Iterable[Notification] = sorted(stream, key=lambda row: row.id)
        else:
            rows = self.store.iter_notifications()
        checkpoints = self.store.select_checkpoints()
        audit = Audit(self.store, checkpoints, person, public_key) if checkpoints else None
        heads: dict[UUID, tuple[int, str]] = {}
        failures: list[Failure] = []
        if audit is None and public_key is not None:
            failures.append(failed(0, None, 0, Phrase("the store holds no signed checkpoint")))
        persons: dict[UUID, str] = {}
        checked = 0
        for row in _tick(rows, progress):
            checked += 1
            failure, record, owner = self._check(row, heads)
            if failure is not None:
                failures.append(failure)
            oid = _uuid(row.originator_id)
            if owner is not None:
                persons.setdefault(oid, owner)
            if ends is not None and oid in persons:
                ends[persons[oid]] = row.id
            if audit is not None:
                audit.see(row.id, oid, row.originator_version, record)
        if audit is not None:
            failures += [failed(*finding) for finding in audit.finish()]
        if person is None and self.store.count_index() != checked:
            failures += self._unindexed(checked, persons)
        failures.sort(key=lambda f: f.position)
        return VerifyReport(
            ok=not failures,
            checked=checked,
            persons=len(heads),
            first_failure=failures[0] if failures else None,
            failures=failures[:100],
            checkpoint=None if audit is None else CheckpointSeen.of(audit.latest, public_key),
        )

    def _unindexed(self, checked: int, persons: dict[UUID, str]) -> list[Failure]:
        """The events the idempotency index lists that are no longer stored, by position."""
        missing = self.store.missing_indexed()
        if not missing:
            indexed = self.store.count_index()
            return [
                failed(
                    position=self.head_position(),
                    person=None,
                    version=0,
                    reason=Phrase(
                        "the event index lists {indexed} events but {checked} are stored",
                        {"indexed": indexed, "checked": checked},
                    ),
                )
            ]
        return [
            failed(
                position=gone.position or 0,
                person=persons.get(gone.originator_id) if gone.originator_id else None,
                version=gone.version or 0,
                reason=Phrase(
                    "missing: the event index lists an event at this position that is not stored"
                ),
            )
            for gone in missing
        ]

    def check_row(self, row: Notification, heads: dict[UUID, tuple[int, str]]) -> Failure | None:
        """Verify's checks of one stored row against its stream's head so far (``heads`` is
        advanced); the failure found, if any. Shared with restore, which checks as verify does."""
        return self._check(row, heads)[0]

    def _check(
        self, row: Notification, heads: dict[UUID, tuple[int, str]]
    ) -> tuple[Failure | None, CaseRecord | None, str | None]:
        """``check_row``, with the decoded record and its person (None where they do not
        decode)."""
        oid = _uuid(row.originator_id)
        version, head = heads.get(oid, (0, GENESIS_HASH))
        person: str | None = None

        def fail(reason: Phrase) -> Failure:
            return failed(row.id, person, row.originator_version, reason)

        try:
            record = self.ledger_mapper.record(oid, row.originator_version, row.topic, row.state)
        except Exception as exc:  # noqa: BLE001 - a corrupt row of any kind is a finding
            heads[oid] = (row.originator_version, head)
            return fail(Phrase("the stored event does not decode: {exc}", {"exc": exc})), None, None
        heads[oid] = (row.originator_version, record.hash)
        try:
            event = record.decode()
        except Exception as exc:  # noqa: BLE001
            return fail(Phrase("the event inside does not decode: {exc}", {"exc": exc})), None, None
        person = event.person
        if stream_id(event.person) != oid:
            reason = Phrase(
                "the event of person '{person}' sits in another person's stream",
                {"person": event.person},
            )
            return fail(reason), record, person
        if event.type != record.type:
            return (
                fail(
                    Phrase(
                        "stored as {stored} but holds a {held}",
                        {"stored": record.type, "held": event.type},
                    )
                ),
                record,
                person,
            )
        if row.originator_version != version + 1:
            reason = Phrase(
                "version {version} follows {previous}: events are missing",
                {"version": row.originator_version, "previous": version},
            )
            return fail(reason), record, person
        if record.prev_hash != head:
            reason = Phrase("the predecessor hash does not match the previous event's hash")
            return fail(reason), record, person
        if record.expected_hash() != record.hash:
            return fail(Phrase("the hash does not match the stored content")), record, person
        return None, record, person

    # --- checkpoints ---------------------------------------------------------------------------

    def checkpoint(self, key: Ed25519PrivateKey) -> Checkpoint:
        """Sign the ledger's head: record every event since the latest checkpoint, after
        checking their chains, and store the signed head of the extended record chain. With
        nothing appended since a checkpoint signed with this key, that one is the answer."""
        self.require_writable(Phrase("signed"))
        for _ in range(MAX_ATTEMPTS):
            try:
                return self._checkpoint(key)
            except CheckpointRace:
                continue
        raise ConcurrentWrites(
            "other checkpoints kept being written; gave up after {MAX_ATTEMPTS} attempts",
            MAX_ATTEMPTS=MAX_ATTEMPTS,
        )

    def _checkpoint(self, key: Ed25519PrivateKey) -> Checkpoint:
        checkpoints = self.store.select_checkpoints()
        previous = checkpoints[-1] if checkpoints else None
        public = key.public_key()
        if (
            previous is not None
            and previous.key_fingerprint == fingerprint(public)
            and not is_signed_by(previous, public)
        ):
            raise IntegrityFailure(
                "the latest checkpoint (position {position}) does not carry this key's valid "
                "signature: run `ledger verify --public-key`; nothing was signed",
                position=previous.position,
            )
        head = previous.head if previous is not None else GENESIS_HASH
        after = previous.position if previous is not None else 0
        until = self.head_position()
        if previous is not None and until <= after:
            if previous.key_fingerprint == fingerprint(public):
                return previous  # nothing appended since: that checkpoint signs the head
            raise StoreError(
                "nothing was appended since the checkpoint at position {after}, signed with "
                "another key: the next checkpoint can be signed once events are appended",
                after=after,
            )
        heads: dict[UUID, tuple[int, str]] = {}
        recorded: list[CheckedEvent] = []
        rows = self.store.iter_notifications(after)
        for page in chunks((row for row in rows if row.id <= until), 2000):
            self._recorded_heads(page, heads)
            for row in page:
                failure, record, owner = self._check(row, heads)
                if failure is not None or record is None or owner is None:
                    reason = (
                        failure.reason if failure else Phrase("the stored event does not decode")
                    )
                    raise IntegrityFailure(
                        "position {id} fails verification ({reason}); nothing was signed",
                        "position",
                        id=row.id,
                        reason=reason,
                    )
                event = CheckedEvent(row.id, owner, record.originator_version, record.hash)
                recorded.append(event)
                head = chain_step(head, event)
        position = recorded[-1].position if recorded else after
        signed = sign(key, position, head, now_utc().isoformat())
        self.store.insert_checkpoint(signed, recorded, after)
        return signed

    def _recorded_heads(
        self, page: Sequence[Notification], heads: dict[UUID, tuple[int, str]]
    ) -> None:
        """The streams of a page continue from what the checkpoints recorded of them."""
        new = {_uuid(row.originator_id) for row in page} - heads.keys()
        if not new:
            return
        persons: dict[str, UUID] = {}
        for row in page:
            oid = _uuid(row.originator_id)
            if oid in new and oid not in persons.values():
                try:
                    record = self.ledger_mapper.record(
                        oid, row.originator_version, row.topic, row.state
                    )
                    persons[_person(record)] = oid
                except Exception:  # noqa: BLE001, S112 - the check of the row reports it
                    continue
        for person, recorded in self.store.checked_heads(list(persons)).items():
            heads[persons[person]] = (recorded.version, recorded.hash)
        for oid in new - heads.keys():
            heads[oid] = (0, GENESIS_HASH)

    # --- what the views, backups and the checkpoint signer read of the store ---------------------

    def view_recorder(self) -> ViewRecorder:
        """The recorder of the materialised views' table, of this ledger's kind of store (the
        topic ``ledger.config`` names)."""
        topic = resolve_topic(self.env[VIEW_RECORDER_TOPIC])
        return cast(ViewRecorder, self.factory.tracking_recorder(topic))

    def notifications(self, after: int, limit: int) -> Sequence[Notification]:
        """Up to ``limit`` stored events after position ``after``, in position order."""
        return self.store.select_notifications(after, limit, inclusive_of_start=False)

    def rows(self) -> Iterator[Notification]:
        """Every stored event in position order, streamed."""
        return self.store.iter_notifications()

    def record_of(self, row: Notification) -> CaseRecord:
        """The record a stored event holds."""
        oid = _uuid(row.originator_id)
        return self.ledger_mapper.record(oid, row.originator_version, row.topic, row.state)

    def stored_of(self, rows: Iterable[Notification]) -> list[StoredCaseEvent]:
        """Stored events as read from the log, personal data left sealed (as the views read
        cases)."""
        return [self._open(row.id, self.record_of(row), None, open_personal=False) for row in rows]

    def stored_form(self, record: CaseRecord) -> StoredEvent:
        """A record as the store keeps it."""
        return self.ledger_mapper.to_stored_event(record)

    def key_states(self) -> Iterator[KeyState]:
        """Every person's data key (None once destroyed)."""
        return self.store.iter_keys()

    def insert_restored(self, events: Iterable[RestoredEvent], keys: Iterable[KeyState]) -> None:
        """Write a restored backup into this empty store, all or nothing."""
        self.store.insert_restored(events, keys)

    def checkpoints(self) -> list[Checkpoint]:
        """The signed checkpoints, oldest first."""
        return self.store.select_checkpoints()


@contextmanager
def collector_paused(events: int) -> Iterator[None]:
    """Python's cyclic garbage collector paused while a large batch is appended.

    A batch of tens of thousands of events allocates hundreds of thousands of objects (events,
    lines, records, rows) that all live until the batch is stored and form no reference cycles:
    the collector would walk them again and again, a quarter of a bulk import's time, and free
    nothing. Small batches leave it alone. Reference counting frees everything as usual.
    """
    if events < PAUSE_COLLECTOR_FROM or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _person(record: CaseRecord) -> str:
    return record.decode().person


def _tick(rows: Iterable[Notification], progress: Progress | None) -> Iterator[Notification]:
    for count, row in enumerate(rows, start=1):
        if progress is not None and count % 1000 == 0:
            progress(1000)
        yield row


def _conflict(line: int, event: Event, how: Phrase) -> ErrorDetail:
    return DuplicateConflict(
        "event_id {event_id} {how} with other content or for another person",
        "event_id",
        event_id=event.event_id,
        how=how,
    ).detail(line, str(event.event_id))
