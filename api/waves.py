"""Point reads answered in waves: one trip to the store for many concurrent requests.

Every read the API makes to serve a request (its token, its view row) is a trip through the
store's driver: a hop to aiosqlite's thread, or a round trip to PostgreSQL. Under load, many
requests ask at the same moment. ``Waves`` lets them share trips without serving anyone stale
data: a lookup runs one at a time, and the questions asked while one runs wait for the next,
which starts only after all of them were asked. So every answer comes from a read that began
after its question did: a write committed before a request arrived (a revoked token, a view
row) is always seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Lookup = Callable[[Sequence[K]], Awaitable[dict[K, V]]]


class Waves(Generic[K, V]):
    """``await waves.ask(key)``: the value ``lookup`` finds for ``key``, or None."""

    def __init__(self, lookup: Lookup[K, V]) -> None:
        self._lookup = lookup
        self._gathering: dict[K, asyncio.Future[V | None]] | None = None
        self._one_at_a_time = asyncio.Lock()
        self._running: set[asyncio.Task[None]] = set()

    async def ask(self, key: K) -> V | None:
        if self._gathering is None:
            self._gathering = {}
            wave = asyncio.create_task(self._answer(self._gathering))
            self._running.add(wave)  # held until done: the loop keeps only weak references
            wave.add_done_callback(self._running.discard)
        answer = self._gathering.get(key)
        if answer is None:
            answer = self._gathering[key] = asyncio.get_running_loop().create_future()
        return await asyncio.shield(answer)  # one caller giving up does not cancel the others

    async def _answer(self, wave: dict[K, asyncio.Future[V | None]]) -> None:
        try:
            async with self._one_at_a_time:
                self._gathering = None  # questions from now on wait for the next wave
                try:
                    found = await self._lookup(list(wave))
                except Exception as exc:  # noqa: BLE001 - handed to every question of the wave
                    for answer in wave.values():
                        answer.set_exception(exc)
                else:
                    for key, answer in wave.items():
                        answer.set_result(found.get(key))
        finally:
            for answer in wave.values():
                if not answer.done():  # the server is stopping: no answer will come
                    answer.cancel()
