"""The documentation in the repository says what the code does and points only inside it.

The event, rule and disclosure tables of docs/domain.md are written from the code by
docs/tables.py; these tests fail when a page and the code part ways: a command without its
section, an event type or field missing, a table out of date, an error code or environment
variable left out, a link to a page or section that is not there, or a pointer to files outside
the repository.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import msgspec
import pytest

from cli.main import cli
from docs import tables
from ledger.config import Settings, variables
from ledger.errors import WIRE_CODES
from ledger.events import EVENT_TYPES
from tests.support.commands import ledger_commands
from tests.support.paths import ROOT

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
DOMAIN = (DOCS / "domain.md").read_text(encoding="utf-8")


# The shared brief and its source texts are not part of a clone of the repository.
OUTSIDE = re.compile(r"\.\./shared|shared/|DOMAIN\.md|INTERFACE\.md")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_page_points_outside_the_repository(page: Path) -> None:
    assert not OUTSIDE.findall(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", [name for name, _ in ledger_commands(cli)])
def test_every_ledger_command_has_a_section_in_the_cli_page(name: str) -> None:
    heading = re.compile(rf"^#+ `ledger {re.escape(name)}`$", re.MULTILINE)
    assert heading.search((DOCS / "cli.md").read_text(encoding="utf-8"))


def _field_paths(cls: type) -> list[str]:
    """Every field of an event type, nested ones as paths (``activities[].kind``)."""
    paths: list[str] = []
    for field in msgspec.structs.fields(cls):
        paths.append(field.name)
        info = msgspec.inspect.type_info(field.type)
        nested = tables.nested_struct(info)
        if nested is not None:
            inner, many = nested
            sep = "[]." if many else "."
            paths += [f"{field.name}{sep}{sub.name}" for sub in inner.fields]
    return paths


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_the_domain_page_lists_every_event_type_and_field(type_name: str) -> None:
    section = re.search(
        rf"^\*\*`{type_name}`\*\* \(schema \d+\):.*?(?=^\*\*`|<!-- end generated)",
        DOMAIN,
        re.MULTILINE | re.DOTALL,
    )
    assert section is not None, f"docs/domain.md has no field table for {type_name}"
    for path in _field_paths(EVENT_TYPES[type_name]):
        assert f"| `{path}` |" in DOMAIN, f"{type_name}.{path} is not in docs/domain.md"


def test_the_generated_tables_of_the_domain_page_match_the_code() -> None:
    assert tables.rendered(DOMAIN) == DOMAIN, "run: python docs/tables.py"


def test_every_error_code_an_event_can_get_is_explained_in_the_api_page() -> None:
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = sorted(code for code in WIRE_CODES if f"`{code}`" not in api)
    assert not missing


def _anchors(page: str) -> set[str]:
    """The section anchors a Markdown renderer gives a page's headings."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", page, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_between_pages_leads_to_a_page_and_a_section(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\((?!https?:)([^)#]*)(?:#([^)]*))?\)", text):
        linked = (page.parent / target).resolve() if target else page
        assert linked.exists(), f"{page.name} links to {target}, which does not exist"
        if anchor and linked.is_file():
            assert anchor in _anchors(linked.read_text(encoding="utf-8")), (
                f"{page.name} links to {target}#{anchor}, a section that does not exist"
            )


def test_every_environment_variable_the_ledger_reads_is_in_the_operations_page() -> None:
    # The settings of stores and servers are in the README's table (checked below), which the
    # operations page points to.
    operations = (DOCS / "operations.md").read_text(encoding="utf-8") + CONFIGURATION
    read = {
        name
        for package in ("ledger", "projections", "cli", "api")
        for source in (ROOT / package).rglob("*.py")
        for name in re.findall(r"\"(LEDGER_[A-Z_]+)\"", source.read_text(encoding="utf-8"))
    }
    assert read
    assert not sorted(name for name in read if f"`{name}`" not in operations)


CONFIGURATION = re.search(
    r"^## Configuration$.*?(?=^## )",
    (ROOT / "README.md").read_text(encoding="utf-8"),
    re.MULTILINE | re.DOTALL,
)[0]


@pytest.mark.parametrize("setting", dataclasses.fields(Settings), ids=lambda f: f.name)
def test_the_readme_configuration_table_lists_every_setting_with_its_variables_and_default(
    setting: dataclasses.Field[object],
) -> None:
    names = " or ".join(f"`{name}`" for name in variables()[setting.name])
    default = "unset" if setting.default is None else f"`{setting.default}`"
    assert f"| `{setting.name}` | {names} | {default} |" in CONFIGURATION
