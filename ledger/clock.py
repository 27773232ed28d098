"""The ledger's two clocks: the Danish calendar day (valid time) and UTC (transaction time);
the calendar-month arithmetic every rule counted in months uses (the case rules at append and
the projections alike); and the one way a day or a moment given by a person is read, on the
command line and over HTTP alike.

Days and moments are bounded to the years 1900-2100: nothing in an integration case happens
outside them, and date arithmetic near year 1 or 9999 overflows.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from ledger.errors import InvalidField

DENMARK = ZoneInfo("Europe/Copenhagen")
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2100, 12, 31)
YEARS = f"{FIRST_DAY.year}-{LAST_DAY.year}"
MOMENT_FORMAT = (
    "an ISO 8601 timestamp with a time, e.g. 2026-01-15T12:00:00+01:00 (no offset = UTC)"
)


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


def check_day(day: date, field: str) -> date:
    """Refuse a day outside the years the ledger can hold."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidField(
            "{day} is outside the years {YEARS}", field, day=day.isoformat(), YEARS=YEARS
        )
    return day


def parse_day(text: str, field: str) -> date:
    """A calendar day written YYYY-MM-DD, within the years the ledger can hold."""
    try:
        day = date.fromisoformat(text) if len(text) == len("YYYY-MM-DD") else None
    except ValueError:
        day = None
    if day is None:
        raise InvalidField("{given!r} is not a calendar date (YYYY-MM-DD)", field, given=text)
    return check_day(day, field)


def parse_moment(text: str, field: str) -> datetime:
    """A moment in transaction time: an ISO 8601 timestamp with a time of day; without an
    offset it is UTC. A date alone is refused: which moment of which day's zone it would mean is
    a guess, and a report reproduced from a guess is not evidence."""
    try:
        date.fromisoformat(text)
    except ValueError:
        pass
    else:
        raise InvalidField(
            "{given!r} is a date without a time; expected {MOMENT_FORMAT}",
            field,
            given=text,
            MOMENT_FORMAT=MOMENT_FORMAT,
        )
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidField(
            "{given!r} is not a timestamp; expected {MOMENT_FORMAT}",
            field,
            given=text,
            MOMENT_FORMAT=MOMENT_FORMAT,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    check_day(moment.date(), field)  # before converting: near year 1 or 9999 that overflows
    return moment.astimezone(UTC)
