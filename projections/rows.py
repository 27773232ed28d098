"""The materialised rows' content: which folds make a person's view rows, and their digests.

Pure: one row per person and view kind (``status``, ``sanctions``, ``history``), computed by the
same fold a live read uses (``render``), for the Danish day on which it was computed. Each row
keeps the digest of what it stores (``body_digest``, over the row's person, kind, day, position
and stored body); keeping, sealing and serving the rows is the read service's
(``projections.views``), storing them ``ledger.stores.views``.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import msgspec

from ledger.clock import now_utc
from ledger.records import StoredCaseEvent
from ledger.stores.views import Announced, ViewRow
from projections.common import Selection, select, to_json
from projections.history import fold_history
from projections.sanctions import fold_sanctions
from projections.status import fold_status

KINDS = ("status", "sanctions", "history")


def body_digest(row: ViewRow) -> str:
    """SHA-256 over what a row stores and says it is: person, kind, day, position and the
    stored body (encrypted, when the store is)."""
    header = f"{row.person}|{row.kind}|{row.as_of}|{row.position}|".encode()
    return hashlib.sha256(header + row.body).hexdigest()


# Bodies from this length on are stored compressed: a history row holds every event of its
# case, and each catch-up that touches the case writes it again (on SQLite under the one write
# lock the appends wait for). A status row, the read served most, stays far shorter.
PACK_FROM = 16 * 1024
_PACKED = b"\x78"  # the first byte of zlib's format; a JSON body begins with "{"


def packed(body: bytes) -> bytes:
    """A body as stored: compressed from ``PACK_FROM`` bytes on (zlib at its fastest level,
    about a seventh of a long history's JSON), otherwise as it is."""
    return zlib.compress(body, 1) if len(body) >= PACK_FROM else body


def unpacked(stored: bytes) -> bytes:
    """The JSON of a body as stored (rows written before bodies were compressed are JSON)."""
    return zlib.decompress(stored) if stored[:1] == _PACKED else stored


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


class CaseRows(NamedTuple):
    """A person's view rows, and the feed item announcing the status report among them."""

    rows: list[ViewRow]
    announced: Announced


def view_rows(person: str, events: Sequence[StoredCaseEvent], as_of: date) -> CaseRows:
    selection = select(person, events, as_of, None)  # one selection, shared by every view
    rows = []
    announced = Announced(person, selection.position, as_of.isoformat(), selection.known_at, None)
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
        if kind == "status":
            # The report's own as_of and known_at: passed back to a read, they reproduce it.
            announced = announced._replace(digest=view.digest)
    return CaseRows(rows, announced)


def report_changed(before: bytes, after: bytes) -> bool:
    """Do two status reports of one person differ beyond the stamps of when they were made
    (``as_of``, ``known_at``, ``generated_at``, ``position`` and the digest over them)? A day
    passing changes a report only where a time-dependent value moved: a follow-up became
    overdue, help months rolled out of the window."""
    return _unstamped(before) != _unstamped(after)


_STAMPS = ("as_of", "known_at", "generated_at", "position", "digest")
_json = msgspec.json.Decoder()


def _unstamped(body: bytes) -> dict[str, Any]:
    report: dict[str, Any] = _json.decode(body)
    for stamp in _STAMPS:
        report.pop(stamp, None)
    return report
