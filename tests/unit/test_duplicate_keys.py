"""A line that names a key twice in one object is refused, naming the key, wherever the key is
and however it is written; the count that spares ordinary lines the exact check (a second parse)
never lets one through, and its premises about the catalogue hold."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import events as catalogue
from ledger.errors import LedgerError
from ledger.events import (
    AnyEvent,
    decode_event,
    encode_event,
    may_name_a_key_twice,
    refuse_duplicate_keys,
)
from tests.support.wire import WireCase
from tests.unit.test_events import any_event

CASE = WireCase("P-DUP")


def refusal(raw: bytes) -> tuple[str, str | None]:
    with pytest.raises(LedgerError) as caught:
        decode_event(raw)
    return caught.value.code, caught.value.field


def follow_up(**fields: Any) -> dict[str, Any]:
    return CASE.event("FollowUpHeld", mode="phone", goals_met=True, **fields)


def contract(*activities: str) -> str:
    """A contract line whose activities are the JSON objects ``activities`` as written."""
    line = json.dumps(
        CASE.event(
            "ContractSigned",
            contract_id="C-1",
            employment_goal="Ordinary employment",
            weekly_hours=37,
            activities=[],
            sanctions_described=True,
        )
    )
    return line.replace('"activities": []', f'"activities": [{", ".join(activities)}]')


ACTIVITY = '{"activity_id": "A-1", "kind": "mentor", "hours_per_week": 5}'


def test_a_key_named_twice_at_the_top_of_a_line_is_refused_naming_it() -> None:
    line = json.dumps(follow_up()).replace('"mode": "phone"', '"mode": "phone", "mode": "digital"')
    assert refusal(line.encode()) == ("invalid_field", "mode")


def test_a_key_named_twice_with_the_same_value_is_refused_all_the_same() -> None:
    line = json.dumps(follow_up()).replace('"mode": "phone"', '"mode": "phone", "mode": "phone"')
    assert refusal(line.encode()) == ("invalid_field", "mode")


def test_a_key_named_twice_in_a_nested_object_is_refused_naming_it() -> None:
    opened = CASE.opened(personal={"name": "Amira"})
    line = json.dumps(opened).replace('"name": "Amira"', '"name": "Amira", "name": "Samira"')
    assert refusal(line.encode()) == ("invalid_field", "name")


def test_a_key_named_twice_in_one_object_of_an_array_is_refused_naming_it() -> None:
    twice = '{"activity_id": "A-2", "kind": "mentor", "kind": "job", "hours_per_week": 5}'
    assert refusal(contract(ACTIVITY, twice).encode()) == ("invalid_field", "kind")


def test_the_same_keys_in_sibling_objects_of_an_array_are_no_repetition() -> None:
    other = '{"activity_id": "A-2", "kind": "job", "hours_per_week": 30}'
    event = decode_event(contract(ACTIVITY, other).encode())
    assert isinstance(event, catalogue.ContractSigned)
    assert [a.kind for a in event.activities] == ["mentor", "job"]


def test_a_repetition_inside_a_value_a_later_key_overrides_is_refused() -> None:
    opened = CASE.opened()
    hidden = '"personal": {"name": "A", "name": "B"}, "personal": null'
    line = json.dumps(opened)[:-1] + ", " + hidden + "}"
    assert refusal(line.encode()) == ("invalid_field", "name")


@pytest.mark.parametrize(
    "written",
    [
        r'"\u006dode": "digital"',
        r'"\u006d\u006f\u0064\u0065": "digital"',
        r'"mo\u0064e": "digital"',
    ],
)
def test_a_key_written_again_with_escapes_is_the_same_key(written: str) -> None:
    line = json.dumps(follow_up()).replace('"mode": "phone"', f'"mode": "phone", {written}')
    assert refusal(line.encode()) == ("invalid_field", "mode")


def test_the_type_written_again_with_escapes_is_refused_naming_type() -> None:
    line = json.dumps(follow_up())[:-1] + r', "\u0074ype": "FollowUpHeld"}'
    assert refusal(line.encode()) == ("invalid_field", "type")


@pytest.mark.parametrize("colon", [r"\u003a", r"\u003A"])
def test_a_key_named_twice_is_refused_when_the_line_writes_its_colons_as_escapes(
    colon: str,
) -> None:
    # Escaped colons in a text make the line's own colons fewer than the decoded ones.
    line = json.dumps(follow_up(recorded_by="a:b:c:d")).replace(
        ":b:c:d", f"{colon}b{colon}c{colon}d"
    )
    line = line.replace('"mode": "phone"', '"mode": "phone", "mode": "digital"')
    assert refusal(line.encode()) == ("invalid_field", "mode")


@pytest.mark.parametrize(
    "twice",
    [
        '"mode" : "phone" , "mode" : "digital"',
        '"mode"\n:\t"phone",\r\n"mode"   :"digital"',
        '"mode":"phone","mode":"digital"',
    ],
)
def test_whitespace_around_the_colon_hides_no_repetition(twice: str) -> None:
    line = json.dumps(follow_up()).replace('"mode": "phone"', twice)
    assert refusal(line.encode()) == ("invalid_field", "mode")


def test_a_key_that_also_appears_as_a_value_is_no_repetition() -> None:
    line = json.dumps(follow_up(recorded_by="mode"))
    assert decode_event(line.encode()).recorded_by == "mode"


def test_colons_inside_texts_are_no_keys() -> None:
    line = json.dumps(follow_up(recorded_by="system:import:2025"))
    assert decode_event(line.encode()).recorded_by == "system:import:2025"


def test_a_field_sent_with_its_default_value_is_accepted() -> None:
    line = json.dumps(CASE.offer("O-1", open_offer=False, hours_per_week=None, recorded_by=None))
    assert isinstance(decode_event(line.encode()), catalogue.OfferMade)


# --- the count against the exact check --------------------------------------------------------

SPACES = st.sampled_from(["", " ", "\n", "\t", "\r\n  "])


@st.composite
def written_string(draw: st.DrawFn, value: str) -> str:
    """``value`` as a JSON string: as it is, with non-ASCII escaped, or every character escaped
    (in lower- or upper-case hex)."""
    how = draw(st.sampled_from(["plain", "ascii", "x", "X"]))
    if how in {"plain", "ascii"}:
        return json.dumps(value, ensure_ascii=how == "ascii")
    return '"' + "".join(escaped(c, how) for c in value) + '"'


def escaped(char: str, hex_case: str) -> str:
    if char > "\uffff":
        return json.dumps(char)[1:-1]  # a surrogate pair
    return f"\\u{ord(char):04{hex_case}}"


class Writer:
    """Writes a JSON value with drawn spacing and escapes, naming a key twice in an object
    when drawn to; ``repeated`` lists the keys it named twice."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.repeated: list[str] = []

    def value(self, value: Any) -> str:
        if isinstance(value, dict):
            return self.object(value)
        if isinstance(value, list):
            return "[" + ",".join(self.pad(self.value(item)) for item in value) + "]"
        if isinstance(value, str):
            return self.draw(written_string(value))
        return json.dumps(value)

    def pad(self, text: str) -> str:
        return self.draw(SPACES) + text + self.draw(SPACES)

    def object(self, value: dict[str, Any]) -> str:
        pairs = list(value.items())
        if pairs and self.draw(st.integers(0, 3)) == 0:
            key, item = pairs[self.draw(st.integers(0, len(pairs) - 1))]
            pairs.insert(self.draw(st.integers(0, len(pairs))), (key, item))
            self.repeated.append(key)
        written = (
            self.pad(self.draw(written_string(key))) + ":" + self.pad(self.value(item))
            for key, item in pairs
        )
        return "{" + ",".join(written) + "}"


def outcome(check: Any, raw: bytes) -> str | None:
    """The key ``check`` refuses ``raw`` for, or None."""
    try:
        check(raw)
    except LedgerError as exc:
        return exc.field
    return None


@settings(max_examples=300, deadline=None)
@given(any_event, st.data())
def test_lines_are_refused_for_a_repeated_key_exactly_when_the_exact_check_refuses_them(
    event: AnyEvent, data: st.DataObject
) -> None:
    writer = Writer(data.draw)
    raw = writer.value(msgspec.to_builtins(event)).encode()

    exact = outcome(refuse_duplicate_keys, raw)
    assert outcome(decode_event, raw) == exact
    assert (exact is not None) == bool(writer.repeated)


@settings(max_examples=200, deadline=None)
@given(any_event)
def test_a_canonical_line_costs_no_second_parse(event: AnyEvent) -> None:
    raw = encode_event(event)
    assert not may_name_a_key_twice(raw, encode_event(decode_event(raw)))


@settings(max_examples=200, deadline=None)
@given(any_event)
def test_a_line_spaced_as_the_standard_library_writes_it_costs_no_second_parse(
    event: AnyEvent,
) -> None:
    raw = json.dumps(msgspec.to_builtins(event)).encode()
    assert not may_name_a_key_twice(raw, encode_event(decode_event(raw)))


# --- the premises of the count, about the catalogue ------------------------------------------


def structs(info: mi.Type) -> Iterator[mi.StructType]:
    """Every struct type an event of the catalogue can hold, itself included."""
    match info:
        case mi.StructType():
            yield info
            for field in info.fields:
                yield from structs(field.type)
        case mi.UnionType(types=types):
            for member in types:
                yield from structs(member)
        case mi.ListType(item_type=item):
            yield from structs(item)
        case _:
            return


CATALOGUE = [info for cls in catalogue.EVENT_TYPES.values() for info in structs(mi.type_info(cls))]


def test_every_struct_omits_its_defaults_so_its_encoding_writes_only_keys_a_line_gave() -> None:
    for info in CATALOGUE:
        defaulted = [f.name for f in info.fields if not f.required]
        omitted = info.cls.__struct_config__.omit_defaults
        assert omitted or not defaulted, (info.cls.__name__, defaulted)


WRITTEN_AS_DECODED_OR_WITHOUT_COLONS = (
    mi.StrType,
    mi.LiteralType,
    mi.UUIDType,
    mi.DateType,
    mi.DecimalType,
    mi.IntType,
    mi.FloatType,
    mi.BoolType,
    mi.NoneType,
    mi.ListType,
    mi.UnionType,
    mi.StructType,
)


def leaves(info: mi.Type) -> Iterator[mi.Type]:
    match info:
        case mi.UnionType(types=types):
            for member in types:
                yield from leaves(member)
        case mi.ListType(item_type=item):
            yield info
            yield from leaves(item)
        case _:
            yield info


def test_the_catalogue_holds_no_value_whose_canonical_form_writes_a_colon_of_its_own() -> None:
    # Texts keep their colons; a time or a datetime would add some, and is not in the catalogue.
    for info in CATALOGUE:
        for field in info.fields:
            for leaf in leaves(field.type):
                assert isinstance(leaf, WRITTEN_AS_DECODED_OR_WITHOUT_COLONS), (
                    info.cls.__name__,
                    field.name,
                    leaf,
                )


def test_field_names_hold_no_colon() -> None:
    for info in CATALOGUE:
        for field in info.fields:
            assert ":" not in field.encode_name
        assert ":" not in (info.tag_field or "")
