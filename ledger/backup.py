"""Backups: the whole ledger as NDJSON, and restoring one into an empty store.

An export holds, one JSON object a line, each tagged with its ``kind``:
- ``header``: the format name and the ledger position the export reflects;
- ``event``: every stored event in position order, as stored: position, version, recorded_at,
  hash, prev_hash, schema, type, the sealed personal data (base64, or null) and the event's
  stored JSON byte for byte, so every hash can be recomputed from the file alone;
- ``key``: one line per person whose data key was destroyed (the key is always null);
- ``end``: how many lines came between, so a file that was cut off is refused, not restored
  in part.

Personal data leaves the store only sealed, and keys stay with the store: a copy restored from
an export alone shows every person's personal data as erased. ``export_keys`` writes the keys
to a separate file of the same framing, to be kept apart from the export and handled as the key
material it is. Restored together with the export it re-opens the personal data, except that
of persons forgotten before the export: their keys are never restored, even from an older key
file, so a backup cannot undo a ``forget``.

Exporting checks every event as ``verify`` does and refuses a store that fails; restoring
checks every line the same way before it is written and refuses the whole file, naming the
first line that fails, so a restored store always verifies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import BinaryIO
from uuid import UUID

import msgspec

from ledger.application import Failure, Ledger
from ledger.errors import ErrorDetail, LedgerError
from ledger.events import UNDECODABLE
from ledger.i18n import Phrase
from ledger.personal import unseal
from ledger.records import CaseRecord, stream_id
from ledger.stores import IntegrityError, Notification
from ledger.stores.base import KeyState, RestoredEvent

EXPORT_FORMAT = "case-ledger-export/1"
KEYS_FORMAT = "case-ledger-keys/1"
TICK = 1000

Progress = Callable[[int], None]


class Header(msgspec.Struct, frozen=True, tag="header", tag_field="kind"):
    format: str
    head: int


class EventLine(msgspec.Struct, frozen=True, tag="event", tag_field="kind"):
    position: int
    version: int
    recorded_at: datetime
    hash: str
    prev_hash: str
    schema: int
    type: str
    sealed: bytes | None
    event: msgspec.Raw


class KeyLine(msgspec.Struct, frozen=True, tag="key", tag_field="kind"):
    stream: UUID
    key: bytes | None
    forgotten_at: str | None


class End(msgspec.Struct, frozen=True, tag="end", tag_field="kind"):
    lines: int


BackupLine = Header | EventLine | KeyLine | End


class _Envelope(msgspec.Struct, frozen=True):
    """What restoring needs of a stored event before it is checked: its stream and its id."""

    person: str
    event_id: UUID


_encoder = msgspec.json.Encoder()
_line_decoder = msgspec.json.Decoder(BackupLine)
_envelope_decoder = msgspec.json.Decoder(_Envelope)


class ExportReport(msgspec.Struct, frozen=True):
    events: int
    persons: int
    forgotten: int
    head: int


class KeysReport(msgspec.Struct, frozen=True):
    keys: int
    destroyed: int


class RestoreReport(msgspec.Struct):
    restored: int = 0
    persons: int = 0
    forgotten: int = 0
    keys: int = 0
    keys_discarded: int = 0
    head: int = 0


LINE = Phrase("line")


class InvalidBackup(LedgerError):
    """A backup file that cannot be restored: not an export, cut off, or failing its chains."""

    code = "invalid_backup"

    def __init__(
        self,
        line: int | None,
        message: Phrase,
        field: str | None = None,
        where: Phrase = LINE,
    ) -> None:
        located = Phrase(
            "{where} {line}: {message}", {"where": where, "line": line, "message": message}
        )
        super().__init__(message if line is None else located, field)
        self.line = line

    def detail(self, line: int | None = None, event_id: str | None = None) -> ErrorDetail:
        return super().detail(self.line if line is None else line, event_id)


class StoreFailsVerification(LedgerError):
    """The store to export does not verify; a backup of it could never be restored."""

    code = "integrity_failure"

    def __init__(self, failure: Failure) -> None:
        super().__init__(
            "integrity failure at position {position}: {reason}; "
            "run `ledger verify` for every failure",
            position=failure.position,
            reason=failure.reason,
        )
        self.failure = failure


# --- export --------------------------------------------------------------------------------------


def export(ledger: Ledger, out: BinaryIO, progress: Progress | None = None) -> ExportReport:
    """Write every stored event up to the current head, then the destroyed keys."""
    head = ledger.head_position()
    out.write(_line(Header(EXPORT_FORMAT, head)))
    heads: dict[UUID, tuple[int, str]] = {}
    events = 0
    for row in ledger.rows():
        if row.id > head:
            break
        failure = ledger.check_row(row, heads)
        if failure is not None:
            raise StoreFailsVerification(failure)
        record = ledger.record_of(row)
        out.write(
            _line(
                EventLine(
                    position=row.id,
                    version=record.originator_version,
                    recorded_at=record.recorded_at,
                    hash=record.hash,
                    prev_hash=record.prev_hash,
                    schema=record.schema,
                    type=record.type,
                    sealed=record.sealed,
                    event=msgspec.Raw(record.event_json),
                )
            )
        )
        events += 1
        if progress is not None and events % TICK == 0:
            progress(TICK)
    forgotten = 0
    for state in ledger.key_states():
        if state.key is None:
            out.write(_line(KeyLine(state.originator_id, None, state.forgotten_at)))
            forgotten += 1
    out.write(_line(End(events + forgotten)))
    return ExportReport(events=events, persons=len(heads), forgotten=forgotten, head=head)


def export_keys(ledger: Ledger, out: BinaryIO) -> KeysReport:
    """Write every person's data key (null once destroyed), for a separate key backup."""
    out.write(_line(Header(KEYS_FORMAT, ledger.head_position())))
    keys = destroyed = 0
    for state in ledger.key_states():
        out.write(_line(KeyLine(state.originator_id, state.key, state.forgotten_at)))
        keys += state.key is not None
        destroyed += state.key is None
    out.write(_line(End(keys + destroyed)))
    return KeysReport(keys=keys, destroyed=destroyed)


def _line(item: BackupLine) -> bytes:
    return _encoder.encode(item) + b"\n"


# --- restore -------------------------------------------------------------------------------------


def announced_head(first_line: bytes) -> int:
    """The position an export's header line announces (0 when it is not a header)."""
    try:
        item = _line_decoder.decode(first_line)
    except UNDECODABLE:
        return 0
    return item.head if isinstance(item, Header) else 0


def restore(
    ledger: Ledger,
    lines: Iterable[bytes],
    key_lines: Iterable[bytes] | None = None,
    progress: Progress | None = None,
) -> RestoreReport:
    """Restore an export (and optionally its key file) into an empty store, all or nothing."""
    keys = _read_keys(key_lines) if key_lines is not None else {}
    restoring = _Restoring(ledger, keys, progress)
    try:
        ledger.insert_restored(restoring.events(lines), restoring.keys())
    except IntegrityError:
        raise InvalidBackup(
            None, Phrase("two events in the file share an event_id; nothing was restored")
        ) from None
    return restoring.report


def _frames(
    lines: Iterable[bytes], expected_format: str, field: str | None = None
) -> Iterator[tuple[int, EventLine | KeyLine]]:
    """The numbered lines between a file's header and its closing line, checking both."""
    where = LINE if field is None else Phrase("{kind} file line", {"kind": field})

    def refuse(number: int | None, message: Phrase) -> InvalidBackup:
        return InvalidBackup(number, message, field, where)

    header = False
    body = 0
    closed_at = 0
    number = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            item = _line_decoder.decode(raw)
        except UNDECODABLE as exc:
            undecodable = Phrase("not a line of a ledger backup ({reason})", {"reason": exc})
            raise refuse(number, undecodable) from None
        if closed_at:
            raise refuse(
                number, Phrase("there is more after the closing line {line}", {"line": closed_at})
            )
        match item:
            case Header(format=name) if not header and name == expected_format:
                header = True
            case _ if not header:
                raise refuse(
                    number, Phrase("not the header of a {format} file", {"format": expected_format})
                )
            case Header():
                raise refuse(number, Phrase("a second header"))
            case End(lines=counted) if counted != body:
                raise refuse(
                    number,
                    Phrase(
                        "the closing line counts {counted} lines, not {body}",
                        {"counted": counted, "body": body},
                    ),
                )
            case End():
                closed_at = number
            case _:
                body += 1
                yield number, item
    if not header:
        raise refuse(
            None, Phrase("the file is empty, not a {format} file", {"format": expected_format})
        )
    if not closed_at:
        raise refuse(number, Phrase("the file ends without its closing line: it was cut off"))


def _read_keys(lines: Iterable[bytes]) -> dict[UUID, KeyState]:
    keys: dict[UUID, KeyState] = {}
    for number, item in _frames(lines, KEYS_FORMAT, "keys"):
        if not isinstance(item, KeyLine):
            raise InvalidBackup(
                number,
                Phrase("a key file holds keys only"),
                "keys",
                Phrase("{kind} file line", {"kind": "keys"}),
            )
        keys[item.stream] = KeyState(item.stream, item.key, item.forgotten_at)
    return keys


class _Restoring:
    """One restore: checks and converts the export's lines as the store consumes them."""

    def __init__(
        self, ledger: Ledger, keys: dict[UUID, KeyState], progress: Progress | None
    ) -> None:
        self.ledger = ledger
        self.key_file = keys
        self.progress = progress
        self.forgotten: dict[UUID, str | None] = {}
        self.heads: dict[UUID, tuple[int, str]] = {}
        self.report = RestoreReport()

    def events(self, lines: Iterable[bytes]) -> Iterator[RestoredEvent]:
        for number, item in _frames(lines, EXPORT_FORMAT):
            if isinstance(item, KeyLine):
                if item.key is not None:
                    raise InvalidBackup(number, Phrase("an export never carries keys"))
                self.forgotten[item.stream] = item.forgotten_at
                continue
            yield self._event(number, item)
        self.report.persons = len(self.heads)
        self.report.forgotten = len(self.forgotten)

    def _event(self, number: int, item: EventLine) -> RestoredEvent:
        if item.position <= self.report.head:
            raise InvalidBackup(
                number,
                Phrase(
                    "position {position} does not follow {head}",
                    {"position": item.position, "head": self.report.head},
                ),
            )
        try:
            envelope = _envelope_decoder.decode(item.event)
            oid = stream_id(envelope.person)
        except UNDECODABLE as exc:
            raise InvalidBackup(
                number, Phrase("the event does not decode: {reason}", {"reason": exc})
            ) from None
        record = CaseRecord(
            originator_id=oid,
            originator_version=item.version,
            type=item.type,
            schema=item.schema,
            recorded_at=item.recorded_at,
            prev_hash=item.prev_hash,
            hash=item.hash,
            sealed=item.sealed,
            event_json=bytes(item.event),
        )
        stored = self.ledger.stored_form(record)
        row = Notification(
            id=item.position,
            originator_id=oid,
            originator_version=item.version,
            topic=stored.topic,
            state=stored.state,
        )
        failure = self.ledger.check_row(row, self.heads)
        if failure is not None:
            raise InvalidBackup(
                number,
                Phrase(
                    "{reason} (position {position})",
                    {"reason": failure.reason, "position": item.position},
                ),
            )
        key = self.key_file.get(oid)
        if (
            item.sealed is not None
            and key is not None
            and key.key is not None
            and unseal(key.key, oid, item.sealed) is None
        ):
            raise InvalidBackup(
                number,
                Phrase(
                    "the key file's key of this person does not open its personal data: "
                    "the key file belongs to another ledger"
                ),
                "keys",
            )
        self.report.restored += 1
        self.report.head = item.position
        if self.progress is not None and self.report.restored % TICK == 0:
            self.progress(TICK)
        return RestoredEvent(item.position, envelope.event_id, stored)

    def keys(self) -> Iterator[KeyState]:
        """Every destroyed key as destroyed, then the key file's other keys; iterated after
        the events, when the export has named every person it forgot."""
        for oid, when in self.forgotten.items():
            yield KeyState(oid, None, when)
        for oid, state in self.key_file.items():
            if oid in self.forgotten:
                self.report.keys_discarded += state.key is not None
                continue
            self.report.keys += state.key is not None
            yield state
