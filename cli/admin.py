"""Commands that administer the ledger's data: forgetting a person, backing up, restoring."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NoReturn

import click
import msgspec

from cli.context import (
    EXIT_INTEGRITY,
    EXIT_REFUSED,
    Context,
    SpokenCommand,
    json_option,
    progress_bar,
)
from cli.output import console, emit_json, err_console, key_value_table, paint
from ledger.config import describe
from ledger.i18n import Words

if TYPE_CHECKING:
    from ledger.backup import StoreFailsVerification


@click.command(cls=SpokenCommand)
@click.argument("person")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts, CI).")
@json_option
@click.pass_obj
def forget(obj: Context, person: str, yes: bool, as_json: bool) -> None:
    """Destroy PERSON's data key (crypto-shredding); this cannot be undone.

    Personal data (CPR, name, birth date) is stored only sealed under the person's own key;
    without the key no sealed copy, in the store or in an export, can be opened again (key
    files written earlier by `ledger export --keys` still hold it: destroy them too). Every
    event, hash chain and projection stays as it was. Asks for confirmation unless --yes. On a
    SQLite store it then checks that no copy of the key is left in the files; while another
    process still reads an older snapshot it cannot be sure yet, says so and exits 1: run it
    again once that reader is done. Exit code 4 for an unknown person.
    """
    _ = obj.words
    if not yes:
        if sys.stdin is None or not sys.stdin.isatty():
            raise click.UsageError(
                _(
                    "forget destroys the key for good and there is no terminal to confirm on: "
                    "give --yes"
                )
            )
        click.confirm(
            _(
                "Destroy the data key of {person}? Its personal data can never be read again",
                person=person,
            ),
            abort=True,
            err=True,
        )
    done = obj.ledger().forget(person)
    if as_json:
        emit_json(
            {
                "person": person,
                "key_destroyed": done.key_destroyed,
                "erased_from_files": done.erased_from_files,
            }
        )
    elif done.key_destroyed:
        console.print(
            paint("green", "✓ " + _("key destroyed"))
            + ": "
            + _(
                "the personal data of {person} can no longer be read; its events and hash "
                "chain are unchanged",
                person=person,
            )
        )
    else:
        console.print(
            _(
                "no key to destroy: {person} has no personal data stored, or was forgotten before",
                person=person,
            )
        )
    if done.erased_from_files is False:
        err_console.print(
            paint("yellow", _("cannot be sure yet"))
            + " "
            + _(
                "that no copy of the key is left in the store's files: another process still "
                "reads an older snapshot of it. Run `ledger forget {person} --yes` again once "
                "it is done",
                person=person,
            )
        )
        sys.exit(EXIT_REFUSED)


@click.command(cls=SpokenCommand)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="LEDGER_CHECKPOINT_KEY",
    help="The private signing key (PEM, PKCS#8 Ed25519), kept outside the store. "
    "Env: LEDGER_CHECKPOINT_KEY.",
)
@click.option(
    "--new-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Make a new key pair, FILE (private) and FILE.pub (public), never overwriting either, "
    "and sign with it.",
)
@json_option
@click.pass_obj
def checkpoint(obj: Context, key: Path | None, new_key: Path | None, as_json: bool) -> None:
    """Sign the ledger's current head with a key kept outside the store.

    The events since the previous checkpoint are checked as `ledger verify` checks them, then
    recorded with the signed head; `ledger verify --public-key FILE.pub` later names every
    event missing, rewritten or added before the checkpoint. Exit code 3, and nothing signed,
    when the events fail their checks.
    """
    from ledger import checkpoints

    if (key is None) == (new_key is None):
        raise click.UsageError(obj.words("give one of --key FILE or --new-key FILE"))
    if new_key is not None:
        signing = checkpoints.write_key_pair(new_key, "--new-key")
    else:
        assert key is not None  # noqa: S101 - one of the two, checked above
        signing = checkpoints.load_private_key(key, "--key")
    signed = obj.ledger().checkpoint(signing)
    if as_json:
        emit_json(
            {
                "position": signed.position,
                "head": signed.head,
                "key_fingerprint": signed.key_fingerprint,
                "created_at": signed.created_at,
            }
        )
        return
    _ = obj.words
    rows = [
        (_("store"), describe(obj.db)),
        (_("ledger position"), str(signed.position)),
        (_("head"), signed.head),
        (_("key"), signed.key_fingerprint),
        (_("signed at"), _.moment(signed.created_at)),
    ]
    if new_key is not None:
        written = _("{key} (keep apart), {key}.pub (for verifiers)", key=new_key)
        rows.append((_("keys written"), written))
    console.print(key_value_table(_("Checkpoint signed"), rows))


@click.command(cls=SpokenCommand)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the export to FILE instead of stdout.",
)
@click.option(
    "--keys",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write every person's data key to FILE (created, never overwritten, readable by "
    "its owner only): a key backup to keep apart from the export.",
)
@json_option
@click.pass_obj
def export(obj: Context, output: Path | None, keys: Path | None, as_json: bool) -> None:
    """Back up every stored event as NDJSON, in position order, with its position, version,
    recorded time, hash, predecessor hash and stored JSON.

    Personal data is exported only sealed, and keys stay with the store: a copy restored from
    the export alone shows personal data as erased. --keys writes the keys to a separate file;
    a person forgotten before the export stays forgotten whatever key file is restored. The
    store is verified on the way; exit code 3 if it fails.
    """
    if as_json and output is None:
        raise click.UsageError(
            obj.words("--json needs --output: without it the export goes to stdout")
        )
    if keys is not None and output is not None and keys.resolve() == output.resolve():
        raise click.UsageError(obj.words("--keys must name another file than --output"))
    from ledger import backup

    ledger = obj.ledger()
    with ExitStack() as files:
        key_file = (
            files.enter_context(_written(keys, obj.words, param="--keys", private=True))
            if keys
            else None
        )
        out = files.enter_context(_written(output, obj.words, param="--output"))
        with progress_bar(ledger.head_position(), obj.words("Exporting")) as tick:
            try:
                report = backup.export(ledger, out, tick)
            except backup.StoreFailsVerification as exc:
                _integrity_failure(exc, obj.words, as_json=as_json)
        keys_report = backup.export_keys(ledger, key_file) if key_file else None
    if output is None:
        return
    if as_json:
        emit_json({"output": str(output), **msgspec.structs.asdict(report), "keys": keys_report})
        return
    _ = obj.words
    rows = [
        (_("store"), describe(obj.db)),
        (_("written to"), str(output)),
        (_("events"), _.number(report.events)),
        (_("persons"), _.number(report.persons)),
        (_("persons forgotten"), _.number(report.forgotten)),
        (_("ledger position"), _.number(report.head)),
    ]
    if keys_report is not None:
        rows.append((_("keys written to"), _("{file} ({n} keys)", file=keys, n=keys_report.keys)))
    console.print(key_value_table(_("Export written"), rows))


@click.command(cls=SpokenCommand)
@click.argument("file", metavar="FILE")
@click.option(
    "--keys",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The key file `ledger export --keys` wrote with this export.",
)
@json_option
@click.pass_obj
def restore(obj: Context, file: str, keys: Path | None, as_json: bool) -> None:
    """Restore an export of `ledger export` from FILE ('-' reads stdin) into an empty store.

    Positions, versions, recorded times, hashes and chains come back exactly as exported.
    Every line is checked as `ledger verify` checks a stored event; a file that fails (or was
    cut off) is refused, naming its first failing line, and nothing is restored. A store that
    already holds events is refused. Without --keys, personal data stays sealed.
    """
    from ledger import backup

    ledger = obj.ledger()
    with (
        _read(file, obj.words) as source,
        keys.open("rb") if keys is not None else nullcontext() as key_source,
    ):
        lines = iter(source)
        first = next(lines, b"")
        with progress_bar(backup.announced_head(first), obj.words("Restoring")) as tick:
            report = backup.restore(ledger, chain([first], lines), key_source, tick)
    if as_json:
        emit_json(report)
        return
    _ = obj.words
    rows = [
        (_("store"), describe(obj.db)),
        (_("events restored"), f"[green]{_.number(report.restored)}[/green]"),
        (_("persons"), _.number(report.persons)),
        (_("persons forgotten"), _.number(report.forgotten)),
        (_("keys restored"), _.number(report.keys)),
        (_("keys of forgotten persons left out"), _.number(report.keys_discarded)),
        (_("ledger position"), _.number(report.head)),
    ]
    console.print(key_value_table(_("Restored: every chain checked"), rows))


@contextmanager
def _written(
    path: Path | None, _: Words, *, param: str, private: bool = False
) -> Iterator[BinaryIO]:
    """Stdout, or a file that is removed again when writing it fails: no partial backups."""
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.flush()
        return
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if private else os.O_TRUNC)
    try:
        descriptor = os.open(path, flags, 0o600 if private else 0o666)
    except FileExistsError:
        raise click.BadParameter(
            _("{path} exists; it is never overwritten", path=path), param_hint=param
        ) from None
    except OSError as exc:
        raise click.BadParameter(
            _("cannot write {path}: {strerror}", path=path, strerror=exc.strerror),
            param_hint=param,
        ) from None
    try:
        with os.fdopen(descriptor, "wb") as out:
            yield out
    except BaseException:
        if path.is_file():  # never a device such as /dev/null
            path.unlink()
        raise


@contextmanager
def _read(file: str, _: Words) -> Iterator[BinaryIO]:
    if file == "-":
        yield sys.stdin.buffer
        return
    path = Path(file)
    if not path.is_file():
        raise click.BadParameter(_("no such file: {file}", file=file), param_hint="FILE")
    with path.open("rb") as source:
        yield source


def _integrity_failure(exc: StoreFailsVerification, _: Words, *, as_json: bool) -> NoReturn:
    if as_json:
        emit_json({"errors": [exc.detail()]})
    else:
        not_exported = _("not exported")
        err_console.print(f"[red]✗ {not_exported}[/red]: {exc.said(_)}")
    sys.exit(EXIT_INTEGRITY)


commands: list[click.Command] = [forget, checkpoint, export, restore]
