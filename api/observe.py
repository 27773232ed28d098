"""What the server tells its operators: Prometheus metrics and one JSON log line per request.

``Observed`` wraps the whole ASGI app, outside every Litestar layer, so it sees the final
status of every response, the ones made from errors included. A request is named by its route
template (``/v1/persons/{person}/status``), never by its path: callers choose what goes in a
path, and the log must carry no personal data. Tokens are named by their id only.
"""

from __future__ import annotations

import logging
import sys
import time
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.tokens import Token

logger = logging.getLogger("ledger.api")

BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS_S) + 1)
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(BUCKETS_S, seconds)] += 1
        self.sum += seconds


class Metrics:
    """Counters kept in memory for one server process (a scrape asks each process)."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.latency: defaultdict[tuple[str, str], Histogram] = defaultdict(Histogram)
        self.appended_events = 0
        # Stored view rows refused (no match with their digests): the views count them.
        self.view_rows_refused: Callable[[], int] = lambda: 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[method, route, status] += 1
        self.latency[method, route].observe(seconds)

    def exposition(self, head: int, views: int) -> str:
        """The Prometheus text format (version 0.0.4)."""
        out = [
            "# HELP ledger_http_requests_total HTTP requests by route and status.",
            "# TYPE ledger_http_requests_total counter",
        ]
        for (method, route, status), n in sorted(self.requests.items()):
            out.append(
                f"ledger_http_requests_total{_labels(method=method, route=route, status=status)}"
                f" {n}"
            )
        out += [
            "# HELP ledger_http_request_duration_seconds Time to answer a request.",
            "# TYPE ledger_http_request_duration_seconds histogram",
        ]
        for (method, route), histogram in sorted(self.latency.items()):
            name = "ledger_http_request_duration_seconds"
            cumulative = 0
            for bound, count in zip((*BUCKETS_S, "+Inf"), histogram.counts, strict=True):
                cumulative += count
                labels = _labels(method=method, route=route, le=bound)
                out.append(f"{name}_bucket{labels} {cumulative}")
            labels = _labels(method=method, route=route)
            out += [f"{name}_sum{labels} {histogram.sum}", f"{name}_count{labels} {cumulative}"]
        out += [
            "# HELP ledger_appended_events_total Events appended through this server.",
            "# TYPE ledger_appended_events_total counter",
            f"ledger_appended_events_total {self.appended_events}",
            "# HELP ledger_view_rows_refused_total View rows not matching their digests.",
            "# TYPE ledger_view_rows_refused_total counter",
            f"ledger_view_rows_refused_total {self.view_rows_refused()}",
            "# HELP ledger_head_position The last position stored in the ledger.",
            "# TYPE ledger_head_position gauge",
            f"ledger_head_position {head}",
            "# HELP ledger_views_position The last position the materialised views reflect.",
            "# TYPE ledger_views_position gauge",
            f"ledger_views_position {views}",
            "# HELP ledger_view_lag_events Events stored but not yet in the views.",
            "# TYPE ledger_view_lag_events gauge",
            f"ledger_view_lag_events {max(head - views, 0)}",
        ]
        return "\n".join(out) + "\n"


def _labels(**labels: object) -> str:
    def escape(value: object) -> str:
        return str(value).replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")

    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in labels.items()) + "}"


class Observed:
    """The ASGI app, measured and logged."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if nothing is sent at all

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("path_template") or UNMATCHED
            method = scope["method"]
            self.metrics.observe(method, route, status, seconds)
            user = scope.get("user")
            logger.info(
                "request",
                extra={
                    "fields": {
                        "method": method,
                        "path": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 3),
                        "token_id": user.id if isinstance(user, Token) else None,
                    }
                },
            )


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, message and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _encoder.encode(line).decode()


# One line per request: msgspec writes it several times faster than the standard library.
_encoder = msgspec.json.Encoder(enc_hook=str)


def log_to_stderr(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    for name in ("ledger", "uvicorn"):
        log = logging.getLogger(name)
        log.handlers = [handler]
        log.setLevel(level)
        log.propagate = False
