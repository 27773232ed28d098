"""The ledger's two clocks: the Danish calendar day (valid time) and UTC (transaction time)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DENMARK = ZoneInfo("Europe/Copenhagen")


def now_utc() -> datetime:
    return datetime.now(UTC)


def today_in_denmark() -> date:
    """The day of recording as a Danish caseworker counts it."""
    return datetime.now(DENMARK).date()
