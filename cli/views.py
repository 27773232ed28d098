"""Commands that read the projections: history, sanctions, status, replay, deadlines; and keep
the views: rebuild, reevaluate.

``--json`` prints exactly the projection JSON of INTERFACE.md; without it the same JSON is
rendered for people. Every read goes through the read service (``projections.views``), as the
HTTP API's do: ``--reader`` reads as a municipality, Udlændingestyrelsen or an investigator would
(redacted as theirs are), and ``deadlines --municipality X`` is exactly X's worklist over HTTP.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click
import msgspec

from cli.context import Context, SpokenCommand, json_option, progress_bar
from cli.output import console, emit_json, key_value_table, paint, table
from ledger.clock import MOMENT_FORMAT, YEARS, parse_day, parse_moment, today_in_denmark
from ledger.errors import InvalidField
from ledger.i18n import DASH, LABELS, NEEDS_CONSENT, WITHHELD, Words
from ledger.rulepacks import LATEST_REVISION, check_revision

if TYPE_CHECKING:
    from rich.table import Table

    from projections.views import Reader, ReadService

_json = msgspec.json.Decoder()
T = TypeVar("T")


class Parsed(click.ParamType[T]):
    """A value read by one of the ledger's own parsers (the HTTP API reads the same values with
    them): the parser's typed error becomes a usage error (exit 2) in the parser's words. A
    value that is not text is one click has already read."""

    def __init__(self, name: str, parse: Callable[[str, str], T]) -> None:
        self.name = name
        self.parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> T:
        if not isinstance(value, str):
            return cast("T", value)
        try:
            return self.parse(value, param.name if param and param.name else self.name)
        except InvalidField as exc:
            found = ctx.find_object(Context) if ctx is not None else None
            self.fail(exc.said(found.words if found is not None else Words()), param, ctx)


def parse_revision(text: str, field: str) -> int:
    try:
        return check_revision(int(text))
    except (ValueError, InvalidField):
        raise InvalidField(
            "{given!r} is not a rule pack revision (1 to {LATEST_REVISION})",
            field,
            given=text,
            LATEST_REVISION=LATEST_REVISION,
        ) from None


def parse_reader(text: str, _field: str) -> Reader:
    from projections.views import Reader

    return Reader.parse(text)


DATE = Parsed("YYYY-MM-DD", parse_day)
TIMESTAMP = Parsed("TIMESTAMP", parse_moment)
REVISION = Parsed("N", parse_revision)
READER = Parsed("READER", parse_reader)


def revision_option(func: Any) -> Any:
    return click.option(
        "--rule-revision",
        "revision",
        type=REVISION,
        default=None,
        help=f"Reproduce a report made under an earlier revision of the rule pack (1 to "
        f"{LATEST_REVISION}). Default: the latest.",
    )(func)


def clock_options(func: Any) -> Any:
    func = click.option(
        "--reader",
        type=READER,
        default="operator",
        help="Read as: a kommunekode (a municipality responsible for the case now), "
        "immigration_service or investigator, redacted as their reads are over HTTP. "
        "Default: operator, who sees everything.",
    )(func)
    func = revision_option(func)
    func = click.option(
        "--known-at",
        type=TIMESTAMP,
        default=None,
        help=f"Transaction time: only what the ledger knew then: {MOMENT_FORMAT}, within "
        f"{YEARS}. A date alone is refused (it names no moment), as over HTTP.",
    )(func)
    return click.option(
        "--as-of",
        type=DATE,
        default=None,
        help=f"Valid time: the case as it stood on this day (within {YEARS}). Default: today.",
    )(func)


def read_service(obj: Context) -> ReadService:
    from projections.views import ReadService, Views

    ledger = obj.ledger()
    return ReadService(ledger, Views(ledger))


def read(
    obj: Context,
    kind: str,
    person: str,
    reader: Reader,
    when: tuple[date | None, datetime | None, int | None],
) -> bytes:
    """A projection as ``reader`` reads it, for ``when`` = (as_of, known_at, revision): from
    the view rows only when they have reached the log's head (``ledger append`` may leave them
    behind), else folded live."""
    from projections.views import When

    service = read_service(obj)
    current = service.views.position() >= service.ledger.head_position()
    return service.projection(kind, person, reader, When(*when), rows=current).body


@click.command(cls=SpokenCommand)
@click.argument("person")
@clock_options
@json_option
@click.pass_obj
def history(
    obj: Context,
    person: str,
    as_of: date | None,
    known_at: datetime | None,
    revision: int | None,
    reader: Reader,
    as_json: bool,
) -> None:
    """Contract history of PERSON across every municipality: periods, contract versions and
    what changed, offers, follow-ups and deadlines, as of any date."""
    body = read(obj, "history", person, reader, (as_of, known_at, revision))
    if as_json:
        sys.stdout.buffer.write(body + b"\n")
        return
    _ = obj.words
    view = _json.decode(body)
    console.print(header(_("Contract history"), view, _))
    console.print(periods_table(view["municipalities"], _))
    contracts = table(
        _("Contract versions"), _("contract"), _("signed"), _("municipality"), _("what changed")
    )
    for contract in view["contracts"] or []:
        changes = "; ".join(
            f"{_.label(field, LABELS)}: {brief(old, _)} → {brief(new, _)}"
            for field, (old, new) in contract["changes"].items()
        )
        contracts.add_row(
            contract["contract_id"],
            _.date(contract["signed_on"]),
            place(contract["municipality"]),
            changes or _("first version"),
        )
    console.print(contracts)
    timeline = table(_("Timeline"), _("date"), _("position"), _("municipality"), _("event"))
    for entry in view["entries"]:
        if entry is None:
            timeline.add_row("", "", "", shown(None, _))
            continue
        timeline.add_row(
            _.date(entry["occurred_on"]),
            str(entry["position"]),
            place(entry["municipality"]),
            _.label(entry["type"], LABELS),
        )
    console.print(timeline)
    if view["retracted"]:
        retracted = ", ".join(shown(r, _) for r in view["retracted"])
        console.print(paint("yellow", _("retracted (hidden)") + ":") + f" {retracted}")
    print_withheld(view, _)


@click.command(cls=SpokenCommand)
@click.argument("person")
@clock_options
@json_option
@click.pass_obj
def sanctions(
    obj: Context,
    person: str,
    as_of: date | None,
    known_at: datetime | None,
    revision: int | None,
    reader: Reader,
    as_json: bool,
) -> None:
    """Sanction accumulation of PERSON across municipalities (AKL § 69 r): every sanction and
    incident assessed, totals, and AKL § 40 a escalation."""
    body = read(obj, "sanctions", person, reader, (as_of, known_at, revision))
    if as_json:
        sys.stdout.buffer.write(body + b"\n")
        return
    _ = obj.words
    view = _json.decode(body)
    console.print(header(_("Sanction accumulation"), view, _))
    sanctions = view["sanctions"] or []
    # Revision 2 names what the law finds missing; a revision 1 view has no such key. The
    # column is shown when a sanction has something missing, so a table of sound sanctions
    # keeps the room an 80-column terminal has for ids and dates.
    missing = [[_.label(code, LABELS) for code in s.get("unsupported") or []] for s in sanctions]
    flagged = any(missing)
    columns = [_("sanction"), _("kind"), _("paragraph"), _("municipality"), _("date")]
    columns += [_("amount"), _("status")] + ([_("not supported by the law")] if flagged else [])
    imposed = table(_("Sanctions"), *columns)
    for s, lacking in zip(sanctions, missing, strict=True):
        colour = "green" if s["status"] == "effective" else "dim"
        cells = [
            s["sanction_id"],
            _.label(s["kind"], LABELS),
            s["paragraph"],
            place(s["municipality"]),
            _.date(s["occurred_on"]),
            _.amount(s["amount_dkk"]),
            f"[{colour}]{_.label(s['status'], LABELS)}[/{colour}]",
        ]
        if flagged:
            cells.append(f"[red]{', '.join(lacking)}[/red]" if lacking else DASH)
        imposed.add_row(*cells)
    console.print(imposed)
    incidents = table(
        _("Incidents assessed"),
        _("date"),
        _("type"),
        _("municipality"),
        _("sanctionable"),
        _("reasons"),
        _("the law points to"),
    )
    for i in view["incidents"] or []:
        recommended = i["recommended"]
        pointer = (
            f"{_.label(recommended['kind'], LABELS)} {recommended['paragraph']} "
            f"{_.amount(recommended['amount_dkk'])}"
            if recommended
            else DASH
        )
        incidents.add_row(
            _.date(i["occurred_on"]),
            _.label(i["type"], LABELS),
            place(i["municipality"]),
            yes_no(i["sanctionable"], _, alarm=True),
            ", ".join(_.label(reason, LABELS) for reason in i["reasons"] or []) or DASH,
            pointer,
        )
    console.print(incidents)
    totals, escalation = view["totals"], view["escalation"]
    if totals is None or escalation is None:
        print_withheld(view, _)
        return
    console.print(
        key_value_table(
            _("Totals and escalation"),
            [
                (_("effective"), str(totals["effective"])),
                (_("overturned"), str(totals["overturned"])),
                (_("by municipality"), fmt_counts(totals["by_municipality"], _)),
                (_("by kind"), fmt_counts(totals["by_kind"], _)),
                (
                    _("escalation ({paragraph})", paragraph=escalation["paragraph"]),
                    (paint("red", _("possible")) if escalation["eligible"] else _("not possible"))
                    + "; "
                    + _("prior in {n} months", n=escalation["lookback_months"])
                    + ": "
                    + (", ".join(escalation["prior"]) or _("none")),
                ),
            ],
        )
    )
    print_withheld(view, _)


@click.command(cls=SpokenCommand)
@click.argument("person")
@clock_options
@json_option
@click.pass_obj
def status(
    obj: Context,
    person: str,
    as_of: date | None,
    known_at: datetime | None,
    revision: int | None,
    reader: Reader,
    as_json: bool,
) -> None:
    """Status report on PERSON for Udlændingestyrelsen (permanent residence, UDL § 11), with
    the ledger position it reflects and a digest anyone can recompute."""
    body = read(obj, "status", person, reader, (as_of, known_at, revision))
    if as_json:
        sys.stdout.buffer.write(body + b"\n")
        return
    _ = obj.words
    r = _json.decode(body)
    contract, program, follow_ups = r["contract"], r["program"], r["follow_ups"]
    facts = [
        (_("responsible municipality"), place(r["responsible_municipality"])),
        (_("category"), _.label(r["category"], LABELS) if r["category"] else DASH),
        (_("responsibility assumed (T0)"), _.date(r["responsibility_assumed_on"])),
        (
            _("contract signed"),
            shown(contract, _)
            if contract is None
            else _(
                "{day} ({n} version(s)); deadline met: {met}",
                day=_.date(contract["signed_on"]),
                n=contract["versions"],
                met=yes_no(contract["deadline_met"], _),
            ),
        ),
        (
            _("declaration"),
            shown(None, _)
            if r["declaration"] is None
            else _.date(r["declaration"]["signed_on"])
            if r["declaration"]["signed_on"]
            else r["declaration"]["waived_reason"] or DASH,
        ),
        (
            _("programme started"),
            shown(program, _)
            if program is None
            else _(
                "{day}; deadline met: {met}",
                day=_.date(program["started_on"]),
                met=yes_no(program["deadline_met"], _),
            ),
        ),
        (_("participation"), fmt_counts(r["participation"], _)),
        (
            _("sanctions"),
            shown(None, _)
            if r["sanctions"] is None
            else _(
                "{effective} effective, {overturned} overturned; {by}",
                effective=r["sanctions"]["effective"],
                overturned=r["sanctions"]["overturned"],
                by=fmt_counts(r["sanctions"]["by_municipality"], _),
            ),
        ),
        (_("follow-ups"), fmt_counts(follow_ups, _)),
        (
            _("Danish tests"),
            shown(None, _)
            if r["danish_tests"] is None
            else ", ".join(f"{t['test']} {_.date(t['passed_on'])}" for t in r["danish_tests"])
            or _("none"),
        ),
        (
            _("ordinary employment, months of last 36"),
            shown(r["employment"]["ordinary_months_last_36"], _),
        ),
        (_("AKL/INL help, months of last 36"), shown(r["help"]["months_last_36"], _)),
        (
            _("permanent residence granted"),
            shown(None, _)
            if r["permit"] is None
            else _.date(r["permit"]["granted_on"])
            if r["permit"]["granted_on"]
            else _("no"),
        ),
        (
            _("status requests"),
            shown(None, _)
            if r["status_requests"] is None
            else ", ".join(
                _("{request} due {day}", request=q["request_id"], day=_.date(q["due_on"]))
                for q in r["status_requests"]
            )
            or _("none"),
        ),
        (_("digest"), r["digest"]),
    ]
    console.print(header(_("Status report for Udlændingestyrelsen"), r, _))
    console.print(periods_table(r["municipalities"], _))
    console.print(key_value_table(_("Facts"), facts))
    print_withheld(r, _)


@click.command(cls=SpokenCommand)
@click.argument("person")
@click.option("--explain", is_flag=True, help="Show the rules that fired, with paragraphs.")
@click.option(
    "--until",
    metavar="POSITION|DATE",
    default=None,
    help="Stop after this ledger position, or after events that occurred by this date.",
)
@revision_option
@json_option
@click.pass_obj
def replay(
    obj: Context,
    person: str,
    explain: bool,
    until: str | None,
    revision: int | None,
    as_json: bool,
) -> None:
    """Replay PERSON's case event by event: the state after each event and, with --explain,
    the rules that fired and why. For investigators."""
    from projections.views import Reader

    until_position, until_date = parse_until(until, obj.words)
    until_at = (until_position, until_date)
    steps, _ = read_service(obj).replay(person, Reader("operator"), until_at, revision)
    if as_json:
        emit_json(steps)
        return
    _ = obj.words
    from projections.replay import for_people

    for step in for_people(steps, _):
        lines = [_("state") + f": {fmt_counts(step['state'], _)}"]
        if explain:
            lines += [
                f"  [bold]{rule['paragraph']}[/bold] {rule['explanation']}"
                for rule in step["rules"]
            ]
        title = (
            f"#{step['position']} {_.date(step['occurred_on'])} {_.label(step['type'], LABELS)} "
            f"({place(step['municipality'])})"
        )
        from rich.console import Group
        from rich.panel import Panel

        console.print(Panel(Group(*lines), title=title, title_align="left", expand=not obj.wide))


def parse_until(until: str | None, _: Words) -> tuple[int | None, date | None]:
    if until is None:
        return None, None
    if until.isdigit():
        return int(until), None
    try:
        return None, parse_day(until, "until")
    except InvalidField as exc:
        raise click.BadParameter(
            _("expected a ledger position (a number) or a date: {reason}", reason=exc.said(_)),
            param_hint="--until",
        ) from None


@click.command(cls=SpokenCommand)
@click.option("--municipality", "code", required=True, metavar="CODE", help="Kommunekode.")
@click.option(
    "--on", "on", type=DATE, default=None, help="The day of the worklist. Default: today."
)
@revision_option
@json_option
@click.pass_obj
def deadlines(
    obj: Context, code: str, on: date | None, revision: int | None, as_json: bool
) -> None:
    """The deadlines worklist of one municipality: contracts, programme starts and follow-ups
    due or overdue on a day (INL §§ 16, 19, 20), and unanswered status requests."""
    from ledger.municipalities import is_kommunekode
    from projections.views import Reader

    if not is_kommunekode(code):
        raise click.BadParameter(
            obj.words("{code!r} is not one of the 98 kommunekoder", code=code),
            param_hint="--municipality",
        )
    service = read_service(obj)
    service.views.catch_up()
    day = on or today_in_denmark()
    # The operator reads the store itself: the access log records the API's token holders.
    body, _ = service.worklist(Reader("municipality", code), code, day, revision)
    if as_json:
        sys.stdout.buffer.write(body + b"\n")
        return
    _ = obj.words
    work = _json.decode(body)
    listed = table(
        _("Deadlines for {place} on {day}", place=place(code), day=_.date(day)),
        _("person"),
        _("what"),
        _("due"),
        _("paragraph"),
    )
    for item in work["items"]:
        due = (
            paint("red", f"{_.date(item['due_on'])} " + _("overdue"))
            if item["overdue"]
            else shown(item["due_on"] and _.date(item["due_on"]), _)
        )
        listed.add_row(item["person"], _.label(item["kind"], LABELS), due, item["paragraph"])
    console.print(listed)


@click.command(cls=SpokenCommand)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    default=None,
    help="Processes that fold the events (default: one per core for a ledger large enough to "
    "repay starting them, otherwise 1). Env: LEDGER_REBUILD_WORKERS.",
)
@json_option
@click.pass_obj
def rebuild(obj: Context, workers: int | None, as_json: bool) -> None:
    """Rebuild the materialised views (status, sanctions, history) from the events."""
    from projections.rebuild import rebuild, rebuild_workers
    from projections.views import Views

    ledger = obj.ledger()
    views = Views(ledger)
    with progress_bar(ledger.head_position(), obj.words("Rebuilding views")) as tick:
        workers = workers or obj.settings.rebuild_workers or rebuild_workers(ledger.head_position())
        position = rebuild(views, tick, workers)
    if as_json:
        emit_json({"position": position})
    else:
        _ = obj.words
        console.print(
            paint("green", "✓ " + _("views rebuilt"))
            + " "
            + _("up to position {position}", position=position)
        )


@click.command(cls=SpokenCommand)
@json_option
@click.pass_obj
def reevaluate(obj: Context, as_json: bool) -> None:
    """Re-evaluate the views for today (Danish time): fold again the open cases whose rows are
    for an earlier day, and add a status feed item for each report that changed (a follow-up
    became overdue, help months left the 36-month window). `ledger serve` does this itself when
    the day changes; run this daily where no server runs."""
    from projections.views import Views

    ledger = obj.ledger()
    views = Views(ledger)
    views.catch_up()  # rows of events not yet folded are written for today by the catch-up
    stale = views.recorder.count_stale(today_in_denmark().isoformat())
    with progress_bar(stale, obj.words("Re-evaluating views")) as tick:
        done = views.reevaluate(tick, force=True)
    if as_json:
        emit_json(done._asdict())
    else:
        _ = obj.words
        console.print(
            paint("green", "✓ " + _("views re-evaluated for {day}", day=_.date(done.day)))
            + " "
            + _(
                "{rewritten} case(s) rewritten, {announced} changed report(s) in the status feed",
                rewritten=done.rewritten,
                announced=done.announced,
            )
        )


def header(title: str, view: dict[str, Any], _: Words) -> str:
    # A report without rule_revision was made under revision 1, which predates the key.
    return f"[bold]{title}[/bold] — {view['person']} · " + _(
        "as of {day} · known at {moment} · position {position} · rule pack {pack} revision "
        "{revision}",
        day=_.date(view["as_of"]),
        moment=_.moment(view["known_at"]),
        position=view["position"],
        pack=view["rule_pack"],
        revision=view.get("rule_revision", 1),
    )


def periods_table(periods: list[dict[str, Any]] | None, _: Words) -> Table:
    listed = table(_("Municipality periods"), _("municipality"), _("from"), _("to"), _("takeover"))
    if periods is None:
        listed.add_row(shown(None, _), "", "", "")
    for p in periods or []:
        listed.add_row(
            place(p["municipality"]),
            _.date(p["from"]),
            _.date(p["to"]) if p["to"] else _("now"),
            _.label(p["takeover"], LABELS) if p["takeover"] else DASH,
        )
    return listed


def brief(value: Any, _: Words) -> str:
    """A changed contract field in a table cell: lists (activities) by count."""
    if isinstance(value, list):
        return _.plural("{n} activity", "{n} activities", len(value))
    return DASH if value is None else str(value)


def place(code: str | None) -> str:
    from ledger.municipalities import municipality_name

    return f"{code} {municipality_name(code)}" if code else DASH


def yes_no(value: bool | None, _: Words, *, alarm: bool = False) -> str:
    """ja/nej (yes/no); ``alarm``: a yes is the bad news (red), otherwise a no is."""
    if value is None:
        return _("not yet due")
    text = _.yes_no(value)
    return f"[red]{text}[/red]" if value is alarm else text


def fmt_counts(counts: dict[str, Any] | None, _: Words) -> str:
    """Labelled values of a small object (participation, follow-ups, a replay's state)."""
    if counts is None:
        return shown(None, _)
    return ", ".join(f"{_.label(k, LABELS)} {plain(v, _)}" for k, v in counts.items()) or _("none")


def plain(value: Any, _: Words) -> str:
    """One value for people: ja/nej for booleans, dates as the language writes them."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return _.yes_no(value)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return _.date(value)
    return str(value)


def shown(value: Any, _: Words) -> str:
    """A value in a table cell; ``null`` in a redacted view is a value withheld from the
    reader, never an absent or zero one."""
    return paint("yellow", _(WITHHELD)) if value is None else str(value)


def print_withheld(view: dict[str, Any], _: Words) -> None:
    for withheld in view.get("withheld", []):
        category = withheld["category"]
        console.print(
            paint("yellow", _("withheld from this reader")) + f" ({_.label(category, LABELS)}): "
            f"{', '.join(withheld['fields']) or _('nothing in this view')}. "
            + _("Legal basis: {basis}", basis=_(NEEDS_CONSENT))
        )


commands = [history, sanctions, status, replay, deadlines, rebuild, reevaluate]
