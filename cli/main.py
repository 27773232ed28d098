"""The ``ledger`` command: a thin face over the application service.

Each command opens the store, calls one method and prints the answer. Errors become a message
and an exit code here and nowhere else: 0 done, 1 input refused or domain error, 2 usage
error, 3 integrity failure found by ``verify``, 4 unknown person.

Command modules import click, the console and the error types at the top and everything else
(the application, the projections, the store's driver, progress bars) inside the command that
needs it, so ``ledger --help`` and each command load only what they use; the command modules
themselves are loaded when one of their commands runs (or help lists every command), so the
commands defined here load none of them.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from cli.context import (
    EXIT_INTEGRITY,
    EXIT_REFUSED,
    EXIT_UNKNOWN_PERSON,
    Context,
    SpokenGroup,
    json_option,
    progress_bar,
    speak,
)
from cli.output import (
    console,
    emit_json,
    err_console,
    error_table,
    key_value_table,
    paint,
    widen,
)
from ledger.config import DEFAULT_DB, describe
from ledger.errors import BatchRefused, IntegrityFailure, LedgerError, UnknownPerson
from ledger.faults import NO_ROOM, store_fault, unreachable
from ledger.i18n import DASH, DEFAULT_LANGUAGE, LANGUAGES, Language, Words

if TYPE_CHECKING:
    from ledger.application import AppendResult, VerifyReport
    from ledger.wire import Line


# The commands that live in modules of their own, and their modules: `ledger --help` lists them
# in one place with the commands of this module.
COMMAND_MODULES = {
    **dict.fromkeys(
        ("history", "sanctions", "status", "replay", "deadlines", "rebuild", "reevaluate"),
        "cli.views",
    ),
    **dict.fromkeys(("forget", "checkpoint", "export", "restore"), "cli.admin"),
    "serve": "cli.serve",
    "token": "cli.tokens",
    "bench": "cli.bench_command",
}


class LedgerGroup(SpokenGroup):
    """Maps the ledger's errors to exit codes, in one place; loads a command module when one of
    its commands is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            for command in importlib.import_module(module).commands:
                self.add_command(command)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerError as exc:
            fail(exc, *_face(ctx))
        except unreachable() as exc:
            fail(store_fault(exc), *_face(ctx))
        except OSError as exc:  # a file the command writes, on a full disk or /dev/full
            if exc.errno not in NO_ROOM:
                raise
            fail(store_fault(exc), *_face(ctx))


def _face(ctx: click.Context) -> tuple[Words, bool]:
    """The language and the JSON switch of the failed command (Danish, tables: by default)."""
    obj = ctx.obj if isinstance(ctx.obj, Context) else Context()
    return obj.words, obj.json


def fail(exc: LedgerError, _: Words, as_json: bool) -> NoReturn:
    errors = exc.errors if isinstance(exc, BatchRefused) else [exc.detail()]
    if as_json:
        emit_json({"errors": errors})
    elif isinstance(exc, BatchRefused):
        console.print(error_table(errors, _("Refused: {message}", message=exc.said(_)), _))
    else:
        field = f" ({exc.field})" if exc.field else ""
        err_console.print(paint("red", _("error")) + f" {exc.code}{field}: {exc.said(_)}")
    if isinstance(exc, UnknownPerson):
        sys.exit(EXIT_UNKNOWN_PERSON)
    sys.exit(EXIT_INTEGRITY if isinstance(exc, IntegrityFailure) else EXIT_REFUSED)


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="LEDGER_DB",
    default=DEFAULT_DB,
    show_default=True,
    metavar="PATH|URL",
    help="The store: a SQLite file (created on first use) or a "
    "postgresql://user:password@host:port/dbname URL. Env: LEDGER_DB.",
)
@click.option(
    "--lang",
    envvar="LEDGER_LANG",
    type=click.Choice(LANGUAGES),
    default=DEFAULT_LANGUAGE,
    show_default=True,
    is_eager=True,  # read before an eager --help that follows it, so the help is in it
    callback=speak,
    help="The language of help, tables and messages for people (never of --json). "
    "Env: LEDGER_LANG.",
)
@click.option(
    "--wide",
    is_flag=True,
    help="Lines as long as their content: no table cell folds, so ids and hashes stay on one "
    "line to copy (they are never cut; without --wide a long one folds within its cell).",
)
# help given here, not left to click, which would say it once, in the language of the import
@click.version_option(
    package_name="case-ledger", prog_name="ledger", help="Show the version and exit."
)
@click.pass_context
def cli(ctx: click.Context, db: str, lang: Language, wide: bool) -> None:
    """The integration case ledger: every action in a municipal integration case as an
    immutable event, with contract history, sanction accumulation (AKL § 69 r) and status
    reports for Udlændingestyrelsen rebuilt from the events."""
    obj = ctx.ensure_object(Context)
    obj.db = db
    obj.words = Words(lang)
    obj.wide = wide
    if wide:
        ctx.call_on_close(widen())
    ctx.call_on_close(obj.close)


def read_batch(file: str, _: Words) -> list[Line]:
    from ledger.wire import ndjson_lines

    if file == "-":
        return ndjson_lines(sys.stdin.buffer.read())
    path = Path(file)
    if not path.is_file():
        raise click.BadParameter(_("no such file: {file}", file=file), param_hint="FILE")
    return ndjson_lines(path.read_bytes())


@cli.command()
@click.argument("file", metavar="FILE")
@json_option
@click.pass_obj
def append(obj: Context, file: str, as_json: bool) -> None:
    """Append an NDJSON batch from FILE ('-' reads stdin).

    The batch is atomic: every event is stored, or none is. Re-sent events (same event_id,
    same content) are reported as duplicates and stored once. The materialised views are
    brought up to date here when they lag by at most one page of events; a larger import
    leaves them to the next `ledger serve`, `ledger rebuild` or worklist (reads of one person
    fold the events while the views lag).
    """
    from ledger.stores.views import PAGE

    lines = read_batch(file, obj.words)
    ledger = obj.ledger()
    label = obj.words("Appending {n} events", n=len(lines))
    with progress_bar(len(lines), label) as tick:
        result = ledger.append_lines(lines, tick)
    behind = None
    # A batch of more than a page leaves the views more than a page behind: the projections,
    # some 25 ms of loading, are not loaded at all.
    if result.appended <= PAGE:
        from projections.views import Views

        behind = Views(ledger).follow(PAGE)
    if as_json:
        answer = {k: getattr(result, k) for k in ("appended", "duplicates", "position")}
        emit_json(answer | ({"views_behind": behind} if behind else {}))
    else:
        print_append(result, obj.db, obj.words)
    if behind:
        _ = obj.words
        err_console.print(
            paint("yellow", _("the views are behind"))
            + f" ({behind}): "
            + _(
                "the batch is stored; reads fold the events until the views catch up on the "
                "next append or `ledger rebuild`"
            )
        )


def print_append(result: AppendResult, db: str, _: Words) -> None:
    rows = [
        (_("store"), describe(db)),
        (_("appended"), f"[green]{_.number(result.appended)}[/green]"),
        (_("duplicates (already stored)"), _.number(result.duplicates)),
        (_("ledger position"), _.number(result.position or 0)),
    ]
    console.print(key_value_table(_("Batch stored"), rows))


@cli.command()
@click.argument("person")
@click.pass_obj
def events(obj: Context, person: str) -> None:
    """The stored events of PERSON as NDJSON, each with recorded_at, position, version and
    hash (personal data shown only while the person's key exists)."""
    for stored in obj.ledger().case_events(person):
        emit_json(stored.to_wire())


@cli.command()
@click.argument("person", required=False)
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The public key (PEM) of the checkpoints: the latest checkpoint must carry its signature.",
)
@json_option
@click.pass_obj
def verify(obj: Context, person: str | None, public_key: Path | None, as_json: bool) -> None:
    """Re-check the hash chains of every case (or of PERSON) and the stored events against the
    latest signed checkpoint (`ledger checkpoint`): every event missing, rewritten or added
    before it is named with its person and position. Materialised view rows that no longer
    match their digests are named too. Exit code 3 when anything fails."""
    from ledger.checkpoints import load_public_key
    from projections.views import Views

    key = load_public_key(public_key, "--public-key") if public_key is not None else None
    ledger = obj.ledger()
    total = ledger.head_position() if person is None else 0
    with progress_bar(total, obj.words("Verifying")) as tick:
        report = Views(ledger).verify(person, tick, key)
    if as_json:
        emit_json(report)
    else:
        print_verify(report, obj.words)
    if not report.ok:
        sys.exit(EXIT_INTEGRITY)


def print_verify(report: VerifyReport, _: Words) -> None:
    seen = report.checkpoint
    if seen is not None:
        signed = _("signature checked") if seen.signature_checked else _("signature not checked")
        console.print(
            _(
                "checked against the checkpoint at position {position} of {moment} ({signed}; "
                "key {key})",
                position=seen.position,
                moment=_.moment(seen.created_at),
                signed=signed,
                key=seen.key_fingerprint,
            )
        )
    if report.ok:
        console.print(
            paint("green", "✓ " + _("verified"))
            + " "
            + _(
                "{events} events in {cases} case(s): every chain is intact",
                events=_.number(report.checked),
                cases=_.number(report.persons),
            )
        )
        return
    first = report.first_failure
    assert first is not None  # noqa: S101 - a failed report always names its first failure
    console.print(
        paint("red", "✗ " + _("integrity failure"))
        + " "
        + _("at position {position}: {reason}", position=first.position, reason=first.said(_))
    )
    table = error_table([], _("{n} failing event(s)", n=len(report.failures)), _)
    table.columns[0].header = _("position")
    for failure in report.failures:
        table.add_row(str(failure.position), _("tampered"), failure.person or DASH, failure.said(_))
    console.print(table)


def main() -> None:
    cli(prog_name="ledger")
