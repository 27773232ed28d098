"""How one case event is stored and chained, and how the ledger hands it to its readers.

A stored event's ``state`` is the JSON of ``StoredForm``: the ledger's metadata (schema
version, transaction time, predecessor hash, own hash, sealed personal data) and the event's
canonical JSON kept byte for byte (``msgspec.Raw``), so the hash is always recomputed over the
exact bytes that were stored (``ledger.stores.mapper`` maps it onto eventsourcing's stored
events). ``StoredCaseEvent`` is one event as readers and the pure folds receive it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

import msgspec

from ledger.events import AnyEvent, decode_stored_event

TOPIC_PREFIX = "ledger.events:"
PERSON_NAMESPACE = UUID("6f1c8f4e-2b8a-5d0e-9c6a-4a3e1d7b9c21")


@lru_cache(maxsize=1 << 16)
def stream_id(person: str) -> UUID:
    """The deterministic stream id of a person's case."""
    return uuid5(PERSON_NAMESPACE, person)


class StoredForm(msgspec.Struct, frozen=True, gc=False):
    schema: int
    recorded_at: datetime
    prev_hash: str
    hash: str
    sealed: bytes | None
    event: msgspec.Raw


class CaseRecord(msgspec.Struct, frozen=True, gc=False):
    """One stored case event: the domain-event object eventsourcing's event store handles."""

    originator_id: UUID
    originator_version: int
    type: str
    schema: int
    recorded_at: datetime
    prev_hash: str
    hash: str
    sealed: bytes | None
    event_json: bytes

    def decode(self) -> AnyEvent:
        return decode_stored_event(self.event_json, self.schema, self.type)

    def expected_hash(self) -> str:
        return chain_hash(
            self.prev_hash,
            self.originator_id.hex,
            self.originator_version,
            self.recorded_at.isoformat(),
            self.schema,
            self.sealed,
            self.event_json,
        )


def chain_hash(
    prev_hash: str,
    stream_hex: str,
    version: int,
    recorded_at: str,
    schema: int,
    sealed: bytes | None,
    event_json: bytes,
) -> str:
    """SHA-256 over the predecessor's hash, the stream position, the transaction time (ISO
    8601) and the stored bytes. Callers pass the text forms so a batch formats them once."""
    header = f"{prev_hash}|{stream_hex}|{version}|{recorded_at}|{schema}|"
    if sealed is None:
        return hashlib.sha256(b"%s-|%s" % (header.encode(), event_json)).hexdigest()
    return hashlib.sha256(
        b"%s%d|%s%s" % (header.encode(), len(sealed), sealed, event_json)
    ).hexdigest()


_form_encoder = msgspec.json.Encoder()
_form_decoder = msgspec.json.Decoder(StoredForm)


def record_to_state(record: CaseRecord) -> bytes:
    return _form_encoder.encode(
        StoredForm(
            schema=record.schema,
            recorded_at=record.recorded_at,
            prev_hash=record.prev_hash,
            hash=record.hash,
            sealed=record.sealed,
            event=msgspec.Raw(record.event_json),
        )
    )


def record_from_row(originator_id: UUID, version: int, topic: str, state: bytes) -> CaseRecord:
    """Rebuild a record from a stored row; raises msgspec errors on corrupt rows."""
    form = _form_decoder.decode(state)
    return CaseRecord(
        originator_id=originator_id,
        originator_version=version,
        type=topic.removeprefix(TOPIC_PREFIX),
        schema=form.schema,
        recorded_at=form.recorded_at,
        prev_hash=form.prev_hash,
        hash=form.hash,
        sealed=form.sealed,
        event_json=bytes(form.event),
    )


def timestamp(value: datetime) -> str:
    """A moment in UTC, as ``datetime.isoformat`` writes it (``+00:00``; the microseconds only
    when there are some)."""
    # msgspec writes the same text but for ``Z``, in a fraction of the time: a history has a
    # timestamp for each of its events, and the views write it again on every catch-up.
    text: str = msgspec.to_builtins(value.astimezone(UTC))
    return text.replace("Z", "+00:00")


class StoredCaseEvent(msgspec.Struct, frozen=True):
    """One event as the ledger holds it, with personal data opened if its key still exists."""

    position: int
    version: int
    recorded_at: datetime
    hash: str
    prev_hash: str
    event: AnyEvent
    personal_erased: bool = False

    def to_wire(self) -> dict[str, Any]:
        """The event's wire fields plus what the ledger added when it stored it (the form
        `ledger events` and `GET /v1/persons/{p}/events` print)."""
        line: dict[str, Any] = msgspec.to_builtins(self.event, builtin_types=())
        line["type"] = self.event.type
        if self.personal_erased:
            line["personal"] = None
            line["personal_erased"] = True
        line |= {
            "recorded_at": timestamp(self.recorded_at),
            "position": self.position,
            "version": self.version,
            "hash": self.hash,
            "prev_hash": self.prev_hash,
        }
        return line
