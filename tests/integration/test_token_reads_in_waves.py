"""Reads in waves (api.waves): shared trips to the store, never an answer older than the question.

The token table lives in a real SQLite file; the store is slowed down only by holding a finished
read back before it returns, to open the window in which a revoke lands.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from api.tokens import Tokens
from ledger.application import Ledger
from ledger.config import Settings
from ledger.stores.aio import SQLiteAsyncStore, TokenRow


class HeldBackStore(SQLiteAsyncStore):
    """A real SQLite store that counts token reads and can hold finished ones back."""

    reads = 0
    gate: asyncio.Event | None = None
    read_done: asyncio.Event | None = None

    async def live_token(self, secret_sha256: str) -> TokenRow | None:
        row = await super().live_token(secret_sha256)
        self.reads += 1
        if self.read_done is not None:
            self.read_done.set()
        if self.gate is not None:
            await self.gate.wait()
        return row


async def open_store(path: Path) -> HeldBackStore:
    """The async store of a new ledger file (opening the ledger applies the migrations, which
    make the tables)."""
    Ledger(str(path)).close()
    return await HeldBackStore.connect(Settings(db=str(path)))


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
            await store.revoke_token(issued.token.id, "now")
            after = asyncio.create_task(keeper.authenticate(issued.secret))
            await asyncio.sleep(0.01)
            store.gate.set()
            return (await before) is not None, (await after) is not None
        finally:
            await store.close()

    before_live, after_live = asyncio.run(scenario())
    assert before_live  # asked before the revoke: answered by the read that began before it
    assert not after_live  # asked after: waited for a read of its own
