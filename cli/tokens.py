"""``ledger token``: make, list and revoke API tokens (stored hashed in the ledger's store)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from api.roles import ROLES, Role
from cli.context import Context, SpokenGroup, json_option
from cli.output import console, emit_json, key_value_table, paint, table
from ledger.errors import InvalidField
from ledger.i18n import DASH, LABELS

if TYPE_CHECKING:
    from api.tokens import Tokens

T = TypeVar("T")


def with_tokens(obj: Context, call: Callable[[Tokens], Awaitable[T]]) -> T:
    import asyncio

    from api.tokens import Tokens
    from ledger.stores.aio import AsyncStore

    async def run() -> T:
        obj.ledger()  # a ledger, migrated, before tokens are kept in it
        store = await AsyncStore.open(obj.settings)
        try:
            return await call(Tokens(store))
        finally:
            await store.close()

    return asyncio.run(run())


@click.group(cls=SpokenGroup)
def token() -> None:
    """Manage API tokens: each has one role (municipality, immigration_service, investigator,
    admin); a municipality token is bound to one kommunekode."""


@token.command()
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the token may do.")
@click.option("--municipality", metavar="CODE", help="Kommunekode (municipality role only).")
@json_option
@click.pass_obj
def create(obj: Context, role: Role, municipality: str | None, as_json: bool) -> None:
    """Make a token. Its secret is printed this once; the store keeps only its SHA-256."""
    from api.tokens import check_binding

    try:
        check_binding(role, municipality)
    except InvalidField as exc:
        raise click.BadParameter(exc.said(obj.words), param_hint=f"--{exc.field}") from None
    issued = with_tokens(obj, lambda t: t.create(role, municipality))
    if as_json:
        emit_json(issued)
        return
    _ = obj.words
    console.print(
        key_value_table(
            _("Token made: keep the secret now, it is not shown again"),
            [
                (_("id"), issued.token.id),
                (_("role"), _.label(role, LABELS)),
                (_("municipality"), municipality or DASH),
                (_("secret"), issued.secret),
            ],
        )
    )
    console.print(_("How to use it:"))
    console.print(
        "  " + _("over HTTP, send it in every request's Authorization header:"),
        markup=False,
    )
    console.print(
        f'    curl -H "Authorization: Bearer {issued.secret}" http://127.0.0.1:8000/v1/...',
        markup=False,
        soft_wrap=True,
    )
    if role != "admin":
        console.print(
            "  "
            + _(
                "on the web pages (`ledger serve --web`), sign in with it once at "
                "http://127.0.0.1:8000/web"
            ),
            markup=False,
        )
    console.print(
        "  " + _("revoke it with: ledger token revoke {id}", id=issued.token.id), markup=False
    )


@token.command(name="list")
@json_option
@click.pass_obj
def list_(obj: Context, as_json: bool) -> None:
    """List tokens (ids, roles, municipalities, when made and revoked; never secrets)."""
    found = with_tokens(obj, lambda t: t.list())
    if as_json:
        emit_json(found)
        return
    _ = obj.words
    listed = table(_("API tokens"), _("id"), _("role"), _("municipality"), _("made"), _("revoked"))
    for t in found:
        listed.add_row(
            t.id,
            _.label(t.role, LABELS),
            t.municipality or DASH,
            _.moment(t.created_at),
            _.moment(t.revoked_at) if t.revoked_at else DASH,
        )
    console.print(listed)


@token.command()
@click.argument("token_id", metavar="ID")
@json_option
@click.pass_obj
def revoke(obj: Context, token_id: str, as_json: bool) -> None:
    """Revoke the token ID at once, on every server using this store."""
    revoked = with_tokens(obj, lambda t: t.revoke(token_id))
    if as_json:
        emit_json(revoked)
    else:
        _ = obj.words
        console.print(
            paint("green", "✓ " + _("revoked"))
            + " "
            + _("{id} at {moment}", id=revoked.id, moment=_.moment(revoked.revoked_at))
        )


commands = [token]
