"""The projector's memory of the cases it folded lately.

A server's projector folds each touched case once per catch-up, over the whole case (a
conclusion is never computed over part of one). Reading and decoding a long case again for
every catch-up costs more than folding it, and grows with the case; so the projector keeps the
decoded events of the cases it folded last, and extends a remembered case with the events of
the page it is applying, read from the log anyway. What it remembers is exactly what the store
held up to the position it has applied (``through``): a page that does not start there (another
process applied pages meanwhile, or a rebuild reset the views) makes it forget everything, and
a case it does not remember is read whole from the store, up to the page's end.

Bounded by the number of events held: the cases folded longest ago are forgotten first. Only
events as the views read them are held (personal data sealed), so forgetting a person's key
leaves nothing opened here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from uuid import UUID

from ledger.records import StoredCaseEvent, stream_id

Case = tuple[StoredCaseEvent, ...]
ReadCases = Callable[[list[UUID]], Iterable[list[StoredCaseEvent]]]


class RecentCases:
    """Decoded cases, whole up to ``through``, at most ``limit`` events in all (0: none)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.through = 0
        self._cases: OrderedDict[UUID, Case] = OrderedDict()
        self._held = 0
        self._pending: dict[UUID, Case] = {}  # folded from the page being applied

    def __len__(self) -> int:
        return self._held

    def cases(
        self,
        page: tuple[int, int],
        new: dict[UUID, list[StoredCaseEvent]],
        read: ReadCases,
    ) -> Iterator[Case]:
        """Each case with events in a page of the log (``new``, by stream; ``page``: the
        positions it follows and ends at), whole up to the page's end: a remembered case
        extended by its new events, any other read with ``read`` (whole, from the store, as
        the caller goes) and cut at the page's end. ``applied`` keeps them once the page is."""
        after, end = page
        if after != self.through:
            self.forget()
        self._pending = {}
        missing: list[UUID] = []
        for oid, events in new.items():
            known = self._cases.get(oid)
            if known is None:
                missing.append(oid)
            else:
                yield self._folded(oid, (*known, *events))
        if missing:
            for events in read(missing):
                if events:
                    oid = stream_id(events[0].event.person)
                    yield self._folded(oid, tuple(e for e in events if e.position <= end))

    def _folded(self, oid: UUID, case: Case) -> Case:
        if self.limit > 0:
            self._pending[oid] = case
        return case

    def applied(self, through: int) -> None:
        """The page whose cases ``cases`` gave was applied up to position ``through``: keep
        them as the most recent, forgetting the oldest beyond ``limit``."""
        for oid, events in self._pending.items():
            old = self._cases.pop(oid, ())
            self._held += len(events) - len(old)
            self._cases[oid] = events
        self._pending = {}
        while self._held > self.limit and self._cases:
            _, events = self._cases.popitem(last=False)
            self._held -= len(events)
        self.through = through if self.limit > 0 else 0

    def forget(self) -> None:
        self._cases.clear()
        self._held = 0
        self.through = 0
