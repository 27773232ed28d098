"""HTTP writes as a user meets them, each figure next to its baseline from the same run
(``ledger bench --writes``).

On a fresh store, ``ledger serve`` is measured with:
- 64 keep-alive clients appending one event each, three rounds in a row (events/s, p50, p99,
  the server's resident memory after each round, and the CPU time an event cost the server, its
  projector and the load generator itself, which shares the machine's cores with them), against
  raw one-row commits into the same kind of store;
- one-event appends, one client, to a large case (9,000 events) against a 50-event case;
- small-case appends by 16 clients alone, and while four more clients append to the large case
  (the server's per-case limit is raised to leave room for every append to the large case, so
  the four are appending, not refused, throughout).

With ``before`` (the source tree of another revision of this project, a ``git worktree`` of
it), that revision's server is measured first, on a store of its own, in the same run, run by
the tree's own environment (its ``.venv``) when it has one.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.baselines import raw_commits_per_s
from bench.load import measure_appends, server, summary
from bench.stores import Store, Stores
from ledger.config import MAX_CASE_EVENTS_ENV
from ledger.wire import ndjson_lines

CLIENTS = 64
SMALL_CLIENTS = 16
HAMMERS = 4
ROUNDS = 3
LARGE_EVENTS = 9_000
# Room above the large case, a second of a round, for the appends a fast server takes to it
# (more than one client gets through to one case in a second).
LARGE_ROOM_PER_S = 4_000
SMALL_EVENTS = 50
RAW_SECONDS = 3.0
MUNICIPALITY = "101"


def event(person: str, type_: str = "ContactAttempted") -> dict[str, Any]:
    """A new event of ``person``: a contact attempt, or the case's opening."""
    fields: dict[str, Any] = (
        {"category": "refugee", "residence_basis": "UDL § 7 stk. 1"}
        if type_ == "ResponsibilityAssumed"
        else {"channel": "letter", "reached": False}
    )
    return {
        "type": type_,
        "event_id": str(uuid.uuid4()),
        "person": person,
        "municipality": MUNICIPALITY,
        "occurred_on": "2024-01-10" if fields.get("channel") else "2024-01-02",
        **fields,
    }


def one_event(person: str) -> Callable[[], bytes]:
    """A client's next body: one new event in the case of ``person``."""
    return lambda: json.dumps([event(person)]).encode()


def memory(pid: int) -> dict[str, float]:
    """The resident memory of a server: its own process, and its children's (the views'
    projector, which keeps the cases it folded last, up to ``LEDGER_VIEW_MEMORY`` events)."""
    return {
        "server_rss_mb": round(_rss_kb(pid) / 1024, 1),
        "children_rss_mb": round(sum(map(_rss_kb, children(pid))) / 1024, 1),
    }


def cpu_use(pid: int) -> tuple[float, float, float]:
    """CPU seconds used so far by the server ``pid``, by its children (the projector) and by
    this process (the load generator)."""
    own = os.times()
    return _cpu_s(pid), sum(map(_cpu_s, children(pid))), own.user + own.system


def cpu_per_event(
    before: tuple[float, float, float], after: tuple[float, float, float], events: int
) -> dict[str, float]:
    """What ``cpu_use`` grew by between ``before`` and ``after``, in µs an event."""
    names = ("server_cpu_us_per_event", "projector_cpu_us_per_event", "load_cpu_us_per_event")
    return {
        name: round((then - first) / max(events, 1) * 1e6)
        for name, first, then in zip(names, before, after, strict=True)
    }


def _cpu_s(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # ended meanwhile
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # from the state on: utime and stime are 11, 12
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # ended meanwhile
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if stat and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def opened(store: Store, prefix: str, number: int, events: int = 1) -> list[str]:
    """``number`` cases of ``events`` events each, stored through the ledger in-process."""
    persons = [f"{prefix}-{n}" for n in range(number)]
    batch = []
    for person in persons:
        batch.append(event(person, "ResponsibilityAssumed"))
        batch += [event(person) for _ in range(events - 1)]
    with store.ledger() as ledger:
        for start in range(0, len(batch), 5000):
            some = batch[start : start + 5000]
            ledger.append_lines(ndjson_lines(b"\n".join(json.dumps(e).encode() for e in some)))
    return persons


def measure(stores: Stores, tree: Path | None, seconds: float) -> dict[str, Any]:
    """Every write figure of the server of ``tree`` (default: this one), ``seconds`` a round."""
    name = "before" if tree else "after"
    store = stores.new(name)
    small = opened(store, f"P-W-{name}", CLIENTS + SMALL_CLIENTS)
    (large,) = opened(store, f"P-LARGE-{name}", 1, LARGE_EVENTS)
    (fifty,) = opened(store, f"P-FIFTY-{name}", 1, SMALL_EVENTS)
    secret = store.token("municipality", "--municipality", MUNICIPALITY, tree=tree)
    figures: dict[str, Any] = {"raw_one_row_commits_per_s": raw_commits_per_s(store, RAW_SECONDS)}
    log = stores.folder / f"{name}.log"
    # Room above the large case for every append a fast server makes to it: one client for
    # half a round, then four beside the small cases for a round.
    room = {MAX_CASE_EVENTS_ENV: str(LARGE_EVENTS + round(LARGE_ROOM_PER_S * 1.5 * seconds))}
    with server(store.db, log, env=store.child_env() | room, tree=tree) as (base, pid):
        rounds = []
        for _ in range(ROUNDS):
            before = cpu_use(pid)
            answers = measure_appends(
                base, secret, [one_event(c) for c in small[:CLIENTS]], seconds
            )
            spent = cpu_per_event(before, cpu_use(pid), len(answers))
            rounds.append(summary([s for _, s in answers], seconds) | memory(pid) | spent)
        figures["http_appends_64_clients"] = rounds
        sequential: dict[str, Any] = {}
        for label, person in (("large_case", large), ("fifty_event_case", fifty)):
            answers = measure_appends(base, secret, [one_event(person)], seconds / 2)
            sequential[label] = summary([s for _, s in answers], seconds / 2)
        sequential["ratio_p50"] = round(
            sequential["large_case"]["p50_ms"] / sequential["fifty_event_case"]["p50_ms"], 2
        )
        figures["one_event_append"] = sequential
        others = [one_event(c) for c in small[CLIENTS:]]
        alone = measure_appends(base, secret, others, seconds)
        hammers = [one_event(large) for _ in range(HAMMERS)]
        mixed = measure_appends(base, secret, others + hammers, seconds, frozenset({200, 422}))
        beside = [s for n, s in mixed if n < SMALL_CLIENTS]
        figures["small_cases_16_clients"] = {
            "alone": summary([s for _, s in alone], seconds),
            "beside_4_on_large_case": summary(beside, seconds),
            "ratio": round(len(beside) / max(1, len(alone)), 2),
        }
    return figures


def run_writes(stores: Stores, before: Path | None, seconds: float) -> dict[str, Any]:
    """The write figures of this revision, after those of the source tree ``before`` when one
    is given; ``{store, before?, after}``."""
    results: dict[str, Any] = {"store": stores.kind}
    if before is not None:
        results["before"] = measure(stores, before.resolve(), seconds)
    results["after"] = measure(stores, None, seconds)
    return results
