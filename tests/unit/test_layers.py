"""Storage stays in ``ledger/stores``: the domain, the application service and the pure folds
import no database driver and nothing of eventsourcing's persistence layer.

Read from the source (``ast``), never by importing it: the test holds for code paths no test
runs. The pure folds are checked through everything of the project they import, so a fold that
reached storage by way of another module fails too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.paths import ROOT

# The drivers, and the modules of eventsourcing that hold its stores.
PERSISTENCE = (
    "sqlite3",
    "psycopg",
    "psycopg_pool",
    "aiosqlite",
    "eventsourcing.persistence",
    "eventsourcing.sqlite",
    "eventsourcing.postgres",
)
PURE_FOLDS = ("common", "status", "sanctions", "history", "deadlines", "replay")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports(module: str) -> set[str]:
    """Every module a module's source imports (``from a import b`` counts as ``a`` and, where
    it is a module of the project, ``a.b``)."""
    path = ROOT / Path(*module.split("."))
    source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
            found |= {
                f"{node.module}.{alias.name}"
                for alias in node.names
                if _is_project_module(f"{node.module}.{alias.name}")
            }
    return found


def _is_project_module(name: str) -> bool:
    path = ROOT / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def is_persistence(name: str) -> bool:
    return any(name == banned or name.startswith(f"{banned}.") for banned in PERSISTENCE)


def reached(module: str) -> set[str]:
    """Every module a module imports, following the project's own modules to theirs."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        for name in imports(todo.pop()):
            if name not in seen:
                seen.add(name)
                if _is_project_module(name):
                    todo.append(name)
    return seen


OUTSIDE_STORES = sorted(
    module_name(path)
    for path in (ROOT / "ledger").rglob("*.py")
    if "stores" not in path.relative_to(ROOT / "ledger").parts
)


@pytest.mark.parametrize("module", OUTSIDE_STORES)
def test_no_module_of_the_ledger_outside_its_stores_imports_a_driver_or_persistence(
    module: str,
) -> None:
    assert sorted(name for name in imports(module) if is_persistence(name)) == []


@pytest.mark.parametrize("fold", PURE_FOLDS)
def test_a_pure_fold_reaches_no_store_not_even_through_the_modules_it_imports(fold: str) -> None:
    found = reached(f"projections.{fold}")

    assert sorted(name for name in found if is_persistence(name)) == []
    assert sorted(name for name in found if name.startswith("ledger.stores")) == []
    assert "ledger.application" not in found


def test_the_rule_sees_an_import_of_a_driver_where_there_is_one() -> None:
    assert "sqlite3" in imports("ledger.stores.sqlite")
    assert is_persistence("eventsourcing.persistence")
    assert "ledger.stores.base" in reached("ledger.application")


PROJECTIONS_BESIDE_THE_READ_SERVICE = sorted(
    module_name(path)
    for path in (ROOT / "projections").glob("*.py")
    if path.stem not in {"views", "rebuild"}
)


@pytest.mark.parametrize("module", PROJECTIONS_BESIDE_THE_READ_SERVICE)
def test_no_projection_module_but_the_read_service_and_rebuild_imports_a_driver_or_persistence(
    module: str,
) -> None:
    assert sorted(name for name in imports(module) if is_persistence(name)) == []


# A statement of SQL as a string of the code: its keyword first, then what it works on.
_SQL = re.compile(
    r"^\s*(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|"
    r"UNIQUE|TRIGGER|FUNCTION|OR)|ALTER\s+TABLE|DROP\s+(TABLE|INDEX)|PRAGMA\s)",
    re.IGNORECASE | re.DOTALL,
)
PRODUCT = ("ledger", "projections", "api", "cli")


def sql_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.value.strip().splitlines()[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.match(node.value)
    ]


OUTSIDE_THE_STORES = sorted(
    str(path.relative_to(ROOT))
    for package in PRODUCT
    for path in (ROOT / package).rglob("*.py")
    if "stores" not in path.relative_to(ROOT).parts
)


@pytest.mark.parametrize("path", OUTSIDE_THE_STORES)
def test_no_sql_is_written_outside_the_stores(path: str) -> None:
    assert sql_strings(ROOT / path) == []


def test_the_sql_rule_sees_the_statements_the_stores_hold() -> None:
    found = sql_strings(ROOT / "ledger" / "stores" / "migrations.py")

    assert any(line.upper().startswith("CREATE TABLE") for line in found)
    assert sql_strings(ROOT / "ledger" / "stores" / "aio.py") != []
