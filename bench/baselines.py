"""What the ledger's figures are measured against, in the same run on the same kind of store.

Raw inserts of the very rows the ledger stored (one transaction for all, or one each), raw
one-row commits into a scratch table, and eventsourcing's default way of mapping an event: its
attributes as Python objects through the stdlib-json ``JSONTranscoder``.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec
import psycopg
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
)

from bench.stores import Store
from ledger.application import Ledger
from ledger.events import convert_event, encode_event
from ledger.records import TOPIC_PREFIX, CaseRecord
from ledger.stores.mapper import LedgerMapper

Row = tuple[Any, int, str, bytes]  # the originator id as the store gives it: UUID or text


def stored_rows(ledger: Ledger) -> list[Row]:
    """The rows the ledger stored, as its events table holds them."""
    return [
        (n.originator_id, n.originator_version, n.topic, n.state)
        for n in ledger.store.iter_notifications()
    ]


def raw_bulk_seconds(store: Store, rows: list[Row]) -> float:
    """The same rows into an empty events table: one executemany (SQLite) or COPY (PostgreSQL)
    in one transaction, and nothing else."""
    store.make_tables()
    if store.schema is not None:
        with psycopg.connect(store.db) as conn:
            started = time.perf_counter()
            with (
                conn.cursor() as cursor,
                cursor.copy(
                    f'COPY "{store.schema}".ledger_events '
                    "(originator_id, originator_version, topic, state) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            return time.perf_counter() - started
    lite = sqlite3.connect(store.db, isolation_level=None)
    try:
        started = time.perf_counter()
        lite.execute("BEGIN IMMEDIATE")
        lite.executemany(
            "INSERT INTO stored_events VALUES (?, ?, ?, ?)",
            [(oid.hex, version, topic, state) for oid, version, topic, state in rows],
        )
        lite.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        lite.close()


def raw_single_seconds(store: Store, rows: list[Row]) -> float:
    """The same rows into an empty events table, one durable transaction each, and nothing
    else."""
    store.make_tables()
    if store.schema is not None:
        with psycopg.connect(store.db, autocommit=True) as conn:
            started = time.perf_counter()
            for row in rows:
                conn.execute(
                    f'INSERT INTO "{store.schema}".ledger_events '
                    "(originator_id, originator_version, topic, state) VALUES (%s,%s,%s,%s)",
                    row,
                )
            return time.perf_counter() - started
    lite = sqlite3.connect(store.db, isolation_level=None)
    try:
        started = time.perf_counter()
        for oid, version, topic, state in rows:
            lite.execute("BEGIN IMMEDIATE")
            lite.execute(
                "INSERT INTO stored_events VALUES (?, ?, ?, ?)", (oid.hex, version, topic, state)
            )
            lite.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        lite.close()


def raw_commits_per_s(store: Store, seconds: float) -> float:
    """One-row durable commits into a scratch table of ``store`` for ``seconds``, per second."""
    row = (uuid.uuid4().hex, b"x" * 300)
    done = 0
    if store.schema is not None:
        with psycopg.connect(store.db, autocommit=True) as conn:
            table = f'"{store.schema}".raw_commits'
            conn.execute(f"CREATE TABLE {table} (id text, body bytea)")
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", row)
                done += 1
            return round(done / (time.perf_counter() - started), 1)
    lite = sqlite3.connect(store.db, isolation_level=None)
    try:
        lite.execute("CREATE TABLE raw_commits (id TEXT, body BLOB)")
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            lite.execute("BEGIN IMMEDIATE")
            lite.execute("INSERT INTO raw_commits VALUES (?, ?)", row)
            lite.execute("COMMIT")
            done += 1
        return round(done / (time.perf_counter() - started), 1)
    finally:
        lite.close()


# --- the default-transcoder path, for comparison with the typed msgspec mapper ------------------


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class BytesAsHex(Transcoding):
    type = bytes
    name = "bytes_hex"

    def encode(self, obj: bytes) -> str:
        return obj.hex()

    def decode(self, data: str) -> bytes:
        return bytes.fromhex(data)


def json_transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO(), BytesAsHex()):
        transcoder.register(transcoding)
    return transcoder


class JSONTranscoderMapper(LedgerMapper):
    """Maps case records the way an eventsourcing application does by default: the event's
    attributes as Python objects, through the stdlib-json ``JSONTranscoder``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transcoder = json_transcoder()

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if not isinstance(domain_event, CaseRecord):
            return super().to_stored_event(domain_event)
        state = {
            "schema": domain_event.schema,
            "recorded_at": domain_event.recorded_at,
            "prev_hash": domain_event.prev_hash,
            "hash": domain_event.hash,
            "sealed": domain_event.sealed,
            "event": msgspec.to_builtins(
                domain_event.decode(), builtin_types=(uuid.UUID, date, datetime, Decimal)
            ),
        }
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=TOPIC_PREFIX + domain_event.type,
            state=self.transcoder.encode(state),
        )

    def record(
        self, originator_id: uuid.UUID, version: int, topic: str, state: bytes
    ) -> CaseRecord:
        data = self.transcoder.decode(state)
        event = convert_event(msgspec.to_builtins(data["event"]))
        return CaseRecord(
            originator_id=originator_id,
            originator_version=version,
            type=topic.removeprefix(TOPIC_PREFIX),
            schema=data["schema"],
            recorded_at=data["recorded_at"],
            prev_hash=data["prev_hash"],
            hash=data["hash"],
            sealed=data["sealed"],
            event_json=encode_event(event),
        )


JSON_TRANSCODER_MAPPER = f"{__name__}:{JSONTranscoderMapper.__name__}"
