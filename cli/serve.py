"""``ledger serve``: the HTTP API on uvicorn (INTERFACE.md, "HTTP API"), and signed checkpoints
on a schedule beside it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.context import Context, SpokenCommand
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.config import Settings


@click.command(cls=SpokenCommand)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--checkpoint-key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="LEDGER_CHECKPOINT_KEY",
    help="Sign a checkpoint of the ledger's head on a schedule with this private key (PEM), "
    "kept outside the store. Env: LEDGER_CHECKPOINT_KEY.",
)
@click.option(
    "--checkpoint-every",
    default=300,
    show_default=True,
    type=click.IntRange(min=1),
    envvar="LEDGER_CHECKPOINT_EVERY",
    metavar="SECONDS",
    help="How often to sign one, when events were appended since the last. "
    "Env: LEDGER_CHECKPOINT_EVERY.",
)
@click.option(
    "--web",
    is_flag=True,
    help="Serve the web pages for people too, under /web (sign in with a token).",
)
@click.pass_obj
def serve(
    obj: Context,
    host: str,
    port: int,
    checkpoint_key: Path | None,
    checkpoint_every: int,
    web: bool,
) -> None:
    """Serve the HTTP API: appends for case systems, status reports and a change feed for
    Udlændingestyrelsen, replay and integrity checks for investigators. Every /v1 call needs
    a token (`ledger token create`); the OpenAPI document is at /schema/openapi.json. Logs one
    JSON line per request on stderr. With --checkpoint-key, also signs the ledger's head on a
    schedule (`ledger checkpoint`)."""
    # The HTTP stack loads only for this command, so every other command starts quickly.
    import uvicorn

    from api.app import create_app
    from api.observe import log_to_stderr
    from ledger.checkpoints import load_private_key

    obj.ledger()  # a store that cannot be opened (its key missing, say) is refused here
    key = load_private_key(checkpoint_key, "--checkpoint-key") if checkpoint_key else None
    log_to_stderr()
    stop = threading.Event()
    if key is not None:
        threading.Thread(
            target=sign_on_schedule,
            args=(obj.settings, key, checkpoint_every, stop),
            name="ledger-checkpoints",
            daemon=True,
        ).start()
    try:
        uvicorn.run(
            create_app(obj.db, web=web, settings=obj.settings),
            host=host,
            port=port,
            access_log=False,
            log_config=None,
            lifespan="on",
        )
    finally:
        stop.set()


def sign_on_schedule(
    settings: Settings, key: Ed25519PrivateKey, every: int, stop: threading.Event
) -> None:
    """Every ``every`` seconds, sign a checkpoint if events were appended since the last one.
    A failure is logged and tried again next time: the server keeps serving."""
    import logging

    from ledger.application import Ledger

    logger = logging.getLogger("ledger.checkpoints")

    with Ledger(settings.db, settings=settings) as ledger:
        while not stop.wait(every):
            try:
                checkpoints = ledger.checkpoints()
                if checkpoints and ledger.head_position() <= checkpoints[-1].position:
                    continue
                signed = ledger.checkpoint(key)
            except LedgerError as exc:
                fields = {"code": exc.code, "reason": exc.message}
                logger.error("checkpoint not signed", extra={"fields": fields})  # noqa: TRY400
                continue
            except Exception:  # the store unreachable, say: try again next time
                logger.exception("checkpoint not signed")
                continue
            logger.info(
                "checkpoint signed",
                extra={"fields": {"position": signed.position, "head": signed.head}},
            )


commands = [serve]
