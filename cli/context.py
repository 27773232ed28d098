"""What every ``ledger`` command shares: the context click hands it (the store it opens, its
language, the JSON switch), the ``--json`` option, progress bars, the exit codes, and the help
and usage errors in the reader's language.

Help is written in English where it belongs (docstrings, ``help=``) and said through the
catalogue when click formats it: `SpokenCommand` and `SpokenGroup` translate the project's
texts, and click's own words ("Usage:", "Options", "Missing argument", ...) go through
`help_words` too, because click looks them up with the module-level gettext it imported;
the usage line's placeholders ("[OPTIONS]") are said through it as well. ``--lang`` is heard
before any other of the group's options, so ``ledger --help --lang en`` is English.

Exit codes: 0 done, 1 input refused or domain error, 2 usage error, 3 integrity failure found by
``verify``, 4 unknown person. Command modules import this module and ``cli.output``;
``cli.main`` imports the command modules, so nothing imports back.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.types

from cli.output import err_console
from ledger.config import DEFAULT_DB, Settings
from ledger.i18n import LANGUAGES, N_, Language, Words, language_of

if TYPE_CHECKING:
    from ledger.application import Ledger

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_INTEGRITY = 3
EXIT_UNKNOWN_PERSON = 4
PROGRESS_THRESHOLD = 5000

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """The object click hands every command: the store it opens (once, closed when the
    command ends), the language of its words and whether it prints JSON."""

    def __init__(self, db: str = DEFAULT_DB) -> None:
        self.db = db
        self.json = False
        self.wide = False
        self.words = Words()
        self._settings: Settings | None = None
        self._ledger: Ledger | None = None

    @property
    def settings(self) -> Settings:
        """The configuration, read from the environment once, when a command first needs it
        (so a bad value refuses the command that would use it, never ``--help``)."""
        if self._settings is None:
            self._settings = Settings.from_env().with_db(self.db)
        return self._settings

    def ledger(self) -> Ledger:
        if self._ledger is None:
            from ledger.application import Ledger

            self._ledger = Ledger(self.db, settings=self.settings)
        return self._ledger

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


def json_option(func: F) -> F:
    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        ctx.ensure_object(Context).json = value
        return value

    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        callback=remember,
        expose_value=True,
        is_eager=True,
        help="Print machine-readable JSON on stdout.",
    )(func)


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for long work in a terminal; nothing otherwise. Whether stderr
    is a terminal is asked of the file before rich is: making rich's console costs some 20 ms,
    which a command writing into a pipe (an import run by a script) has no use for."""
    if total < PROGRESS_THRESHOLD or not _on_a_terminal() or not err_console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console.made,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _on_a_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except ValueError:  # a closed stderr
        return False


# The language --lang named in this invocation; unset until the group's options are read (help
# and errors before that, or of a run without it, fall back to LEDGER_LANG).
_spoken: ContextVar[Language | None] = ContextVar("spoken", default=None)


def help_words() -> Words:
    """The words of help and usage errors: --lang's once click has read it, else those
    ``LEDGER_LANG`` names, else Danish."""
    return Words(_spoken.get() or language_of(os.environ.get("LEDGER_LANG")))


def speak(_ctx: click.Context, _param: click.Parameter, language: Language) -> Language:
    """The ``--lang`` callback: help and errors from here on are in ``language``."""
    _spoken.set(language)
    return language


def _click_gettext(message: str) -> str:
    return help_words()(message)


def _click_ngettext(singular: str, plural: str, n: int) -> str:
    return help_words().translations.ngettext(singular, plural, n)


# click's modules bound gettext's functions as `_` and `ngettext` when imported; its words are
# said through the catalogue by rebinding those names.
for _module in (
    click.core,
    click.decorators,
    click.exceptions,
    click.formatting,
    click.parser,
    click.types,
):
    vars(_module)["_"] = _click_gettext
    if "ngettext" in vars(_module):
        vars(_module)["ngettext"] = _click_ngettext


HELP_OPTION = N_("Show this message and exit.")  # click's words, in the catalogue
# click's placeholders in a usage line (`ledger [OPTIONS] COMMAND [ARGS]...`); an argument's
# own name (PERSON) is the project's and stays as the help texts name it.
USAGE_METAVARS = frozenset({N_("[OPTIONS]"), N_("COMMAND [ARGS]...")})


class SpokenCommand(click.Command):
    """A command whose help (its docstring, its short help in the list of commands and each
    option's help) is said in the reader's language."""

    def format_help_text(
        self,
        ctx: click.Context,  # noqa: ARG002 - click's signature
        formatter: click.HelpFormatter,
    ) -> None:
        text = help_words()(self.help_source())
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def help_source(self) -> str:
        """The English help as the catalogue knows it (click shows the part before a form feed)."""
        return inspect.cleandoc(self.help).partition("\f")[0] if self.help else ""

    def get_short_help_str(self, limit: int = 45) -> str:
        _ = help_words()
        if self.short_help:
            return _(inspect.cleandoc(self.short_help)).strip()
        if not self.help:
            return ""
        # click's own shortening (the first sentence, cut to the limit), of the translation
        return click.Command(None, help=_(self.help_source())).get_short_help_str(limit)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        _ = help_words()
        return [
            _(piece) if piece in USAGE_METAVARS else piece
            for piece in super().collect_usage_pieces(ctx)
        ]

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """click's --help, its text kept in English (click makes the option once per command, in
        the language of that moment) and said in the reader's language when formatted."""
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION
        return option

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _ = help_words()
        rows = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or isinstance(param, click.Argument):
                continue
            name, text = record
            english = getattr(param, "help", None) or ""
            # click puts the help first and its own (already translated) notes after it
            rows.append((name, _(english) + text[len(english) :] if english else text))
        if rows:
            with formatter.section(_("Options")):
                formatter.write_dl(rows)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


class SpokenGroup(SpokenCommand, click.Group):
    """A group of commands whose help, and whose commands' help, is said in the reader's
    language; each run starts in the language of the environment until --lang is read."""

    command_class = SpokenCommand
    group_class = type

    def main(self, *args: Any, **kwargs: Any) -> Any:
        started = _spoken.set(None)
        try:
            return super().main(*args, **kwargs)
        finally:
            _spoken.reset(started)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """The group's own options, --lang heard first wherever it stands among them: click
        handles eager options in the order given, so ``ledger --help --lang en`` would print the
        help before --lang's callback ran."""
        lang = next((param for param in self.params if param.callback is speak), None)
        if lang is not None:
            try:
                options, _rest, _order = self.make_parser(ctx).parse_args(args=list(args))
            except click.UsageError:
                pass  # click's own parse below refuses it, in the language known so far
            else:
                asked = options.get(lang.name)
                if asked in LANGUAGES:
                    _spoken.set(asked)
        return super().parse_args(ctx, args)
