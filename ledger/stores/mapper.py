"""The typed msgspec mapper (``MAPPER_TOPIC``): case records to stored events and back.

Case records are written as ``StoredForm`` JSON by ``ledger.records``; any other domain event falls
back to eventsourcing's own mapping. Compression and the cipher apply as eventsourcing applies them.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from ledger.errors import StoreError
from ledger.records import TOPIC_PREFIX, CaseRecord, record_from_row, record_to_state


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
                    "a stored event (version {version} of stream {originator_id}) cannot be "
                    "decrypted: is LEDGER_CIPHER_KEY the key this store was written with? ({exc})",
                    version=version,
                    originator_id=originator_id,
                    exc=exc,
                ) from None
        if self.compressor:
            state = self.compressor.decompress(state)
        return record_from_row(originator_id, version, topic, state)
