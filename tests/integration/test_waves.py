"""Reads in waves (api.waves): shared trips to the store, never an answer older than the question.

The token table lives in a real SQLite file; the store is slowed down only by holding a finished
read back before it returns, to open the window in which a revoke lands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from api import tokens
from api.db import Params, Row, SQLiteDatabase
from api.tokens import Tokens
from api.waves import Waves
from ledger.config import Settings


class HeldBackStore(SQLiteDatabase):
    """A real SQLite store that counts token reads and can hold finished ones back."""

    reads = 0
    gate: asyncio.Event | None = None
    read_done: asyncio.Event | None = None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        rows = await super().fetch_all(sql, params)
        if "secret_sha256" in sql:
            self.reads += 1
            if self.read_done is not None:
                self.read_done.set()
            if self.gate is not None:
                await self.gate.wait()
        return rows


async def open_store(path: Path) -> HeldBackStore:
    plain = await SQLiteDatabase.connect(Settings(db=str(path)))
    store = HeldBackStore(plain._all)
    await store.create(tokens.SCHEMA)
    return store


def test_questions_asked_together_share_one_read(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[str | None], int]:
        store = await open_store(tmp_path / "ledger.db")
        try:
            keeper = Tokens(store)
            issued = await keeper.create("immigration_service")
            answers = await asyncio.gather(
                *(keeper.authenticate(issued.secret) for _ in range(40)),
                keeper.authenticate("not a token"),
            )
            return [None if a is None else a.id for a in answers], store.reads
        finally:
            await store.close()

    ids, reads = asyncio.run(scenario())
    assert len(set(ids[:40])) == 1
    assert ids[0] is not None
    assert ids[40] is None
    assert reads == 2  # one read per distinct secret, not one per question


def test_a_question_asked_after_a_revoke_never_shares_an_earlier_read(tmp_path: Path) -> None:
    async def scenario() -> tuple[bool, bool]:
        store = await open_store(tmp_path / "ledger.db")
        try:
            keeper = Tokens(store)
            issued = await keeper.create("immigration_service")
            store.gate, store.read_done = asyncio.Event(), asyncio.Event()
            before = asyncio.create_task(keeper.authenticate(issued.secret))
            await store.read_done.wait()  # its read found the token live and is held back
            await store.execute(
                "UPDATE ledger_api_tokens SET revoked_at = 'now' WHERE id = ?", (issued.token.id,)
            )
            after = asyncio.create_task(keeper.authenticate(issued.secret))
            await asyncio.sleep(0.01)
            store.gate.set()
            return (await before) is not None, (await after) is not None
        finally:
            await store.close()

    before_live, after_live = asyncio.run(scenario())
    assert before_live  # asked before the revoke: answered by the read that began before it
    assert not after_live  # asked after: waited for a read of its own


def test_a_failed_read_fails_every_question_of_its_wave_and_only_that_wave() -> None:
    failing = True

    async def lookup(keys: Sequence[str]) -> dict[str, int]:
        await asyncio.sleep(0)
        if failing:
            raise OSError("the store went away")
        return {key: len(key) for key in keys}

    async def scenario() -> tuple[list[BaseException | int | None], int | None]:
        nonlocal failing
        waves: Waves[str, int] = Waves(lookup)
        first = await asyncio.gather(*(waves.ask(k) for k in ("a", "bb")), return_exceptions=True)
        failing = False
        return first, await waves.ask("ccc")

    first, later = asyncio.run(scenario())
    assert all(isinstance(answer, OSError) for answer in first)
    assert later == 3


def test_one_question_given_up_leaves_the_others_of_its_wave_answered() -> None:
    async def scenario() -> int | None:
        gate = asyncio.Event()

        async def lookup(keys: Sequence[str]) -> dict[str, int]:
            await gate.wait()
            return dict.fromkeys(keys, 7)

        waves: Waves[str, int] = Waves(lookup)
        impatient = asyncio.create_task(waves.ask("k"))
        patient = asyncio.create_task(waves.ask("k"))
        await asyncio.sleep(0)
        impatient.cancel()
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await impatient
        return await patient

    assert asyncio.run(scenario()) == 7
