"""A `ledger serve --web` on the sample cases and the moved case of the read-path tests, with a
token for each kind of reader, for the page tests (over HTTP and in Chromium)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.load import serving
from ledger.application import Ledger
from ledger.wire import ndjson_lines
from tests.support.paths import ROOT, SAMPLE_CASES
from tests.support.pg import PostgresCluster
from tests.support.served import make_token
from tests.support.wire import MOVED, WireCase, event_id, moved_case, ndjson

ARTIFACTS = ROOT / ".artifacts"
# Who signs in: a name for each token.
READERS: dict[str, tuple[str, str | None]] = {
    "aalborg": ("municipality", "851"),  # responsible for MOVED now; may not see its job
    "odense": ("municipality", "461"),  # was responsible for MOVED; not any more
    "kobenhavn": ("municipality", "101"),
    "aarhus": ("municipality", "751"),
    "investigator": ("investigator", None),
    "immigration": ("immigration_service", None),
    "admin": ("admin", None),
}
__all__ = ["MOVED", "Site", "consented", "csrf_of", "site", "sqlite_site"]
# The consent in `consented`'s case, as the access log stores its legal basis (the API's words).
CONSENTED_BASIS = (
    "consent of the person given on 2024-08-20 (event {event}), recorded by municipality 461 "
    "(no caseworker named), evidence: samtykkeerklæring (underskrevet), side 2: Odense"
)


@dataclass
class Site:
    db: str
    base: str
    log: Path
    tokens: dict[str, dict[str, Any]]

    def secret(self, reader: str) -> str:
        return str(self.tokens[reader]["secret"])

    def api(self, reader: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.secret(reader)}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=60)

    def browser(self, **headers: str) -> httpx.Client:
        """A client that keeps cookies, as a browser does."""
        return httpx.Client(base_url=self.base, headers=headers, timeout=60)

    @contextmanager
    def signed_in(self, reader: str, **headers: str) -> Iterator[httpx.Client]:
        """A browser-like client signed in with the sign-in form."""
        with self.browser(**headers) as client:
            form = client.get("/web/sign-in")
            signed = client.post(
                "/web/sign-in", data={"token": self.secret(reader), "csrf": csrf_of(form.text)}
            )
            assert signed.status_code == 303, signed.text
            yield client


def consented(site: Site, person: str) -> str:
    """`moved_case` for ``person``, but Odense records the person's consent to Aalborg before
    the move, and Aalborg reads the case page: the access log holds the consent's legal basis,
    which this returns as stored."""
    events = moved_case(person)
    consent = WireCase(person, "461").event(
        "ConsentGiven",
        "2024-08-20",
        event_id=event_id(f"{person}/consent"),
        recipient="851",
        evidence="samtykkeerklæring (underskrevet), side 2: Odense",
    )
    moved = next(i for i, e in enumerate(events) if e["type"] == "MunicipalityMoved")
    with site.api("odense") as odense, site.api("aalborg") as aalborg:
        sent = odense.post("/v1/events", json=[*events[:moved], consent, events[moved]])
        assert sent.status_code == 200, sent.text
        sent = aalborg.post("/v1/events", json=events[moved + 1 :])
        assert sent.status_code == 200, sent.text
    with site.signed_in("aalborg") as browser:
        assert browser.get(f"/web/persons/{person}").status_code == 200
    return CONSENTED_BASIS.format(event=consent["event_id"])


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


@contextmanager
def opened(db: str, folder: Path) -> Iterator[Site]:
    with Ledger(db) as ledger:
        ledger.append_lines(ndjson_lines(SAMPLE_CASES.read_bytes() + ndjson(moved_case())))
    tokens = {reader: make_token(db, *binding) for reader, binding in READERS.items()}
    with serving(db, folder / "server.log", web=True) as base:
        yield Site(db, base, folder / "server.log", tokens)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The pages on SQLite and on PostgreSQL."""
    folder = tmp_path_factory.mktemp("pages")
    if request.param == "sqlite":
        with opened(str(folder / "ledger.db"), folder) as served:
            yield served
        return
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    name = f"pages_{uuid.uuid4().hex}"
    try:
        with opened(cluster.create_database(name), folder) as served:
            yield served
    finally:
        cluster.drop_database(name)


@pytest.fixture(scope="module")
def sqlite_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The pages on one SQLite store (for the browser, where the store makes no difference)."""
    folder = tmp_path_factory.mktemp("browser")
    with opened(str(folder / "ledger.db"), folder) as served:
        yield served
