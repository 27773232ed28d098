"""The OpenAPI document `ledger serve` serves describes every event the API accepts: generated
from the event union, every type with every field, told apart by `type`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from bench.load import serving
from ledger.application import Ledger
from ledger.events import EVENT_TYPES

COMPONENTS = "#/components/schemas/"


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = str(tmp_path_factory.mktemp("openapi") / "ledger.db")
    Ledger(db).close()
    with serving(db) as base:
        yield httpx.get(f"{base}/schema/openapi.json").json()


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_an_event_batch_is_an_array_of_events_told_apart_by_their_type(
    document: dict[str, Any],
) -> None:
    body = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["items"] == {"$ref": f"{COMPONENTS}Event"}
    union = document["components"]["schemas"]["Event"]
    assert union["discriminator"]["propertyName"] == "type"
    assert union["discriminator"]["mapping"] == {
        name: f"{COMPONENTS}{name}" for name in EVENT_TYPES
    }
    assert sorted(branch["$ref"] for branch in union["anyOf"]) == sorted(
        f"{COMPONENTS}{name}" for name in EVENT_TYPES
    )


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_event_type_is_in_the_served_document_with_every_field(
    document: dict[str, Any], name: str
) -> None:
    schema = document["components"]["schemas"][name]
    fields = msgspec.structs.fields(EVENT_TYPES[name])

    assert schema["properties"]["type"] == {"enum": [name]}
    assert set(schema["properties"]) == {"type", *(field.encode_name for field in fields)}
    assert set(schema["required"]) == {"type", *(f.encode_name for f in fields if f.required)}
    assert schema["additionalProperties"] is False


def test_every_reference_in_the_document_leads_to_a_schema(document: dict[str, Any]) -> None:
    names = set(document["components"]["schemas"])
    refs = set(_refs(document))

    assert {f"{COMPONENTS}AppendResult", f"{COMPONENTS}Event"} <= refs
    assert {ref.removeprefix(COMPONENTS) for ref in refs} <= names
