"""The events in the OpenAPI document, generated from the event union (``ledger.events``).

msgspec writes the JSON Schema of every event type from the very annotations its decoder
enforces (JSON Schema 2020-12, the dialect of OpenAPI 3.1): each type's fields with their types,
ranges and patterns, and the union as ``anyOf`` with ``type`` as its discriminator. The schemas
are served as msgspec wrote them, under ``#/components/schemas``; a batch body refers to
``Event``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar.openapi.spec import Reference, Schema

from ledger.events import AnyEvent

EVENT = "Event"
_REF = "#/components/schemas/{name}"


@dataclass
class GeneratedSchema(Schema):
    """A schema as msgspec generated it, served unchanged."""

    generated: dict[str, Any] = field(default_factory=dict)

    def to_schema(self) -> dict[str, Any]:
        return self.generated


def event_schemas() -> dict[str, Schema]:
    """``Event`` (the union), each event type and the structs inside them, by name."""
    (union,), components = msgspec.json.schema_components([AnyEvent], ref_template=_REF)
    union["description"] = (
        "One event (DOMAIN.md, 'Event catalogue'): the envelope and the fields of its type, "
        "named by `type`."
    )
    return {
        name: GeneratedSchema(generated=schema)
        for name, schema in {EVENT: union, **components}.items()
    }


EVENT_REFERENCE = Reference(ref=_REF.format(name=EVENT))
