"""How the ledger writes a moment (``timestamp``): ISO 8601 in UTC, exactly as
``datetime.isoformat`` writes it, so every stamp in a view, a feed item or an event listing
reads as it always has."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from ledger.clock import FIRST_DAY, LAST_DAY
from ledger.records import timestamp

offsets = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
)


def test_a_moment_is_written_in_utc_with_its_offset_spelled_out() -> None:
    assert timestamp(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05+00:00"
    copenhagen = timezone(timedelta(hours=1))
    assert timestamp(datetime(2024, 1, 2, 0, 30, tzinfo=copenhagen)) == "2024-01-01T23:30:00+00:00"


def test_the_microseconds_are_written_only_when_there_are_some() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 120_000, tzinfo=UTC)
    assert timestamp(moment) == "2024-01-02T03:04:05.120000+00:00"


@given(
    st.datetimes(
        # Bounds without an offset, as hypothesis takes them: the years the ledger holds.
        min_value=datetime.combine(FIRST_DAY, time()),
        max_value=datetime.combine(LAST_DAY, time()),
        timezones=st.one_of(st.just(UTC), offsets, st.timezones()),
    )
)
def test_a_moment_is_written_as_isoformat_writes_it_in_utc(moment: datetime) -> None:
    assert timestamp(moment) == moment.astimezone(UTC).isoformat()
