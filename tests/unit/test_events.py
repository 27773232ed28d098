"""The event catalogue on the wire: typed decoding, field paths, envelope rules, schema versions."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import events as catalogue
from ledger.errors import LedgerError
from ledger.events import (
    EVENT_TYPES,
    AbsenceRecorded,
    ConsentGiven,
    check_envelope,
    decode_canonical,
    decode_event,
    decode_stored_event,
    encode_event,
    looks_like_cpr,
    upcast,
)
from tests.support.paths import ROOT
from tests.support.wire import WireCase

SAMPLES = ROOT / "fixtures" / "samples"
TODAY = date(2026, 11, 23)


def error_of(raw: bytes | dict[str, Any]) -> tuple[str, str | None]:
    data = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
    with pytest.raises(LedgerError) as caught:
        check_envelope(decode_event(data), TODAY)
    return caught.value.code, caught.value.field


def test_the_catalogue_has_every_type_of_the_domain() -> None:
    assert len(EVENT_TYPES) == 28
    assert {
        "ResponsibilityAssumed",
        "ConsentGiven",
        "ConsentWithdrawn",
        "EventRetracted",
        "StatusReported",
        "EducationStarted",
        "EducationEnded",
    } <= set(EVENT_TYPES)


def latest_sample(type_name: str) -> Path:
    return max(SAMPLES.glob(f"v*/{type_name}.json"), key=lambda p: int(p.parent.name[1:]))


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_the_latest_sample_of_every_type_decodes_from_the_wire(type_name: str) -> None:
    raw = latest_sample(type_name).read_bytes()
    event = decode_event(raw)
    assert type(event).__name__ == type_name
    check_envelope(event, TODAY)
    assert decode_event(encode_event(event)) == event


@pytest.mark.parametrize("path", sorted((SAMPLES / "v1").glob("*.json")), ids=lambda p: p.stem)
def test_every_frozen_v1_sample_still_decodes_as_stored(path: Path) -> None:
    event = decode_stored_event(path.read_bytes(), 1, path.stem)
    assert type(event).__name__ == path.stem
    check_envelope(event, TODAY)


def test_a_v1_consent_is_upcast_with_its_evidence_unrecorded() -> None:
    """DOMAIN.md second edition: ConsentGiven names its evidence; v1 events had none."""
    raw = (SAMPLES / "v1" / "ConsentGiven.json").read_bytes()
    event = decode_stored_event(raw, 1, "ConsentGiven")
    assert isinstance(event, ConsentGiven)
    assert event.evidence == "unrecorded"
    assert error_of(raw) == ("invalid_field", "evidence")


def test_an_older_schema_is_upcast_before_it_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AbsenceRecorded, "SCHEMA_VERSION", 2)

    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        renamed = dict(data)
        renamed["days"] = renamed.pop("days_absent")
        return renamed

    monkeypatch.setitem(catalogue.UPCASTERS, ("AbsenceRecorded", 1), v1_to_v2)
    stored_v1 = WireCase("P-1").event("AbsenceRecorded", offer_id="O-1", days_absent=3)
    event = upcast(stored_v1, schema=1)
    assert isinstance(event, AbsenceRecorded)
    assert event.days == 3


def test_a_missing_upcaster_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AbsenceRecorded, "SCHEMA_VERSION", 2)
    stored_v1 = WireCase("P-1").absence("O-1")
    with pytest.raises(LedgerError, match="no upcaster from AbsenceRecorded v1"):
        upcast(stored_v1, schema=1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"type": "PermitGranted"', ("invalid_json", None)),
        (b"[1, 2]", ("invalid_json", None)),
        (b'"PermitGranted"', ("invalid_json", None)),
        (b"\xff\xfe{}", ("invalid_json", None)),
        (b'{"type": "Unheard"}', ("unknown_type", "type")),
        (b'{"type": 7}', ("invalid_field", "type")),
        (b"{}", ("invalid_field", "type")),
    ],
)
def test_lines_that_are_not_events(raw: bytes, expected: tuple[str, str | None]) -> None:
    assert error_of(raw) == expected


def test_field_paths_name_the_offending_field() -> None:
    case = WireCase("P-1")
    contract = case.event(
        "ContractSigned",
        contract_id="C-1",
        employment_goal="Job i detailhandlen",
        weekly_hours=37,
        sanctions_described=True,
        activities=[
            {"activity_id": "A-1", "kind": "danish", "hours_per_week": 15},
            {"activity_id": "A-2", "kind": "internship", "hours_per_week": "22"},
        ],
    )
    assert error_of(contract) == ("invalid_field", "activities[1].hours_per_week")
    del contract["activities"][1]["hours_per_week"]
    assert error_of(contract) == ("invalid_field", "activities[1].hours_per_week")
    assert error_of({**case.absence("O-1"), "days": 40}) == ("invalid_field", "days")
    assert error_of({**case.absence("O-1"), "colour": "red"}) == ("invalid_field", "colour")
    assert error_of({**case.absence("O-1"), "occurred_on": "2025-02-30"}) == (
        "invalid_field",
        "occurred_on",
    )
    assert error_of({**case.absence("O-1"), "event_id": "not-a-uuid"}) == (
        "invalid_field",
        "event_id",
    )
    no_offer = case.absence("O-1")
    del no_offer["offer_id"]
    assert error_of(no_offer) == ("invalid_field", "offer_id")


def test_a_wrong_type_is_told_in_words_not_in_python_types() -> None:
    with pytest.raises(LedgerError) as caught:
        decode_event(json.dumps({**WireCase("P-1").absence("O-1"), "days": "2"}).encode())
    assert caught.value.message == "expected a whole number, got a string"


@pytest.mark.parametrize("person", ["010190-1234", "0101901234", "ref-010190-1234", "x0101901234"])
def test_a_person_reference_that_looks_like_a_cpr_number_is_refused(person: str) -> None:
    assert error_of(WireCase(person).opened()) == ("cpr_in_person", "person")


@pytest.mark.parametrize("person", ["P-KBH-0001", "case:2024.17", "P-000123", "9999999999x"])
def test_pseudonymous_references_are_accepted(person: str) -> None:
    assert not looks_like_cpr(person)


@pytest.mark.parametrize(
    ("field", "value"), [("municipality", "100"), ("municipality", "1010"), ("municipality", "abc")]
)
def test_the_acting_municipality_is_one_of_the_98(field: str, value: str) -> None:
    assert error_of({**WireCase("P-1").opened(), field: value}) == ("unknown_municipality", field)


def test_moves_and_consents_name_real_municipalities() -> None:
    case = WireCase("P-1")
    assert error_of(case.event("MunicipalityMoved", to_municipality="998")) == (
        "unknown_municipality",
        "to_municipality",
    )
    assert error_of(case.event("ConsentGiven", recipient="000", evidence="samtykke-1")) == (
        "unknown_municipality",
        "recipient",
    )


@pytest.mark.parametrize(
    ("amount", "ok"),
    [
        ("12405.00", True),
        (12405.5, True),
        ("0", True),
        ("-1.00", False),
        ("NaN", False),
        ("Infinity", False),
        ("1.005", False),
        ("1e12", False),
    ],
)
def test_amounts_are_exact_non_negative_decimals_in_ore(amount: object, ok: bool) -> None:
    event = WireCase("P-1").event(
        "BenefitGranted", benefit="integrationsydelse", monthly_amount_dkk=amount
    )
    if ok:
        decoded = decode_event(json.dumps(event).encode())
        check_envelope(decoded, TODAY)
        assert decoded.monthly_amount_dkk == Decimal(str(amount))  # type: ignore[union-attr]
    else:
        assert error_of(event) == ("invalid_field", "monthly_amount_dkk")


def test_amounts_are_written_back_as_strings() -> None:
    event = WireCase("P-1").event(
        "BenefitGranted", benefit="kontanthjaelp", monthly_amount_dkk="11944.50"
    )
    assert b'"monthly_amount_dkk":"11944.50"' in encode_event(decode_event(json.dumps(event)))


def test_dates_other_than_occurred_on_may_lie_ahead() -> None:
    event = WireCase("P-1").event("StatusRequested", request_id="R-1", due_on="2099-01-01")
    check_envelope(decode_event(json.dumps(event).encode()), TODAY)


# --- encode/decode round trips over the whole catalogue ----------------------------------------
# Strategies are derived from the catalogue's own msgspec type information, so every
# constraint (patterns, ranges, literals, nested structs) is honoured by construction.

_ENVELOPE: dict[str, st.SearchStrategy[Any]] = {
    "person": st.from_regex(r"\AP-[A-Za-z0-9._:-]{1,20}\Z").filter(lambda p: not looks_like_cpr(p)),
    "municipality": st.sampled_from(["101", "751", "461", "851"]),
    "occurred_on": st.dates(date(2015, 1, 1), TODAY),
}


def _strategy(info: mi.Type) -> st.SearchStrategy[Any]:
    match info:
        case mi.StrType(pattern=pattern) if pattern:
            return st.from_regex(pattern, fullmatch=True)
        case mi.StrType(min_length=low, max_length=high):
            return st.text(min_size=low or 0, max_size=min(high or 40, 40))
        case mi.IntType(ge=low, le=high):
            return st.integers(low, high)
        case mi.FloatType(ge=low, le=high):
            return st.floats(low, high, allow_nan=False)
        case mi.BoolType():
            return st.booleans()
        case mi.DateType():
            return st.dates(date(2015, 1, 1), TODAY)
        case mi.UUIDType():
            return st.uuids()
        case mi.DecimalType():
            return st.decimals(0, 100_000, places=2)
        case mi.LiteralType(values=values):
            return st.sampled_from(values)
        case mi.NoneType():
            return st.none()
        case mi.ListType(item_type=item, max_length=high):
            return st.lists(_strategy(item), max_size=min(high or 3, 3))
        case mi.UnionType(types=types):
            return st.one_of([_strategy(t) for t in types])
        case mi.StructType(cls=cls):
            return _struct(cls)
    raise TypeError(info)


def _struct(cls: type) -> st.SearchStrategy[Any]:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    fields = {
        f.name: _ENVELOPE[f.name] if f.name in _ENVELOPE else _strategy(f.type) for f in info.fields
    }
    return st.builds(cls, **fields)


any_event = st.one_of([_struct(cls) for cls in EVENT_TYPES.values()])


@settings(max_examples=200, deadline=None)
@given(any_event)
def test_every_event_survives_an_encode_decode_round_trip(event: catalogue.Event) -> None:
    raw = encode_event(event)
    decoded = decode_event(raw)
    assert decoded == event
    assert encode_event(decoded) == raw


@settings(max_examples=200, deadline=None)
@given(any_event)
def test_a_line_decodes_with_its_canonical_json_however_it_was_written(
    event: catalogue.Event,
) -> None:
    written = json.dumps(msgspec.to_builtins(event), indent=1).encode()
    decoded, canonical = decode_canonical(written)
    assert decoded == event
    assert canonical == encode_event(event)
