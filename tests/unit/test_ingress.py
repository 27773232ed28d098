"""What every event is checked for at ingress, whatever its type: no CPR number in any string
field but the sealed ``personal`` (DOMAIN.md, "Case invariants"), printable text, dates within
1900-2100, each JSON key once. The string fields are found from the catalogue's own type
information, so a field added later is covered without touching this file."""

from __future__ import annotations

import calendar
import json
from datetime import date
from typing import Any, NamedTuple

import msgspec.inspect as mi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerError
from ledger.events import (
    EVENT_TYPES,
    OWN_FORMAT,
    SEALED,
    check_envelope,
    decode_event,
    looks_like_cpr,
)
from tests.support.paths import ROOT

SAMPLES = ROOT / "fixtures" / "samples"
TODAY = date(2026, 11, 23)
ACTIVITY = {"activity_id": "A-1", "kind": "sprogskole", "hours_per_week": 10}
SEPARATORS = ["-", ".", "_", ":", " ", ""]


class StringField(NamedTuple):
    type_name: str
    path: str  # e.g. activities[0].kind
    reference: bool  # a pattern of reference characters (no spaces), not free text
    max_length: int


def _strings(info: mi.Type, path: str) -> list[tuple[str, mi.StrType]]:
    match info:
        case mi.StrType():
            return [(path, info)]
        case mi.UnionType(types=types):
            return [found for t in types for found in _strings(t, path)]
        case mi.ListType(item_type=item):
            return _strings(item, f"{path}[0]")
        case mi.StructType(fields=fields):
            return [
                found
                for f in fields
                if f.encode_name not in OWN_FORMAT and f.encode_name != SEALED
                for found in _strings(f.type, f"{path}.{f.encode_name}".lstrip("."))
            ]
    return []


def string_fields() -> list[StringField]:
    """Every string field of every event type that may not hold a CPR number."""
    return [
        StringField(name, path, info.pattern is not None, min(info.max_length or 64, 64))
        for name, cls in sorted(EVENT_TYPES.items())
        for path, info in _strings(mi.type_info(cls), "")
    ]


FIELDS = string_fields()


def sample(type_name: str) -> dict[str, Any]:
    path = max(SAMPLES.glob(f"v*/{type_name}.json"), key=lambda p: int(p.parent.name[1:]))
    event: dict[str, Any] = json.loads(path.read_text())
    if type_name == "ContractSigned":
        event["activities"] = event.get("activities") or [dict(ACTIVITY)]
    return event


def with_value(field: StringField, value: str) -> dict[str, Any]:
    event = sample(field.type_name)
    holder: Any = event
    *outer, last = field.path.replace("[0]", ".0").split(".")
    for step in outer:
        holder = holder[int(step)] if step.isdigit() else holder[step]
    holder[last] = value
    return event


def refusal(event: dict[str, Any]) -> tuple[str, str | None] | None:
    try:
        check_envelope(decode_event(json.dumps(event).encode()), TODAY)
    except LedgerError as exc:
        return exc.code, exc.field
    return None


@st.composite
def cpr_numbers(draw: st.DrawFn, separators: list[str]) -> str:
    """DDMMYY and four digits with a real day and month, the date itself plain or written with
    one separator (01.01.90), and any of the separators before the four digits."""
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, calendar.monthrange(2000, month)[1]))
    year, serial = draw(st.integers(0, 99)), draw(st.integers(0, 9999))
    inside = draw(st.sampled_from(["", *[s for s in separators if s]]))
    before_serial = draw(st.sampled_from(separators))
    return f"{day:02d}{inside}{month:02d}{inside}{year:02d}{before_serial}{serial:04d}"


# Text around a number: anything printable but digits, which would make it another number.
free_text = st.text(
    st.characters(blacklist_categories=["Nd", "Cc", "Cf", "Cs", "Zl", "Zp"]), max_size=20
)
reference_text = st.from_regex(r"\A[A-Za-z._:/-]{0,20}\Z")


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(FIELDS), st.data())
def test_a_cpr_number_inside_any_string_field_is_refused_naming_the_field(
    field: StringField, data: st.DataObject
) -> None:
    separators = [s for s in SEPARATORS if s != " "] if field.reference else SEPARATORS
    around = reference_text if field.reference else free_text
    number = data.draw(cpr_numbers(separators))
    value = data.draw(around) + number + data.draw(around)
    value = value[: field.max_length] if len(value) > field.max_length else value
    if number not in value:  # cut to the field's length: keep the number whole, at the end
        value = value[: field.max_length - len(number)] + number

    assert refusal(with_value(field, value)) == ("cpr_in_field", field.path)


@st.composite
def ordinary_text(draw: st.DrawFn, reference: bool) -> str:
    """Words and numbers of at most five digits, never two numbers in a row, so no run of
    digits and separators can spell DDMMYY-NNNN."""
    words = st.from_regex(r"\A[A-Za-z]{1,8}\Z") if reference else free_text.filter(bool)
    glue = st.sampled_from(["-", ".", ":", "_"] if reference else ["-", ".", ":", "_", " ", ""])
    parts = [draw(words)]
    for _ in range(draw(st.integers(0, 4))):
        parts += [draw(glue), str(draw(st.integers(0, 99999))), draw(glue), draw(words)]
    return "".join(parts)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(FIELDS), st.data())
def test_ordinary_text_and_references_in_any_string_field_pass(
    field: StringField, data: st.DataObject
) -> None:
    value = data.draw(ordinary_text(field.reference).filter(lambda t: len(t) <= field.max_length))

    assert refusal(with_value(field, value)) is None


def test_every_string_field_the_issue_named_is_covered() -> None:
    paths = {field.path for field in FIELDS}
    assert paths >= {
        "residence_basis",
        "employment_goal",
        "education_goal",
        "waived_reason",
        "reason",
        "recorded_by",
        "activities[0].kind",
        "activities[0].activity_id",
        "contract_id",
        "offer_id",
        "request_id",
        "sanction_id",
        "employment_id",
        "education_id",
        "evidence",
    }


@pytest.mark.parametrize(
    "person", ["P-010190.1234", "P-010190_1234", "010190:1234", "P-01.01.90-1234", "010190 1234"]
)
def test_a_person_reference_with_any_separator_in_a_cpr_number_is_refused(person: str) -> None:
    event = {**sample("FollowUpHeld"), "person": person.replace(" ", ":")}
    assert refusal(event) == ("cpr_in_person", "person")


@given(st.from_regex(r"\A[0-9a-f]{64}\Z"))
def test_a_digest_is_checked_by_its_own_format_even_with_ten_digits_in_a_row(hexa: str) -> None:
    event = {**sample("StatusReported"), "digest": f"sha256:0101901234{hexa[10:]}"}
    assert refusal(event) is None


def test_a_cpr_number_in_the_sealed_personal_data_is_where_it_belongs() -> None:
    event = sample("ResponsibilityAssumed")
    event["personal"] = {"cpr": "010190-1234", "name": "Ada Person", "birth_date": "1990-01-01"}
    assert refusal(event) is None


@pytest.mark.parametrize(
    "text",
    [
        "010190\u200b-1234",
        "\uff10\uff11\uff10\uff11\uff19\uff10-\uff11\uff12\uff13\uff14",
        "ref 01-01-90 1234",
        "x310190-0000y",
    ],
)
def test_a_cpr_number_hidden_by_invisible_characters_or_other_digits_is_still_seen(
    text: str,
) -> None:
    assert looks_like_cpr(text)


@pytest.mark.parametrize("text", ["P-300290-1234", "UST-2026-002911", "2024-01-15", "v1.2.3-4567"])
def test_numbers_that_cannot_be_a_cpr_number_are_not_taken_for_one(text: str) -> None:
    assert not looks_like_cpr(text)


@pytest.mark.parametrize(
    ("char", "what"),
    [
        ("\x00", "control"),
        ("\x1b", "control"),
        ("\x7f", "control"),
        ("\u202e", "bidirectional"),
        ("\u202a", "bidirectional"),
        ("\u2066", "bidirectional"),
        ("\u2069", "bidirectional"),
    ],
)
def test_control_and_bidi_override_characters_in_text_are_refused_naming_the_field(
    char: str, what: str
) -> None:
    event = sample("EventRetracted")
    event["reason"] = f"entered {char}in error"
    with pytest.raises(LedgerError) as caught:
        check_envelope(decode_event(json.dumps(event).encode()), TODAY)
    assert (caught.value.code, caught.value.field) == ("invalid_field", "reason")
    assert what in caught.value.message


def test_line_breaks_and_tabs_are_text() -> None:
    event = sample("EventRetracted")
    event["reason"] = "entered in error:\n\tthe wrong person\r\n"
    assert refusal(event) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occurred_on", "0001-01-01"),
        ("occurred_on", "1899-12-31"),
        ("starts_on", "9999-12-31"),
        ("ends_on", "9999-12-31"),
        ("ends_on", "2101-01-01"),
    ],
)
def test_dates_outside_1900_to_2100_are_refused_naming_the_field(field: str, value: str) -> None:
    event = {**sample("SanctionImposed"), field: value}
    assert refusal(event) == ("invalid_field", field)


def test_a_key_sent_twice_is_refused_naming_it() -> None:
    raw = json.dumps(sample("FollowUpHeld")).replace('"mode":', '"mode": "phone", "mode":', 1)
    with pytest.raises(LedgerError) as caught:
        decode_event(raw.encode())
    assert (caught.value.code, caught.value.field) == ("invalid_field", "mode")
