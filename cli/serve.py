"""``ledger serve``: the HTTP API on uvicorn (INTERFACE.md, "HTTP API")."""

from __future__ import annotations

import click

from cli.main import Context


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.pass_obj
def serve(obj: Context, host: str, port: int) -> None:
    """Serve the HTTP API: appends for case systems, status reports and a change feed for
    Udlændingestyrelsen, replay and integrity checks for investigators. Every /v1 call needs
    a token (`ledger token create`); the OpenAPI document is at /schema/openapi.json. Logs one
    JSON line per request on stderr."""
    # The HTTP stack loads only for this command, so every other command starts quickly.
    import uvicorn

    from api.app import create_app
    from api.observe import log_to_stderr

    log_to_stderr()
    uvicorn.run(
        create_app(obj.db), host=host, port=port, access_log=False, log_config=None, lifespan="on"
    )


commands = [serve]
