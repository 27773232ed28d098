"""The bench lives outside the product: no product module imports it, and `ledger bench` loads
it only when it runs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PRODUCT = ("ledger", "projections", "api", "cli")
COMMAND = ROOT / "cli" / "bench_command.py"


def _bench_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] == "bench" for alias in node.names
        ):
            found.append(node)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "bench":
            found.append(node)
    return found


@pytest.mark.parametrize(
    "source",
    [path for package in PRODUCT for path in sorted((ROOT / package).rglob("*.py"))],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_no_product_module_imports_the_bench_but_the_bench_command_when_it_runs(
    source: Path,
) -> None:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    imports = _bench_imports(tree)
    if source != COMMAND:
        assert imports == []
        return
    assert imports
    module_level = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    assert not set(imports) & set(module_level)
