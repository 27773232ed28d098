"""The shards a parallel view rebuild splits the event streams into: every stream id falls in
exactly one (the rebuild itself is checked in ``tests/integration/test_views.py``)."""

from __future__ import annotations

import itertools
import uuid

from ledger.stores.base import shards


def test_the_shards_of_a_parallel_rebuild_cover_every_stream_once() -> None:
    cut = shards(7)
    assert cut[0].low is None
    assert cut[-1].high is None
    assert all(a.high == b.low for a, b in itertools.pairwise(cut))
    ids = [uuid.uuid4() for _ in range(2000)] + [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]
    for oid in ids:
        holding = [
            s for s in cut if (s.low is None or oid >= s.low) and (s.high is None or oid < s.high)
        ]
        assert len(holding) == 1
