"""The server's settling of the cyclic garbage collector (``api.collector``)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from api.collector import YOUNG_THRESHOLD, settle


class Node:
    """An object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def settled() -> Iterator[None]:
    """``settle`` in this process, undone afterwards."""
    threshold = gc.get_threshold()
    settle()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.usefixtures("settled")
def test_settling_keeps_what_was_made_before_out_of_collections_and_waits_longer() -> None:
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD


@pytest.mark.usefixtures("settled")
def test_a_cycle_made_after_settling_is_still_collected() -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second

    gc.collect()

    assert gone() is None
