"""Waves (api.waves) on their own: a failed read fails only its wave, and a question given up
leaves the others of its wave answered. Shared token reads on a real store are in
``tests/integration/test_token_reads_in_waves.py``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from api.waves import Waves


def test_a_failed_read_fails_every_question_of_its_wave_and_only_that_wave() -> None:
    failing = True

    async def lookup(keys: Sequence[str]) -> dict[str, int]:
        await asyncio.sleep(0)
        if failing:
            raise OSError("the store went away")
        return {key: len(key) for key in keys}

    async def scenario() -> tuple[list[BaseException | int | None], int | None]:
        nonlocal failing
        waves: Waves[str, int] = Waves(lookup)
        first = await asyncio.gather(*(waves.ask(k) for k in ("a", "bb")), return_exceptions=True)
        failing = False
        return first, await waves.ask("ccc")

    first, later = asyncio.run(scenario())
    assert all(isinstance(answer, OSError) for answer in first)
    assert later == 3


def test_one_question_given_up_leaves_the_others_of_its_wave_answered() -> None:
    async def scenario() -> int | None:
        gate = asyncio.Event()

        async def lookup(keys: Sequence[str]) -> dict[str, int]:
            await gate.wait()
            return dict.fromkeys(keys, 7)

        waves: Waves[str, int] = Waves(lookup)
        impatient = asyncio.create_task(waves.ask("k"))
        patient = asyncio.create_task(waves.ask("k"))
        await asyncio.sleep(0)
        impatient.cancel()
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await impatient
        return await patient

    assert asyncio.run(scenario()) == 7
