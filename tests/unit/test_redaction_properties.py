"""Redaction never changes a conclusion (issue 9; DOMAIN.md "Data sharing"): for every reader of
a generated case, every value of the body it gets is either ``null`` or the whole case's value,
every path it lists as withheld is ``null``, and a redacted status report's digest covers the
body as redacted."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.workload import person_history
from ledger.disclosure import WITHHELD_FIELDS, disclose
from ledger.records import StoredCaseEvent
from projections.deadlines import worklist
from projections.rows import KINDS, render
from projections.status import digest_of
from projections.views import Reader, locate, redact, seen_by

AS_OF = date(2026, 6, 1)
_json = msgspec.json.Decoder()


def stored(seed: int, number: int) -> list[StoredCaseEvent]:
    """A generated case as the ledger would have stored it, recorded in order."""
    events = person_history(seed, number, size=40)
    recorded = datetime.combine(events[0].occurred_on, time(12), tzinfo=UTC)
    case = []
    for version, event in enumerate(events, start=1):
        recorded = max(recorded, datetime.combine(event.occurred_on, time(12), tzinfo=UTC))
        case.append(
            StoredCaseEvent(
                position=version,
                version=version,
                recorded_at=recorded,
                hash=f"{version:064x}",
                prev_hash=f"{version - 1:064x}",
                event=event,
            )
        )
        recorded += timedelta(minutes=1)
    return case


def nulls_only(seen: Any, full: Any, path: str = "") -> list[str]:
    """The paths where ``seen`` differs from ``full`` other than by being null."""
    if seen is None:
        return []
    if isinstance(seen, dict) and isinstance(full, dict):
        if set(seen) != set(full):
            return [f"{path} (keys)"]
        return [p for key in seen for p in nulls_only(seen[key], full[key], f"{path}.{key}")]
    if isinstance(seen, list) and isinstance(full, list):
        if len(seen) != len(full):
            return [f"{path} (length)"]
        return [
            p
            for i, (s, f) in enumerate(zip(seen, full, strict=True))
            for p in nulls_only(s, f, f"{path}[{i}]")
        ]
    return [] if seen == full else [path]


def without_redaction_marks(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("redacted", "withheld", "digest")}


def at(view: Any, path: str) -> Any:
    """The value at a concrete path such as ``a.b[3].c``."""
    for part in path.replace("[", ".[").split("."):
        if part:
            view = view[int(part[1:-1])] if part.startswith("[") else view[part]
    return view


cases = st.tuples(st.integers(1, 10_000), st.integers(0, 50))


@settings(max_examples=60, deadline=None)
@given(cases)
def test_every_value_a_municipality_sees_is_null_or_the_whole_cases(case: tuple[int, int]) -> None:
    events = stored(*case)
    person = events[0].event.person
    municipalities = sorted({s.event.municipality for s in events})
    for kind in KINDS:
        full_body = render(kind, person, events, AS_OF)[1]
        full = _json.decode(full_body)
        for code in municipalities:
            read = seen_by(kind, person, Reader("municipality", code), events, full_body)
            seen = _json.decode(read.body)
            assert nulls_only(without_redaction_marks(seen), without_redaction_marks(full)) == []
            for withheld in seen["withheld"]:
                assert withheld["category"] in read.withheld
                assert all(at(seen, path) is None for path in withheld["fields"])
            assert seen["redacted"] == bool(seen["withheld"])
            if kind == "status":
                assert seen["digest"] == digest_of(seen)
                assert (seen["digest"] == full["digest"]) == (not seen["redacted"])


@settings(max_examples=60, deadline=None)
@given(cases)
def test_every_worklist_value_is_null_or_the_whole_cases(case: tuple[int, int]) -> None:
    events = stored(*case)
    person = events[0].event.person
    for code in sorted({s.event.municipality for s in events}):
        full: dict[str, Any] = msgspec.to_builtins(worklist(code, [(person, events)], AS_OF))
        seen = _json.decode(msgspec.json.encode(full))
        nulled = redact("deadlines", seen, disclose(events, code))
        assert nulls_only(seen, full) == []
        assert all(at(seen, path) is None for _, path in nulled)


def test_the_generated_cases_do_withhold_something() -> None:
    """The properties above are not vacuous: some generated cases move with an employment
    recorded before the move, which the new municipality may not see without consent."""
    redacted = 0
    for number in range(60):
        events = stored(1, number)
        person = events[0].event.person
        body = render("status", person, events, AS_OF)[1]
        for code in sorted({s.event.municipality for s in events}):
            read = seen_by("status", person, Reader("municipality", code), events, body)
            redacted += _json.decode(read.body)["redacted"]
    assert redacted > 0


def test_every_field_the_table_names_is_a_field_of_its_projection() -> None:
    """A misspelt path in ``WITHHELD_FIELDS`` would withhold nothing: every path (its
    selectors widened to every element) names a value in some generated case's projection."""
    bodies: dict[str, list[Any]] = {"deadlines": []}
    for number in range(60):
        events = stored(2, number)
        person = events[0].event.person
        for kind in KINDS:
            bodies.setdefault(kind, []).append(_json.decode(render(kind, person, events, AS_OF)[1]))
        for code in {s.event.municipality for s in events}:
            for on in (events[3].event.occurred_on, events[-1].event.occurred_on, AS_OF):
                worklist_ = worklist(code, [(person, events)], on)
                bodies["deadlines"].append(msgspec.to_builtins(worklist_))
    for kind, table in WITHHELD_FIELDS.items():
        for path in sorted({p for paths in table.values() for p in paths}):
            # A list the generated cases leave empty (``retracted``) is still named.
            widened = re.sub(r"\[(@|\?[^\]]*)\]", "[*]", path).removesuffix("[*]")
            assert any(locate(body, widened) for body in bodies[kind]), (kind, path)
