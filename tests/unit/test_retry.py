"""The pauses between tries of a loop waiting on a store (``ledger.retry``)."""

from __future__ import annotations

import time
from itertools import islice

from ledger.retry import pauses


def test_pauses_double_from_the_first_up_to_the_ceiling() -> None:
    assert list(islice(pauses(0.001, 0.004), 5)) == [0.001, 0.002, 0.004, 0.004, 0.004]


def test_pauses_end_before_one_would_end_past_the_time_allowed() -> None:
    slept = []
    for pause in pauses(0.01, 0.02, within=0.045):
        time.sleep(pause)
        slept.append(pause)

    assert slept == [0.01, 0.02]
    assert list(pauses(0.5, 1.0, within=0.1)) == []


def test_jittered_pauses_are_drawn_between_zero_and_their_length() -> None:
    drawn = list(islice(pauses(0.01, 0.04, jitter=True), 200))

    assert all(0 <= pause <= 0.04 for pause in drawn)
    assert all(pause <= 0.01 for pause in drawn[:1])
    assert len(set(drawn)) > 1
