"""What the materialised views ask of a store, and the rows they keep there.

One row per person and view kind, with the digest of what it stores; the views' position is
tracked in eventsourcing's tracking table under ``VIEWS_NAME``, written with the rows it covers
(on PostgreSQL in their transaction; on SQLite, whose one writer the appends wait for, in the
last of a few short ones, each write idempotent: ``sqlite_views``). A row replaces only an
older one (a later position, or a later day's at the same position), so writing the same rows
again changes nothing. The status feed is a table of its own: each item announces a status row
written in the same transaction, and only when that row was written (so an item never names a
report the store does not hold, and a write made twice announces once), and
is numbered (``seq``) in commit order, so a poller that has read item N never later finds one
below N (SQLite has one writer at a time; on PostgreSQL the writer holds the feed table's
EXCLUSIVE lock until it commits, as eventsourcing does for its notification ids). The day the
views were last re-evaluated for is a store setting (``REEVALUATED``), moved forward only by a
conditional update under that same lock, so several processes on one store re-evaluate a day
once. ``sqlite_views`` and ``postgres_views`` implement ``ViewRecorder`` on
each store (``ledger.config`` names the one of a ledger's store by topic); ``aio`` reads the
same rows asynchronously for the HTTP face. What the rows hold and when they are served is the
read service's (``projections.views``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

import msgspec

if TYPE_CHECKING:
    from eventsourcing.persistence import Tracking

VIEWS_NAME = "case-views"  # the name the views' position is tracked under
# The views apply the log a page of events at a time, each page in one transaction; a face
# that catches up after its own append does so only while at most a page waits.
PAGE = 2000
VIEW_COLUMNS = "person, kind, municipality, as_of, position, digest, body, body_digest"
FEED_COLUMNS = "seq, person, position, as_of, known_at, digest"
REEVALUATED = "views_reevaluated_on"  # the store setting: the last Danish day re-evaluated


class ViewRow(NamedTuple):
    person: str
    kind: str
    municipality: str | None
    as_of: str
    position: int
    digest: str | None
    body: bytes
    body_digest: str | None = None


class Announced(NamedTuple):
    """A status report to announce in the feed: ``person``'s report as of ``as_of`` as known at
    ``known_at`` (the report's own stamps: passed back to a read, they reproduce ``digest``)."""

    person: str
    position: int
    as_of: str
    known_at: str | None
    digest: str | None


class FeedItem(msgspec.Struct, frozen=True):
    """An item of the status feed: ``person``'s status report changed (at ``position``, or
    because a day passed), to the report of ``digest`` as of ``as_of`` as known at ``known_at``.
    ``known_at`` is null only for items made from the rows of a store upgraded from before the
    feed kept it."""

    seq: int
    person: str
    position: int
    as_of: str
    known_at: str | None
    digest: str | None


class ViewRecorder(ABC):
    """What the views need of a store, beyond eventsourcing's tracking recorder."""

    @abstractmethod
    def write_views(
        self,
        rows: Sequence[ViewRow],
        tracking: Tracking | None,
        announced: Sequence[Announced] = (),
    ) -> None:
        """Write the rows newer than the stored ones, append to the status feed the items of
        the status rows written (and those whose person has no status row among ``rows``), and
        record the tracking position; a position tracked already is refused
        (``IntegrityError``) before anything more is written. Written again, the same rows and
        items change nothing."""

    @abstractmethod
    def write_reevaluated(
        self, rows: Sequence[ViewRow], announced: Sequence[Announced], day: str
    ) -> tuple[int, int]:
        """Rewrite the rows of a day's re-evaluation, in one transaction under the feed's lock:
        only those of persons whose stored status row is still for a day before ``day`` and at
        the same position (a process that re-evaluated them already, or a new event, wrote a
        newer one); announce those of them in ``announced``. Returns (persons written, items
        written)."""

    @abstractmethod
    def stale_statuses(self, day: str, after: str, limit: int) -> list[ViewRow]:
        """Up to ``limit`` status rows for a day before ``day``, of persons after ``after``, in
        person order."""

    @abstractmethod
    def count_stale(self, day: str) -> int:
        """How many status rows are for a day before ``day``."""

    @abstractmethod
    def claim_day(self, day: str) -> bool:
        """Record ``day`` as the day the views are re-evaluated for, unless that is ``day`` or
        later already; True when this call moved it (then the caller re-evaluates)."""

    @abstractmethod
    def select_feed(self, after: int, limit: int) -> list[FeedItem]:
        """Up to ``limit`` feed items with ``seq`` above ``after``, in ``seq`` order."""

    @abstractmethod
    def reset_views(self, name: str) -> None:
        """Forget every row and the tracking position (before a rebuild)."""

    @abstractmethod
    def select_view(self, person: str, kind: str) -> ViewRow | None: ...

    @abstractmethod
    def iter_views(self, person: str | None) -> Iterator[ViewRow]:
        """Every view row (of one person, if given)."""

    @abstractmethod
    def select_persons(self, municipality: str) -> list[str]:
        """The persons whose status row names ``municipality`` as responsible."""

    @abstractmethod
    def max_tracking_id(self, application_name: str) -> int | None: ...
