"""What the materialised views ask of a store, and the rows they keep there.

One row per person and view kind, with the digest of what it stores; the views' position is
tracked in eventsourcing's tracking table under ``VIEWS_NAME``, written in the same transaction
as the rows it covers. ``sqlite_views`` and ``postgres_views`` implement ``ViewRecorder`` on
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
VIEW_COLUMNS = "person, kind, municipality, as_of, position, digest, body, body_digest"


class ViewRow(NamedTuple):
    person: str
    kind: str
    municipality: str | None
    as_of: str
    position: int
    digest: str | None
    body: bytes
    body_digest: str | None = None


class FeedItem(msgspec.Struct, frozen=True):
    """A person whose status report changed: at ``position``, to the report of ``digest``."""

    person: str
    position: int
    digest: str | None


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
    def select_persons(self, municipality: str) -> list[str]:
        """The persons whose status row names ``municipality`` as responsible."""

    @abstractmethod
    def max_tracking_id(self, application_name: str) -> int | None: ...
