"""Security review, as tests, without running anything: SQL takes values only as parameters
(a scan of the sources), and every text, list and number of the event catalogue has a size."""

from __future__ import annotations

import ast
import re
import re._parser  # the regex parser: the longest text a field's pattern can match
from collections.abc import Iterator
from pathlib import Path

import msgspec.inspect as mi
import pytest

from ledger.events import AnyEvent
from tests.support.paths import ROOT

SCANNED = ("ledger", "projections", "api")  # everything that touches a store or a request
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|WHERE|VALUES)\b")
CONSTANT = re.compile(r"^_?[A-Z][A-Z0-9_]*$")
PLACEHOLDERS = re.compile(r"^'[, ]*'\.join\('\?' \* len\(\w+\)\)$")  # ?,?,? for IN (...)


# --- SQL is built from fixed text and identifiers; values are always parameters -----------------


def _loop_constants(tree: ast.AST) -> set[str]:
    """Names that only run over a literal tuple of strings (``for what in ("A", "B")``)."""
    loops = (n for n in ast.walk(tree) if isinstance(n, ast.comprehension | ast.For))
    return {
        loop.target.id
        for loop in loops
        if isinstance(loop.target, ast.Name)
        and isinstance(loop.iter, ast.Tuple | ast.List)
        and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in loop.iter.elts)
    }


def _interpolation_is_an_identifier(expression: ast.expr, fixed: set[str]) -> bool:
    """Table names, constants and words from a literal list may be formatted into SQL."""
    text = ast.unparse(expression)
    last = text.rsplit(".", 1)[-1]
    names = {n.id for n in ast.walk(expression) if isinstance(n, ast.Name)}
    return bool(
        CONSTANT.match(last)
        or last.endswith("table_name")
        or PLACEHOLDERS.match(text)
        or (names and names <= fixed)
    )


def _is_constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) or (
        isinstance(node, ast.Name) and bool(CONSTANT.match(node.id))
    )


def _text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def sql_built_from_values(source: str) -> Iterator[tuple[int, str]]:
    """Lines where SQL text is formatted with anything but identifiers and constants."""
    tree = ast.parse(source)
    fixed = _loop_constants(tree)
    for node in ast.walk(tree):
        text = _text(node) if isinstance(node, ast.expr) else None
        if isinstance(node, ast.JoinedStr) and text and SQL_WORDS.search(text):
            for value in node.values:
                if isinstance(value, ast.FormattedValue) and not _interpolation_is_an_identifier(
                    value.value, fixed
                ):
                    yield node.lineno, ast.unparse(value.value)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
            left = _text(node.left)
            if left and SQL_WORDS.search(left) and _text(node.right) is None:
                yield node.lineno, ast.unparse(node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = _text(node.func.value)
            if node.func.attr == "format" and receiver and SQL_WORDS.search(receiver):
                yield node.lineno, ast.unparse(node)
        if (  # SQL() trusts its text: fixed text or a constant only
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "SQL"
            and not (node.args and _is_constant(node.args[0]))
        ):
            yield node.lineno, ast.unparse(node)


def _sources() -> list[Path]:
    return sorted(p for folder in SCANNED for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_sql_takes_values_only_as_parameters(path: Path) -> None:
    assert list(sql_built_from_values(path.read_text())) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "c.execute(f\"SELECT * FROM t WHERE person = '{person}'\")",
        "c.execute(\"SELECT * FROM t WHERE person = '%s'\" % person)",
        'c.execute("DELETE FROM t WHERE id = " + event_id)',
        'c.execute("UPDATE t SET key = NULL WHERE id = {}".format(oid))',
        "c.execute(SQL(f'SELECT {column} FROM t'))",
        'rows = [f"SELECT * FROM t WHERE id = {v}" for v in values]',
    ],
)
def test_the_sql_scan_finds_values_formatted_into_sql(snippet: str) -> None:
    assert list(sql_built_from_values(snippet))


def test_the_sql_scan_accepts_identifiers_and_parameters() -> None:
    snippet = (
        'c.execute(f"SELECT state FROM {self.events_table_name} WHERE id IN '
        "({','.join('?' * len(chunk))})\", chunk)\n"
        'c.execute(SQL("SELECT * FROM {0} WHERE id = %s").format(self._events), (oid,))\n'
        'ts = [f"CREATE TRIGGER no_{w.lower()} BEFORE {w} ON t" for w in ("UPDATE", "DELETE")]'
    )
    assert list(sql_built_from_values(snippet)) == []


# --- every input has a size limit ----------------------------------------------------------------

LONGEST_MATCH = 10_000  # patterns may bound a text instead of max_length; anything below this


def _sized(info: mi.Type, path: str) -> Iterator[tuple[str, bool]]:
    """Every text, list and number in the catalogue, and whether its size is bounded."""
    match info:
        case mi.UnionType(types=types):
            for member in types:
                yield from _sized(member, path)
        case mi.StructType(cls=cls, fields=fields):
            for f in fields:
                yield from _sized(f.type, f"{path or cls.__name__}.{f.name}")
        case mi.StrType(max_length=most, pattern=pattern):
            width = re._parser.parse(pattern).getwidth()[1] if pattern else None
            yield path, most is not None or (width is not None and width < LONGEST_MATCH)
        case mi.ListType(max_length=most, item_type=item):
            yield path, most is not None
            yield from _sized(item, f"{path}[]")
        case mi.IntType(le=le, lt=lt) | mi.FloatType(le=le, lt=lt):
            yield path, le is not None or lt is not None
        case _:
            pass


@pytest.mark.parametrize(
    ("path", "bounded"), sorted(set(_sized(mi.type_info(AnyEvent), ""))), ids=str
)
def test_every_text_list_and_number_of_the_catalogue_has_a_bound(path: str, bounded: bool) -> None:
    assert bounded, f"{path} accepts any size"
