"""The server process and Python's cyclic garbage collector.

A busy server allocates and frees many short-lived containers a request (its task and scope,
futures, decoded events, the answer). At the collector's default young threshold (a collection
whenever 700 more tracked objects were made than freed) bursts of these started hundreds of
young collections a second, each walking whatever was young at that instant; and each full
collection walked every object the process holds, the modules and the Litestar app among them.
Measured with 64 clients appending one event each: about a tenth of the server's busy time went
to collections, and full ones held every request for 0.2 to 0.4 s, the p99 of a round; with
``settle``, collections took under a hundredth of the time and paused at most about 30 ms.

So once the server is started, ``settle`` moves everything made so far out of the collector's
way (``gc.freeze``: what starting made lives as long as the process anyway) and lets young
collections wait for ten times as many objects. Reference counting frees everything as before,
and cycles made from then on are still collected.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 7_000  # tracked objects made but not yet freed (Python's default: 700)


def settle() -> None:
    """Collect what starting left behind, freeze the rest, and raise the young threshold."""
    gc.collect()
    gc.freeze()
    _, *older = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, *older)
