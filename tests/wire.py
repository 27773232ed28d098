"""Wire events for tests: a small builder of valid case histories as JSON objects."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from ledger.wire import Line, ndjson_lines

_NAMESPACE = uuid.UUID("2d5f9a56-7c1e-4c44-9b0e-6d1f8e1e2a10")


def event_id(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


def ndjson(events: Iterable[dict[str, Any]]) -> bytes:
    return b"\n".join(json.dumps(e).encode() for e in events) + b"\n"


def lines(events: Iterable[dict[str, Any]]) -> list[Line]:
    return ndjson_lines(ndjson(events))


class WireCase:
    """Events of one person's case, with the envelope filled in and readable ids."""

    def __init__(self, person: str, municipality: str = "101") -> None:
        self.person = person
        self.municipality = municipality
        self.count = 0

    def event(self, type_: str, on: str = "2024-01-10", **fields: Any) -> dict[str, Any]:
        self.count += 1
        municipality = fields.pop("municipality", self.municipality)
        return {
            "type": type_,
            "event_id": fields.pop("event_id", event_id(f"{self.person}/{self.count}")),
            "person": self.person,
            "municipality": municipality,
            "occurred_on": on,
            **fields,
        }

    def opened(self, on: str = "2024-01-02", **fields: Any) -> dict[str, Any]:
        fields.setdefault("category", "refugee")
        fields.setdefault("residence_basis", "UDL § 7 stk. 1")
        return self.event("ResponsibilityAssumed", on, **fields)

    def offer(
        self, offer_id: str, kind: str = "company_internship", **fields: Any
    ) -> dict[str, Any]:
        fields.setdefault("starts_on", "2024-02-01")
        return self.event("OfferMade", offer_id=offer_id, kind=kind, **fields)

    def absence(self, offer_id: str, days: int = 2, **fields: Any) -> dict[str, Any]:
        return self.event("AbsenceRecorded", offer_id=offer_id, days=days, **fields)

    def moved(self, to: str, **fields: Any) -> dict[str, Any]:
        event = self.event("MunicipalityMoved", to_municipality=to, **fields)
        self.municipality = to
        return event
