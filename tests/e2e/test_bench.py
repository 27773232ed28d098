"""`ledger bench` as a smoke test: it runs end to end and prints the promised JSON shape.
Speed is never asserted here (machines are shared and noisy); figures go in notes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RATE = {"events_per_s", "baseline_events_per_s", "ratio"}


def bench(*options: str) -> dict[str, Any]:
    """What `ledger bench OPTIONS --json` prints, run as its own process; it must succeed."""
    done = subprocess.run(
        [sys.executable, "-c", "from cli.main import main; main()", "bench", *options, "--json"],
        capture_output=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr.decode()
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.slow
def test_a_small_bench_prints_every_figure_with_its_baseline() -> None:
    result = bench("--events", "20000")

    assert {
        "events",
        "persons",
        "store",
        "bulk_import",
        "single_append",
        "rebuild",
        "status_query",
        "http_status",
        "peak_rss_mb",
        "whole_process_append",
        "startup",
        "case_length",
        "reevaluation",
    } <= set(result)
    assert result["events"] == 20000
    assert result["store"] == "sqlite"
    # Both sides of the whole-process figure: the least of three runs, on the whole workload
    # when it is no larger than the repeats' own.
    assert (result["whole_process_events"], result["whole_process_runs"]) == (20000, 3)
    for figure in ("bulk_import", "single_append", "rebuild", "whole_process_append"):
        assert set(result[figure]) == RATE
        assert result[figure]["events_per_s"] > 0
        assert result[figure]["baseline_events_per_s"] > 0
    assert set(result["status_query"]) == {"p50_ms", "p99_ms"}
    assert {"requests_per_s", "baseline_requests_per_s", "ratio", "p99_ms"} <= set(
        result["http_status"]
    )
    assert result["peak_rss_mb"] > 0
    assert set(result["startup"]) == {"seconds", "baseline_seconds", "ratio"}
    assert result["startup"]["seconds"] > 0
    assert result["startup"]["baseline_seconds"] > 0
    length = result["case_length"]
    assert (length["long_case_events"], length["short_case_events"]) == (10_000, 50)
    assert length["p50_ms"] > 0
    assert length["baseline_p50_ms"] > 0
    signing = result["checkpoint"]
    assert signing["sign_s"] > 0
    assert signing["verify_s"] > 0
    assert signing["baseline_verify_s"] > 0
    for reads in ("checked", "unchecked"):
        assert set(result["view_checks"][reads]) == {"p50_ms", "p99_ms"}
    daily = result["reevaluation"]
    assert daily["rewritten"] > 0
    assert daily["baseline_reads_per_s"] > 0
    assert daily["reads_per_s"] > daily["baseline_reads_per_s"]  # served from the views again


@pytest.mark.slow
def test_the_write_bench_prints_every_figure_with_its_baseline() -> None:
    result = bench("--writes", "--seconds", "0.5")

    assert result["store"] == "sqlite"
    after = result["after"]
    assert after["raw_one_row_commits_per_s"] > 0
    rounds = after["http_appends_64_clients"]
    assert len(rounds) == 3
    for round_ in rounds:
        assert round_["per_s"] > 0
        assert round_["p50_ms"] <= round_["p99_ms"]
        assert round_["server_rss_mb"] > 0
        assert round_["children_rss_mb"] > 0  # the views' projector, a process of its own
        assert round_["server_cpu_us_per_event"] > 0
        assert round_["load_cpu_us_per_event"] > 0
    one = after["one_event_append"]
    assert one["large_case"]["per_s"] > 0
    assert one["fifty_event_case"]["per_s"] > 0
    small = after["small_cases_16_clients"]
    assert small["alone"]["per_s"] > 0
    assert small["ratio"] > 0


def bench_refused(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from cli.main import main; main()", "bench", *options],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )


def test_the_write_bench_measures_a_revision_only_from_a_source_tree(tmp_path: Path) -> None:
    """Without its own ``cli/main.py``, the tree's server would be this revision's."""
    done = bench_refused("--writes", "--before", str(tmp_path), "--seconds", "0.5")

    assert done.returncode == 2
    assert f"{tmp_path} er ikke et kildetræ for hovedbogen" in done.stderr
    assert "--before" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_revision_that_does_not_run_stops_the_write_bench_with_what_it_said(
    tmp_path: Path,
) -> None:
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "__init__.py").write_text("")
    (tmp_path / "cli" / "main.py").write_text(
        "import sys\n\n\ndef main():\n    sys.stderr.write('this revision cannot run\\n')\n"
        "    raise SystemExit(3)\n"
    )

    done = bench_refused("--writes", "--before", str(tmp_path), "--seconds", "0.5")

    assert done.returncode == 1
    assert "målingen stoppede" in done.stderr
    assert "exited with code 3: this revision cannot run" in done.stderr
    assert "Traceback" not in done.stderr
