"""Turning read answers into HTML for people: the template environments (one a language), the
value helpers the templates call, and the labels of the projections' JSON keys.

A ``null`` in a redacted answer is a value withheld from the reader: the helpers show it as
withheld with the category's legal basis, never as zero or as a dash (a dash is a value the
case does not have yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from ledger.disclosure import CATEGORIES, STORED_BASES
from ledger.i18n import DASH, LABELS, NEEDS_CONSENT, WITHHELD, Language, Words, read_back
from ledger.municipalities import municipality_name

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


class Shown:
    """The values of one answer as its reader may see them."""

    def __init__(self, words: Words, view: Mapping[str, Any]) -> None:
        self.words = words
        self.view = view
        self.withheld: list[tuple[str, str]] = [
            (path, item["category"])
            for item in view.get("withheld") or []
            for path in item["fields"]
        ]

    def category(self, path: str) -> str | None:
        """The category that withheld ``path`` (or a value containing it), if any did."""
        for withheld, category in self.withheld:
            if path == withheld or path.startswith((f"{withheld}.", f"{withheld}[")):
                return category
        return None

    def __call__(self, path: str, how: str = "text") -> Markup:
        """The value at ``path`` (``a.b``, ``a[0].b``) formatted ``how``."""
        category = self.category(path)
        if category is not None:
            return withheld_mark(self.words, category)
        return show(self.words, _at(self.view, path), how)


def _at(view: Any, path: str) -> Any:
    node = view
    for part in path.replace("[", ".").replace("]", "").split("."):
        if node is None:
            return None
        node = node[int(part)] if isinstance(node, list) else node.get(part)
    return node


def withheld_basis(words: Words, category: str) -> str:
    """Why ``category`` is withheld, with its legal basis."""
    known = CATEGORIES.get(category)
    if known is None or known.without_consent:
        return words(known.basis) if known else ""
    return words(NEEDS_CONSENT)


def logged_basis(words: Words, stored: str) -> str:
    """A legal basis of the access log (stored in English) in the reader's language, its values
    (a consent's date) as the language writes them; a text the ledger no longer makes is
    shown as stored."""
    return words.text(read_back(stored, STORED_BASES))


def withheld_mark(words: Words, category: str) -> Markup:
    basis = withheld_basis(words, category)
    return Markup('<span class="withheld" title="{basis}">{text} ({what})</span>').format(
        basis=basis, text=words(WITHHELD), what=words.label(category, LABELS)
    )


def show(words: Words, value: Any, how: str = "text") -> Markup:
    """One value for people: dates, amounts and numbers as the language writes them, yes/no,
    labels for the projections' keywords, a dash for nothing."""
    if value is None or value in ("", []):
        return escape(DASH)
    shown: str
    if how == "date":
        shown = words.date(value)
    elif how == "moment":
        shown = words.moment(value)
    elif how == "amount":
        shown = words.amount(value)
    elif how == "place":
        shown = place(value)
    elif how == "label":
        shown = words.label(str(value), LABELS)
    elif isinstance(value, bool):
        shown = words.yes_no(value)
    elif isinstance(value, int | float):
        shown = words.number(value)
    else:
        shown = str(value)
    return escape(shown)


def place(code: str | None) -> str:
    """A kommunekode with the municipality's name."""
    return f"{code} {municipality_name(code)}" if code else DASH


@cache
def environment(language: Language) -> Environment:
    words = Words(language)
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(words.translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["cssstr"] = css_string
    env.filters["label"] = lambda key: words.label(str(key), LABELS)
    env.globals.update(
        w=words,
        lang=language,
        show=lambda value, how="text": show(words, value, how),
        label=lambda key: words.label(str(key), LABELS),
        place=place,
        shown=lambda view: Shown(words, view),
        basis=lambda category: withheld_basis(words, category),
        logged_basis=lambda stored: logged_basis(words, stored),
    )
    return env


def css_string(value: Any) -> Markup:
    """A value inside a CSS string in a ``<style>`` element (the PDF's page header)."""
    text = str(value)
    for plain, escaped in (("\\", "\\5C "), ('"', "\\22 "), ("<", "\\3C "), ("\n", "\\A ")):
        text = text.replace(plain, escaped)
    return Markup(text)  # noqa: S704 - escaped for CSS above; HTML escaping would show as text


def render(language: Language, template: str, **context: Any) -> str:
    return environment(language).get_template(template).render(**context)
