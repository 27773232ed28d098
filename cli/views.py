"""Commands that read the projections: history, sanctions, status, replay, deadlines, rebuild.

``--json`` prints exactly the projection JSON of INTERFACE.md; without it the same JSON is
rendered for people. Every read goes through the read service (``projections.views``), as the
HTTP API's do: ``--reader`` reads as a municipality, Udlændingestyrelsen or an investigator would
(redacted as theirs are), and ``deadlines --municipality X`` is exactly X's worklist over HTTP.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click
import msgspec
from rich.table import Table

from cli.main import Context, json_option, progress_bar
from cli.output import console, emit_json, key_value_table
from ledger.clock import MOMENT_FORMAT, YEARS, parse_day, parse_moment, today_in_denmark
from ledger.errors import InvalidField
from ledger.rulepacks import LATEST_REVISION, check_revision

if TYPE_CHECKING:
    from projections.views import Reader, ReadService

_json = msgspec.json.Decoder()


class DateParam(click.ParamType[date]):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_day(str(value), param.name if param and param.name else "date")
        except InvalidField as exc:
            self.fail(exc.message, param, ctx)


class TimestampParam(click.ParamType[datetime]):
    """Read by the same parser as the HTTP API's ``known_at``: same values, same words."""

    name = "TIMESTAMP"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(str(value), param.name if param and param.name else "timestamp")
        except InvalidField as exc:
            self.fail(exc.message, param, ctx)


class RevisionParam(click.ParamType[int]):
    name = "N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            return check_revision(int(value))
        except (ValueError, InvalidField):
            self.fail(f"{value!r} is not a rule pack revision (1 to {LATEST_REVISION})", param, ctx)


class ReaderParam(click.ParamType["Reader"]):
    name = "READER"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Reader:
        from projections.views import Reader

        if isinstance(value, Reader):
            return value
        try:
            return Reader.parse(str(value))
        except InvalidField as exc:
            self.fail(exc.message, param, ctx)


DATE = DateParam()
TIMESTAMP = TimestampParam()


def revision_option(func: Any) -> Any:
    return click.option(
        "--rule-revision",
        "revision",
        type=RevisionParam(),
        default=None,
        help=f"Reproduce a report made under an earlier revision of the rule pack (1 to "
        f"{LATEST_REVISION}). Default: the latest.",
    )(func)


def clock_options(func: Any) -> Any:
    func = click.option(
        "--reader",
        type=ReaderParam(),
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
    from projections.materialised import Views
    from projections.views import ReadService

    ledger = obj.ledger()
    return ReadService(ledger, Views(ledger))


def read(
    obj: Context,
    kind: str,
    person: str,
    reader: Reader,
    when: tuple[date | None, datetime | None, int | None],
) -> bytes:
    """A projection as ``reader`` reads it, for ``when`` = (as_of, known_at, revision)."""
    from projections.views import When

    return read_service(obj).projection(kind, person, reader, When(*when)).body


@click.command()
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
    view = _json.decode(body)
    console.print(header("Contract history", view))
    console.print(periods_table(view["municipalities"]))
    contracts = Table(title="Contract versions", title_justify="left")
    for column in ("contract", "signed", "municipality", "what changed"):
        contracts.add_column(column)
    for contract in view["contracts"]:
        changes = "; ".join(
            f"{field}: {brief(old)} → {brief(new)}"
            for field, (old, new) in contract["changes"].items()
        )
        contracts.add_row(
            contract["contract_id"],
            contract["signed_on"],
            place(contract["municipality"]),
            changes or "first version",
        )
    console.print(contracts)
    timeline = Table(title="Timeline", title_justify="left")
    for column in ("date", "position", "municipality", "event"):
        timeline.add_column(column)
    for entry in view["entries"]:
        if entry is None:
            timeline.add_row("", "", "", shown(None))
            continue
        timeline.add_row(
            entry["occurred_on"], str(entry["position"]), entry["municipality"], entry["type"]
        )
    console.print(timeline)
    if view["retracted"]:
        retracted = ", ".join(shown(r) for r in view["retracted"])
        console.print(f"[yellow]retracted (hidden):[/yellow] {retracted}")
    print_withheld(view)


@click.command()
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
    view = _json.decode(body)
    console.print(header("Sanction accumulation", view))
    imposed = Table(title="Sanctions", title_justify="left")
    for column in ("sanction", "kind", "paragraph", "municipality", "date", "amount", "status"):
        imposed.add_column(column)
    for s in view["sanctions"]:
        colour = "green" if s["status"] == "effective" else "dim"
        imposed.add_row(
            s["sanction_id"],
            s["kind"],
            s["paragraph"],
            place(s["municipality"]),
            s["occurred_on"],
            s["amount_dkk"] or "",
            f"[{colour}]{s['status']}[/{colour}]",
        )
    console.print(imposed)
    incidents = Table(title="Incidents assessed", title_justify="left")
    for column in ("date", "type", "municipality", "sanctionable", "reasons", "the law points to"):
        incidents.add_column(column)
    for i in view["incidents"]:
        recommended = i["recommended"]
        pointer = (
            f"{recommended['kind']} {recommended['paragraph']} {recommended['amount_dkk'] or ''}"
            if recommended
            else ""
        )
        incidents.add_row(
            i["occurred_on"],
            i["type"],
            i["municipality"],
            "[red]yes[/red]" if i["sanctionable"] else "no",
            ", ".join(i["reasons"]),
            pointer,
        )
    console.print(incidents)
    totals, escalation = view["totals"], view["escalation"]
    console.print(
        key_value_table(
            "Totals and escalation",
            [
                ("effective", str(totals["effective"])),
                ("overturned", str(totals["overturned"])),
                ("by municipality", fmt_counts(totals["by_municipality"])),
                ("by kind", fmt_counts(totals["by_kind"])),
                (
                    f"escalation ({escalation['paragraph']})",
                    ("[red]eligible[/red]" if escalation["eligible"] else "not eligible")
                    + f"; prior in {escalation['lookback_months']} months: "
                    + (", ".join(escalation["prior"]) or "none"),
                ),
            ],
        )
    )


@click.command()
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
    r = _json.decode(body)
    facts = [
        ("responsible municipality", place(r["responsible_municipality"])),
        ("category", r["category"] or ""),
        ("responsibility assumed (T0)", r["responsibility_assumed_on"] or ""),
        (
            "contract signed",
            (
                f"{r['contract']['signed_on'] or '—'} ({r['contract']['versions']} "
                f"version(s)); deadline met: {yes_no(r['contract']['deadline_met'])}"
            ),
        ),
        ("declaration", r["declaration"]["signed_on"] or r["declaration"]["waived_reason"] or "—"),
        (
            "programme started",
            (
                f"{r['program']['started_on'] or '—'}; deadline met: "
                f"{yes_no(r['program']['deadline_met'])}"
            ),
        ),
        ("participation", fmt_counts(r["participation"])),
        (
            "sanctions",
            (
                f"{r['sanctions']['effective']} effective, {r['sanctions']['overturned']} "
                f"overturned; {fmt_counts(r['sanctions']['by_municipality'])}"
            ),
        ),
        ("follow-ups", fmt_counts(r["follow_ups"])),
        (
            "Danish tests",
            ", ".join(f"{t['test']} {t['passed_on']}" for t in r["danish_tests"]) or "none",
        ),
        (
            "ordinary employment, months of last 36",
            shown(r["employment"]["ordinary_months_last_36"]),
        ),
        ("AKL/INL help, months of last 36", shown(r["help"]["months_last_36"])),
        ("permanent residence granted", r["permit"]["granted_on"] or "no"),
        (
            "status requests",
            ", ".join(f"{q['request_id']} due {q['due_on']}" for q in r["status_requests"])
            or "none",
        ),
        ("digest", r["digest"]),
    ]
    console.print(header("Status report for Udlændingestyrelsen", r))
    console.print(periods_table(r["municipalities"]))
    console.print(key_value_table("Facts", facts))
    print_withheld(r)


@click.command()
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

    until_position, until_date = parse_until(until)
    until_at = (until_position, until_date)
    steps = read_service(obj).replay(person, Reader("operator"), until_at, revision)
    if as_json:
        emit_json(steps)
        return
    for step in msgspec.to_builtins(steps):
        lines = [f"state: {fmt_counts(step['state'])}"]
        if explain:
            lines += [
                f"  [bold]{rule['paragraph']}[/bold] {rule['explanation']}"
                for rule in step["rules"]
            ]
        title = f"#{step['position']} {step['occurred_on']} {step['type']} ({step['municipality']})"
        from rich.console import Group
        from rich.panel import Panel

        console.print(Panel(Group(*lines), title=title, title_align="left"))


def parse_until(until: str | None) -> tuple[int | None, date | None]:
    if until is None:
        return None, None
    if until.isdigit():
        return int(until), None
    try:
        return None, parse_day(until, "until")
    except InvalidField as exc:
        raise click.BadParameter(
            f"expected a ledger position (a number) or a date: {exc.message}", param_hint="--until"
        ) from None


@click.command()
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
            f"{code!r} is not one of the 98 kommunekoder", param_hint="--municipality"
        )
    service = read_service(obj)
    service.views.catch_up()
    day = on or today_in_denmark()
    # The operator reads the store itself: the access log records the API's token holders.
    body, _ = service.worklist(Reader("municipality", code), code, day, revision)
    if as_json:
        sys.stdout.buffer.write(body + b"\n")
        return
    work = _json.decode(body)
    table = Table(title=f"Deadlines for {place(code)} on {day.isoformat()}", title_justify="left")
    for column in ("person", "what", "due", "paragraph"):
        table.add_column(column)
    for item in work["items"]:
        due = f"[red]{item['due_on']} overdue[/red]" if item["overdue"] else shown(item["due_on"])
        table.add_row(item["person"], item["kind"], due, item["paragraph"])
    console.print(table)


@click.command()
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    default=None,
    help="Processes that fold the events (default: one per core for a ledger large enough to "
    "repay starting them, otherwise 1).",
)
@json_option
@click.pass_obj
def rebuild(obj: Context, workers: int | None, as_json: bool) -> None:
    """Rebuild the materialised views (status, sanctions, history) from the events."""
    from projections.materialised import Views, rebuild_workers

    ledger = obj.ledger()
    views = Views(ledger)
    with progress_bar(ledger.head_position(), "Rebuilding views") as tick:
        position = views.rebuild(tick, workers or rebuild_workers(ledger.head_position()))
    if as_json:
        emit_json({"position": position})
    else:
        console.print(f"[green]✓ views rebuilt[/green] up to position {position}")


def header(title: str, view: dict[str, Any]) -> str:
    # A report without rule_revision was made under revision 1, which predates the key.
    rules = f"rule pack {view['rule_pack']} revision {view.get('rule_revision', 1)}"
    return (
        f"[bold]{title}[/bold] — {view['person']} · as of {view['as_of']} · known at "
        f"{view['known_at'] or '—'} · position {view['position']} · {rules}"
    )


def periods_table(periods: list[dict[str, Any]]) -> Table:
    table = Table(title="Municipality periods", title_justify="left")
    for column in ("municipality", "from", "to", "takeover"):
        table.add_column(column)
    for p in periods:
        table.add_row(place(p["municipality"]), p["from"], p["to"] or "now", p["takeover"] or "")
    return table


def brief(value: Any) -> str:
    """A changed contract field in a table cell: lists (activities) by count."""
    if isinstance(value, list):
        return f"{len(value)} activities"
    return "—" if value is None else str(value)


def place(code: str | None) -> str:
    from ledger.municipalities import municipality_name

    return f"{code} {municipality_name(code)}" if code else "—"


def yes_no(value: bool | None) -> str:
    return {True: "yes", False: "[red]no[/red]", None: "not yet due"}[value]


def fmt_counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {shown(v)}" for k, v in counts.items()) or "none"


def shown(value: Any) -> str:
    """A value in a table cell; ``null`` in a redacted view is a value withheld from the
    reader, never an absent or zero one."""
    return "[yellow]withheld[/yellow]" if value is None else str(value)


def print_withheld(view: dict[str, Any]) -> None:
    for withheld in view.get("withheld", []):
        console.print(
            f"[yellow]withheld from this reader[/yellow] ({withheld['category']}): "
            f"{', '.join(withheld['fields']) or 'nothing in this view'}"
        )


commands = [history, sanctions, status, replay, deadlines, rebuild]
