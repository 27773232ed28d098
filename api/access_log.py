"""The access log: who was shown what of whose case, on which legal basis, and when.

Every read that discloses another municipality's events to a municipality, and every
investigator read of a case, adds one row before the answer leaves the server. The table is
append-only: this module has no update or delete, and the store itself refuses them (a trigger
on SQLite and on PostgreSQL), so a row, once written, stays as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from api.db import Database, Dialect, Row
from api.tokens import Token
from ledger.clock import now_utc

_REFUSAL = "the access log is append-only"

SCHEMA: dict[Dialect, tuple[str, ...]] = {
    "sqlite": (
        (
            "CREATE TABLE IF NOT EXISTS ledger_access_log ("
            "id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, token_id TEXT NOT NULL, "
            "role TEXT NOT NULL, municipality TEXT, person TEXT NOT NULL, action TEXT NOT NULL, "
            "categories TEXT NOT NULL, legal_basis TEXT NOT NULL)"
        ),
        *(
            f"CREATE TRIGGER IF NOT EXISTS ledger_access_log_no_{what.lower()} "
            f"BEFORE {what} ON ledger_access_log BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
            for what in ("UPDATE", "DELETE")
        ),
    ),
    "postgres": (
        (
            "CREATE TABLE IF NOT EXISTS ledger_access_log ("
            "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at text NOT NULL, "
            "token_id text NOT NULL, role text NOT NULL, municipality text, person text NOT NULL, "
            "action text NOT NULL, categories text NOT NULL, legal_basis text NOT NULL)"
        ),
        (
            "CREATE OR REPLACE FUNCTION ledger_access_log_refuse() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{_REFUSAL}'; END $$"
        ),
        (
            "CREATE OR REPLACE TRIGGER ledger_access_log_no_change BEFORE UPDATE OR DELETE "
            "ON ledger_access_log FOR EACH ROW EXECUTE FUNCTION ledger_access_log_refuse()"
        ),
        (
            "CREATE OR REPLACE TRIGGER ledger_access_log_no_truncate BEFORE TRUNCATE "
            "ON ledger_access_log FOR EACH STATEMENT EXECUTE FUNCTION ledger_access_log_refuse()"
        ),
    ),
}

_list = msgspec.json.Decoder(list[str])


class AccessEntry(msgspec.Struct, frozen=True):
    id: int
    at: str
    token_id: str
    role: str
    municipality: str | None
    person: str
    action: str
    categories: list[str]
    legal_basis: list[str]


class AccessLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        who: Token,
        person: str,
        action: str,
        categories: Sequence[str],
        legal_basis: Sequence[str],
    ) -> None:
        await self.db.execute(
            "INSERT INTO ledger_access_log (at, token_id, role, municipality, person, action, "
            "categories, legal_basis) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                now_utc().isoformat(),
                who.id,
                who.role,
                who.municipality,
                person,
                action,
                msgspec.json.encode(list(categories)).decode(),
                msgspec.json.encode(list(legal_basis)).decode(),
            ),
        )

    async def entries(self, after: int, limit: int, person: str | None) -> list[AccessEntry]:
        """Entries after an id, oldest first; only those about ``person`` when given."""
        rows = await self.db.fetch_all(
            "SELECT id, at, token_id, role, municipality, person, action, categories, "
            "legal_basis FROM ledger_access_log "
            "WHERE id > ? AND (CAST(? AS TEXT) IS NULL OR person = ?) ORDER BY id LIMIT ?",
            (after, person, person, limit),
        )
        return [_entry(row) for row in rows]


def _entry(row: Row) -> AccessEntry:
    entry_id, at, token_id, role, municipality, person, action, categories, legal_basis = row
    return AccessEntry(
        entry_id,
        at,
        token_id,
        role,
        municipality,
        person,
        action,
        _list.decode(categories),
        _list.decode(legal_basis),
    )
