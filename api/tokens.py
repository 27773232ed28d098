"""API tokens: making, listing, revoking and authenticating the tokens callers hold.

A token is 32 random bytes, shown once when it is made. The store keeps only its SHA-256, with
the token's id, role, municipality (for the ``municipality`` role, and only for it), when it was
made and when it was revoked (``ledger.stores.aio``). Revoking keeps the row, so the access
log's token ids stay resolvable. The same table serves every process on the store: a token made
with ``ledger token create`` works at once on every running server.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from collections.abc import Sequence

import msgspec

from api.roles import ROLES, Role
from api.waves import Waves
from ledger.clock import now_utc
from ledger.errors import InvalidField, LedgerError
from ledger.municipalities import is_kommunekode
from ledger.stores.aio import AsyncStore, TokenRow

# A token's id is written into the events it records (`recorded_by`), and every string of an
# event is refused if it looks like a CPR number: letters only, so no id ever does.
ID_LETTERS = string.ascii_lowercase
ID_LENGTH = 16


class UnknownToken(LedgerError):
    code = "unknown_token"


class Token(msgspec.Struct, frozen=True):
    """A token as anyone may see it: never its secret."""

    id: str
    role: Role
    municipality: str | None
    created_at: str
    revoked_at: str | None = None

    @classmethod
    def of(cls, row: TokenRow) -> Token:
        return msgspec.convert(row._asdict(), cls)


class IssuedToken(msgspec.Struct, frozen=True):
    """A new token with its secret: the only time the secret is shown."""

    token: Token
    secret: str


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_binding(role: str, municipality: str | None) -> None:
    """A municipality token names one kommunekode; no other role names any."""
    if role not in ROLES:
        raise InvalidField(
            "role {role!r} is not one of {roles}", "role", role=role, roles=", ".join(ROLES)
        )
    if role == "municipality":
        if municipality is None:
            raise InvalidField("a municipality token must name its kommunekode", "municipality")
        if not is_kommunekode(municipality):
            raise InvalidField(
                "{municipality!r} is not one of the 98 kommunekoder",
                "municipality",
                municipality=municipality,
            )
    elif municipality is not None:
        raise InvalidField(
            "only a municipality token names a municipality, not {role}", "municipality", role=role
        )


class Tokens:
    def __init__(self, store: AsyncStore) -> None:
        self.store = store
        self._live: Waves[str, Token] = Waves(self._look_up)

    async def create(self, role: Role, municipality: str | None = None) -> IssuedToken:
        check_binding(role, municipality)
        secret = secrets.token_urlsafe(32)
        token = Token(
            id=f"tok_{''.join(secrets.choice(ID_LETTERS) for _ in range(ID_LENGTH))}",
            role=role,
            municipality=municipality,
            created_at=now_utc().isoformat(),
        )
        row = TokenRow(token.id, role, municipality, token.created_at, None)
        await self.store.insert_token(row, secret_digest(secret))
        return IssuedToken(token, secret)

    async def list(self) -> list[Token]:
        return [Token.of(row) for row in await self.store.tokens()]

    async def revoke(self, token_id: str) -> Token:
        """Revoke a token (a revoked one stays revoked, from its first revocation)."""
        row = await self.store.revoke_token(token_id, now_utc().isoformat())
        if row is None:
            raise UnknownToken("there is no token with id {token_id!r}", "id", token_id=token_id)
        return Token.of(row)

    async def authenticate(self, secret: str) -> Token | None:
        """The live token with this secret, or None (unknown or revoked). Looked up in waves
        (``api.waves``): always by a read that began after the request arrived, so a revoke
        committed before then is always seen."""
        return await self._live.ask(secret_digest(secret))

    async def _look_up(self, digests: Sequence[str]) -> dict[str, Token]:
        found: dict[str, Token] = {}
        for digest in digests:  # nearly always one: the callers of a busy server share tokens
            row = await self.store.live_token(digest)
            if row is not None:
                found[digest] = Token.of(row)
        return found
