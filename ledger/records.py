"""How one case event is stored, chained and mapped onto eventsourcing's stored events.

A stored event's ``state`` is the JSON of ``StoredForm``: the ledger's metadata (schema
version, transaction time, predecessor hash, own hash, sealed personal data) and the event's
canonical JSON kept byte for byte (``msgspec.Raw``), so the hash is always recomputed over the
exact bytes that were stored. ``LedgerMapper`` is the typed msgspec mapper selected with
``MAPPER_TOPIC``; any other domain event falls back to eventsourcing's own mapping.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent

from ledger.errors import StoreError
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


class LedgerMapper(Mapper[UUID]):
    """Typed msgspec mapping for case records; eventsourcing's default for anything else."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if isinstance(domain_event, CaseRecord):
            state = record_to_state(domain_event)
            if self.compressor:
                state = self.compressor.compress(state)
            if self.cipher:
                state = self.cipher.encrypt(state)
            return StoredEvent(
                originator_id=domain_event.originator_id,
                originator_version=domain_event.originator_version,
                topic=TOPIC_PREFIX + domain_event.type,
                state=state,
            )
        return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        if stored_event.topic.startswith(TOPIC_PREFIX):
            originator_id = stored_event.originator_id
            return self.record(
                originator_id if isinstance(originator_id, UUID) else UUID(originator_id),
                stored_event.originator_version,
                stored_event.topic,
                stored_event.state,
            )
        return super().to_domain_event(stored_event)

    def record(self, originator_id: UUID, version: int, topic: str, state: bytes) -> CaseRecord:
        """A case record from a stored row (raises on rows that do not decode)."""
        if self.cipher:
            try:
                state = self.cipher.decrypt(state)
            except Exception as exc:  # noqa: BLE001 - each cipher fails in its own way
                raise StoreError(
                    f"a stored event (version {version} of stream {originator_id}) cannot be "
                    f"decrypted: is LEDGER_CIPHER_KEY the key this store was written with? ({exc})"
                ) from None
        if self.compressor:
            state = self.compressor.decompress(state)
        return record_from_row(originator_id, version, topic, state)
