"""The tables of docs/domain.md that the code already states: the event catalogue (from the
msgspec event union in ``ledger.events``), the rule packs (``ledger.rulepacks``), the
disclosure table and the values each withheld category nulls (``ledger.disclosure``).

Each table sits in the page between ``<!-- generated: NAME -->`` and
``<!-- end generated: NAME -->``. ``python docs/tables.py`` rewrites them from the code;
``python docs/tables.py --check`` exits 1 when the page no longer matches the code (the test
suite runs the same check), so the page cannot drift from what the ledger accepts and applies.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
from msgspec import inspect

from ledger.disclosure import CATEGORIES, EVENT_CATEGORY, WITHHELD_FIELDS
from ledger.events import EVENT_TYPES, Event
from ledger.rulepacks import PACKS, Rule, RulePack

PAGE = Path(__file__).with_name("domain.md")
ENVELOPE = tuple(f.name for f in msgspec.structs.fields(Event))


def _constraint(t: inspect.Type) -> str:
    """A field's wire type and limits, as a caseworker's system must send it."""
    match t:
        case inspect.UnionType(types=types):
            return " or ".join(_constraint(x) for x in types if not isinstance(x, inspect.NoneType))
        case inspect.StrType(pattern=str(pattern)):
            return f"string matching `{pattern}`"
        case inspect.StrType(min_length=low, max_length=high):
            return "string" + _bounds(low, high, "characters")
        case inspect.FloatType(ge=low, le=high) | inspect.IntType(ge=low, le=high):
            return "number" + _bounds(low, high, "")
        case inspect.LiteralType(values=values):
            return " \\| ".join(f"`{v}`" for v in values)
        case inspect.ListType(item_type=item, max_length=high):
            return f"list of {_constraint(item)}" + _bounds(None, high, "items")
        case inspect.StructType(cls=cls):
            return f"object ({cls.__name__}, below)"
        case inspect.DateType():
            return "date `YYYY-MM-DD`"
        case inspect.UUIDType():
            return "UUID"
        case inspect.DecimalType():
            return 'decimal (a JSON string such as `"1234.50"`, or a number)'
        case inspect.BoolType():
            return "`true` \\| `false`"
    raise TypeError(f"no wording for {t!r}: add it to docs/tables.py")


def _bounds(low: float | None, high: float | None, unit: str) -> str:
    unit = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f", {low:g} to {high:g}{unit}"
    if high is not None:
        return f", at most {high:g}{unit}"
    if low is not None:
        return f", at least {low:g}{unit}"
    return ""


def _presence(field: inspect.Field) -> str:
    if field.required:
        return "required"
    if field.default is None:
        return "optional"
    return f"optional, default `{msgspec.json.encode(field.default).decode()}`"


def _rows(fields: tuple[inspect.Field, ...], prefix: str = "") -> Iterator[str]:
    for field in fields:
        name = f"{prefix}{field.name}"
        yield f"| `{name}` | {_constraint(field.type)} | {_presence(field)} |"
        nested = nested_struct(field.type)
        if nested is not None:
            inner, many = nested
            yield from _rows(inner.fields, f"{name}[]." if many else f"{name}.")


def nested_struct(t: inspect.Type) -> tuple[inspect.StructType, bool] | None:
    """The struct a field holds (and whether it is a list of them), if any."""
    match t:
        case inspect.StructType():
            return t, False
        case inspect.ListType(item_type=inspect.StructType() as item):
            return item, True
        case inspect.UnionType(types=types):
            return next((n for x in types if (n := nested_struct(x)) is not None), None)
    return None


def _summary(cls: type) -> str:
    """The event class's docstring, in Markdown (the code quotes names as ``name``)."""
    doc = " ".join((cls.__doc__ or "").split()).replace("``", "`")
    return doc or "See the catalogue above."


def events_table() -> str:
    head = "| field | type and limits | presence |\n| --- | --- | --- |"
    envelope = inspect.type_info(Event)
    assert isinstance(envelope, inspect.StructType)  # noqa: S101 - Event is a Struct
    parts = [
        "**Envelope** (every event; `type` names the event type):",
        "",
        head,
        *_rows(envelope.fields),
    ]
    for name, cls in EVENT_TYPES.items():
        info = inspect.type_info(cls)
        assert isinstance(info, inspect.StructType)  # noqa: S101 - every event is a Struct
        own = tuple(f for f in info.fields if f.name not in ENVELOPE)
        parts += ["", f"**`{name}`** (schema {cls.SCHEMA_VERSION}): {_summary(cls)}", ""]
        parts += [head, *_rows(own)] if own else ["No fields beyond the envelope."]
    return "\n".join(parts)


def _rule_value(rule: Rule) -> str:
    if rule.value is None:
        return "condition"
    if rule.unit is None:
        return str(rule.value)
    unit = rule.unit.replace("months", "month").replace("rates", "rate")
    return f"{rule.value} {rule.unit if rule.value != 1 else unit}"


def rules_table() -> str:
    parts: list[str] = []
    for revisions in PACKS:
        first = revisions[0]
        parts += [
            f"Pack `{first.id}`, in force from {first.valid_from.isoformat()}; revisions "
            + ", ".join(str(p.revision) for p in revisions)
            + ". `—`: not in that revision; `=`: as in the revision before; `re-read`: same "
            "number, corrected reading (see its source).",
            "",
            "| rule | paragraph | "
            + " | ".join(f"revision {p.revision}" for p in revisions)
            + " | assumption | source (latest revision) |",
            "| --- | --- | " + " | ".join("---" for _ in revisions) + " | --- | --- |",
        ]
        names = [f.name for f in msgspec.structs.fields(RulePack)]
        for name in names:
            found = [getattr(p, name) for p in revisions]
            if not any(isinstance(r, Rule) for r in found):
                continue
            latest = next(r for r in reversed(found) if isinstance(r, Rule))
            cells = []
            for before, rule in zip([None, *found], found, strict=False):
                if not isinstance(rule, Rule):
                    cells.append("—")
                elif rule == before:
                    cells.append("=")
                elif isinstance(before, Rule) and before.value == rule.value:
                    cells.append(f"{_rule_value(rule)}, re-read")
                else:
                    cells.append(_rule_value(rule))
            parts.append(
                f"| `{name}` | {latest.paragraph} | "
                + " | ".join(cells)
                + f" | {'yes' if latest.assumption else 'no'} | {_source(latest)} |"
            )
    return "\n".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _source(rule: Rule) -> str:
    """A rule's source for the page, which names the source texts itself: their folder
    (``shared/seeds``) is not part of the repository."""
    return _cell(rule.source.replace(", shared/seeds", ""))


def disclosure_table() -> str:
    parts = [
        "| category | event types | without consent | assumption | legal basis |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, category in CATEGORIES.items():
        types = ", ".join(f"`{t}`" for t, c in EVENT_CATEGORY.items() if c == name)
        # A consent has the category ``consent_to_others`` for every reader it does not name
        # (``ledger.disclosure.category_of``), so no event type maps to it alone.
        types = types or "`ConsentGiven`, `ConsentWithdrawn` naming another municipality"
        parts.append(
            f"| `{name}` | {types} | {'yes' if category.without_consent else 'no'} | "
            f"{'yes' if category.assumption else 'no'} | {_cell(category.basis)} |"
        )
    return "\n".join(parts)


def withheld_table() -> str:
    """Per projection, the values a withheld category nulls (``ledger.disclosure``)."""
    kinds = list(WITHHELD_FIELDS)
    parts = [
        "| category | " + " | ".join(f"`{kind}`" for kind in kinds) + " |",
        "| --- | " + " | ".join("---" for _ in kinds) + " |",
    ]
    for name in CATEGORIES:
        cells = [
            ", ".join(f"`{path}`" for path in WITHHELD_FIELDS[kind].get(name, ())) or "—"
            for kind in kinds
        ]
        parts.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(parts)


TABLES = {
    "events": events_table,
    "rules": rules_table,
    "disclosure": disclosure_table,
    "withheld": withheld_table,
}


def _block(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated: {name} -->\n).*?(<!-- end generated: {name} -->)", re.DOTALL
    )


def rendered(page: str) -> str:
    """The page with every generated table made anew from the code."""
    for name, table in TABLES.items():
        found = _block(name).search(page)
        if found is None:
            raise ValueError(f"{PAGE.name} has no <!-- generated: {name} --> block")
        page = f"{page[: found.end(1)]}{table()}\n{page[found.start(2) :]}"
    return page


def main(argv: list[str]) -> int:
    page = PAGE.read_text(encoding="utf-8")
    fresh = rendered(page)
    if "--check" in argv:
        if fresh != page:
            print(f"{PAGE} is out of date with the code: run python docs/tables.py")
            return 1
        return 0
    PAGE.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
