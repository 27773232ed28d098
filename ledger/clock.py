"""The ledger's two clocks: the Danish calendar day (valid time) and UTC (transaction time);
and the calendar-month arithmetic every rule counted in months uses (the case rules at append
and the projections alike)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DENMARK = ZoneInfo("Europe/Copenhagen")


def now_utc() -> datetime:
    return datetime.now(UTC)


def today_in_denmark() -> date:
    """The day of recording as a Danish caseworker counts it."""
    return datetime.now(DENMARK).date()


def add_months(day: date, months: int) -> date:
    """Calendar-month arithmetic, clamped to the end of a shorter month (Jan 31 + 1 = Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
