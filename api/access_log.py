"""The access log: who was shown what of whose case, on which legal basis, and when.

Every read that discloses another municipality's events to a municipality, and every
investigator read of a case, adds one row before the answer leaves the server. The table is
append-only: the store has no update or delete of it, and refuses them itself (a trigger on
SQLite and on PostgreSQL, ``ledger.stores.aio``), so a row, once written, stays as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.tokens import Token
from ledger.clock import now_utc
from ledger.stores.aio import AccessEntry, AsyncStore


class AccessLog:
    def __init__(self, store: AsyncStore) -> None:
        self.store = store

    async def record(
        self,
        who: Token,
        person: str,
        action: str,
        categories: Sequence[str],
        legal_basis: Sequence[str],
    ) -> None:
        await self.store.append_access(
            now_utc().isoformat(),
            who.id,
            who.role,
            who.municipality,
            person,
            action,
            categories,
            legal_basis,
        )

    async def entries(self, after: int, limit: int, person: str | None) -> list[AccessEntry]:
        """Entries after an id, oldest first; only those about ``person`` when given."""
        return await self.store.access_entries(after, limit, person)
