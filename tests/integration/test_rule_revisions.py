"""Rule pack revisions on the sample cases in a store: a report made under revision 1 is
reproduced as it was sent, digest included; new reports name the latest revision (DOMAIN.md,
"Rule packs"). The packs themselves are checked in ``tests/unit/test_rule_pack_revisions.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.rulepacks import LATEST_REVISION
from ledger.wire import ndjson_lines
from projections.rows import render
from tests.support.paths import ROOT

FROZEN = Path(__file__).parent / "frozen" / "revision-1"
AS_OF = date(2026, 11, 23)
KNOWN_AT = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    with Ledger(str(tmp_path_factory.mktemp("revisions") / "ledger.db")) as ledger:
        ledger.append_lines(ndjson_lines((ROOT / "fixtures" / "cases.ndjson").read_bytes()))
        yield ledger


def without_generation_time(body: bytes) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(body)
    parsed.pop("generated_at", None)
    return parsed


@pytest.mark.parametrize("frozen", sorted(FROZEN.glob("*.json")), ids=lambda p: p.stem)
def test_a_revision_1_report_is_reproduced_byte_for_byte(ledger: Ledger, frozen: Path) -> None:
    person, kind = frozen.stem.rsplit(".", 1)
    events = ledger.case_events(person, open_personal=False)

    _, body = render(kind, person, events, AS_OF, KNOWN_AT, revision=1)

    sent = frozen.read_bytes().rstrip(b"\n")
    if kind == "status":
        assert without_generation_time(body) == without_generation_time(sent)
        generated = json.loads(sent)["generated_at"]
        fresh = json.loads(body)["generated_at"]
        assert body == sent.replace(generated.encode(), fresh.encode())
    else:
        assert body == sent


@pytest.mark.parametrize("kind", ["status", "sanctions", "history"])
def test_new_reports_name_the_pack_and_the_latest_revision(ledger: Ledger, kind: str) -> None:
    events = ledger.case_events("P-KBH-0002", open_personal=False)

    _, body = render(kind, "P-KBH-0002", events, AS_OF, KNOWN_AT)
    view = json.loads(body)

    assert (view["rule_pack"], view["rule_revision"]) == ("akl-2015/inl-2014", LATEST_REVISION)
    assert view["head_hash"] == events[-1].hash


def test_revision_1_reports_name_no_revision_as_they_never_did(ledger: Ledger) -> None:
    events = ledger.case_events("P-KBH-0002", open_personal=False)

    _, body = render("status", "P-KBH-0002", events, AS_OF, KNOWN_AT, revision=1)

    assert "rule_revision" not in json.loads(body)
    assert "head_hash" not in json.loads(body)
