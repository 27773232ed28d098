"""Reading batches off the wire: NDJSON lines or a JSON array, each item tagged with its line.

Blank NDJSON lines are ignored but still counted, so ``line`` in an error is the line a person
sees in their editor. Nothing here knows about cases; it only turns bytes into events or typed
errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import NamedTuple

import msgspec

from ledger.errors import ErrorDetail, InvalidJson, LedgerError
from ledger.events import (
    UNDECODABLE,
    AnyEvent,
    check_envelope,
    decode_canonical,
)
from ledger.messages import malformed

MAX_LINE_BYTES = 1 << 20


class Line(NamedTuple):
    number: int
    raw: bytes


class Decoded(NamedTuple):
    line: int
    event: AnyEvent
    canonical: bytes  # the event's canonical JSON, made once while decoding


def ndjson_lines(data: bytes) -> list[Line]:
    return [
        Line(number, raw) for number, raw in enumerate(data.split(b"\n"), start=1) if raw.strip()
    ]


def json_array_items(data: bytes) -> list[Line]:
    """Elements of a JSON array body, numbered index + 1."""
    try:
        items = msgspec.json.decode(data, type=list[msgspec.Raw])
    except msgspec.ValidationError:
        raise InvalidJson("the body must be a JSON array of events") from None
    except UNDECODABLE as exc:
        raise InvalidJson("the body is not valid JSON: {exc}", exc=malformed(exc)) from None
    return [Line(index, bytes(item)) for index, item in enumerate(items, start=1)]


def _event_id_of(raw: bytes) -> str | None:
    """Best effort: the event_id of a refused line, for the error object."""
    try:
        value = msgspec.json.decode(raw)
    except UNDECODABLE:
        return None
    if isinstance(value, dict):
        event_id = value.get("event_id")
        if isinstance(event_id, str) and len(event_id) <= 64:
            return event_id
    return None


def decode_lines(
    lines: Iterable[Line], today: date, progress: Callable[[int], None] | None = None
) -> tuple[list[Decoded], list[ErrorDetail]]:
    """Decode and envelope-check every line; refused lines become error objects."""
    events: list[Decoded] = []
    errors: list[ErrorDetail] = []
    for count, (number, raw) in enumerate(lines, start=1):
        if progress is not None and count % 1000 == 0:
            progress(1000)
        try:
            if len(raw) > MAX_LINE_BYTES:
                raise InvalidJson(
                    "the line is longer than {MAX_LINE_BYTES} bytes", MAX_LINE_BYTES=MAX_LINE_BYTES
                )
            event, canonical = decode_canonical(raw)
            check_envelope(event, today)
        except LedgerError as exc:
            event_id = None if len(raw) > MAX_LINE_BYTES else _event_id_of(raw)
            errors.append(exc.detail(number, event_id))
            continue
        events.append(Decoded(number, event, canonical))
    return events, errors
