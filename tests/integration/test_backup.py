"""Backup and restore: `ledger export` and `ledger restore` reproduce a ledger exactly, on and
across both stores, refuse what does not verify, and never carry personal data in clear."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from bench.workload import workload
from cli.main import cli
from ledger.application import Ledger
from ledger.events import encode_event
from ledger.wire import ndjson_lines
from tests.support.tamper import flip
from tests.support.wire import WireCase, event_id, lines, ndjson

PERSONS = ("P-A", "P-B", "P-C")
NAME = "Amina Hansen"


def run(db: str, *args: str, code: int = 0, stdin: bytes | None = None) -> Result:
    result = CliRunner().invoke(cli, ["--db", db, *args], input=stdin)
    assert result.exit_code == code, result.output
    return result


def fill(db: str) -> None:
    """Three cases over two batches: personal data, a move, a retraction, a forgotten person."""
    a, b, c = WireCase("P-A"), WireCase("P-B", "751"), WireCase("P-C")
    offer = a.offer("O-1")
    first = [
        a.opened(personal={"name": NAME, "cpr": "010190-1234"}),
        b.opened(personal={"name": "Omar Ali"}),
        c.opened(),
        offer,
        a.absence("O-1", days=3),
        c.moved("751"),
    ]
    second = [
        c.event("TakeoverDecided", approved=True, ground="mandatory"),
        a.event("EventRetracted", retracts=offer["event_id"], reason="entered twice"),
        b.event("ContactAttempted", channel="phone", reached=True),
    ]
    with Ledger(db) as ledger:
        ledger.append_lines(lines(first))
        ledger.append_lines(lines(second))
        ledger.forget("P-B")


def export(db: str, *args: str) -> bytes:
    return run(db, "export", *args).stdout_bytes


def events_of_everyone(db: str) -> list[list[dict[str, Any]]]:
    return [
        [json.loads(line) for line in run(db, "events", person).stdout.splitlines()]
        for person in PERSONS
    ]


def restore(db: str, path: Path, *args: str, code: int = 0) -> dict[str, Any]:
    result = run(db, "restore", "--json", str(path), *args, code=code)
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def head(db: str) -> int:
    with Ledger(db) as ledger:
        return ledger.head_position()


@pytest.mark.postgres
def test_a_ledger_goes_from_sqlite_to_postgresql_and_back_unchanged(
    db_path: str, pg_url: str, tmp_path: Path
) -> None:
    fill(db_path)
    keys = tmp_path / "keys.ndjson"
    first = tmp_path / "first.ndjson"
    run(db_path, "export", "--output", str(first), "--keys", str(keys))

    report = restore(pg_url, first, "--keys", str(keys))
    second = tmp_path / "second.ndjson"
    second.write_bytes(export(pg_url))
    back = str(tmp_path / "back.db")
    restore(back, second, "--keys", str(keys))

    assert report == {
        "restored": 9,
        "persons": 3,
        "forgotten": 1,
        "keys": 1,
        "keys_discarded": 0,
        "head": 9,
    }
    assert first.read_bytes() == second.read_bytes() == export(back)
    original = events_of_everyone(db_path)
    assert events_of_everyone(pg_url) == original
    assert events_of_everyone(back) == original
    assert original[0][0]["personal"]["name"] == NAME
    assert original[1][0]["personal_erased"] is True
    for db in (pg_url, back):
        assert run(db, "verify", "--json").exit_code == 0


@pytest.mark.postgres
def test_positions_left_unused_by_postgresql_are_restored_as_gaps(
    pg_url: str, db_path: str, tmp_path: Path
) -> None:
    case = WireCase("P-GAP")
    with Ledger(pg_url) as ledger:
        ledger.append_lines(lines([case.opened(), case.offer("O-1")]))
    with psycopg.connect(pg_url) as conn:  # what rolled-back writers leave behind
        conn.execute(
            "SELECT nextval(pg_get_serial_sequence('ledger_events', 'notification_id')) "
            "FROM generate_series(1, 3)"
        )
    with Ledger(pg_url) as ledger:
        ledger.append_lines(lines([case.absence("O-1")]))
    path = tmp_path / "gap.ndjson"
    path.write_bytes(export(pg_url))

    restore(db_path, path)
    again = export(db_path)
    with Ledger(db_path) as ledger:
        positions = [e.position for e in ledger.case_events("P-GAP")]
        appended = ledger.append_lines(lines([case.absence("O-1", days=1)]))

    assert positions == [1, 2, 6]
    assert again == path.read_bytes()
    assert appended.position == 7


def test_appending_after_a_restore_continues_the_chains_and_positions(
    store_url: str, tmp_path: Path
) -> None:
    source = str(tmp_path / "source.db")
    fill(source)
    path = tmp_path / "export.ndjson"
    path.write_bytes(export(source))
    restore(store_url, path)
    follow_up = WireCase("P-C", "751").event(
        "FollowUpHeld", mode="phone", goals_met=False, event_id=event_id("P-C/after")
    )

    with Ledger(store_url) as ledger:
        result = ledger.append_lines(lines([follow_up]))
        stored = ledger.case_events("P-C")
        report = ledger.verify()

    assert result.position == 10
    assert stored[-1].prev_hash == stored[-2].hash
    assert report.ok


def test_a_store_that_already_holds_events_is_refused(store_url: str, tmp_path: Path) -> None:
    path = tmp_path / "export.ndjson"
    fill(store_url)
    path.write_bytes(export(store_url))

    result = run(store_url, "restore", "--json", str(path), code=1)

    assert json.loads(result.stdout)["errors"][0]["code"] == "store_not_empty"
    assert head(store_url) == 9


def _lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def _edit(edit: str, rows: list[bytes]) -> list[bytes]:
    """One change to an export, as a careless or malicious hand would make it."""
    match edit:
        case "content":
            rows[5] = rows[5].replace(b'"days":3', b'"days":4')
        case "hash":
            rows[5] = re.sub(rb'"hash":"[0-9a-f]', b'"hash":"x', rows[5])
        case "dropped":  # P-A's offer: its absence on line 6 no longer follows version 1
            del rows[4]
        case "reordered":
            rows[3], rows[4] = rows[4], rows[3]
        case "reformatted":  # the same event, with its keys sorted: other bytes, other hash
            row = json.loads(rows[5])
            rows[5] = json.dumps({**row, "event": dict(sorted(row["event"].items()))}).encode()
        case "cut off":
            del rows[-1]
        case "miscounted":
            rows[-1] = rows[-1].replace(b'"lines":10', b'"lines":11')
        case "key smuggled":
            rows[-2] = rows[-2].replace(b'"key":null', b'"key":"AAAA"')
        case "trailing":
            rows.append(rows[1])
    return rows


@pytest.mark.parametrize(
    ("edit", "line", "reason"),
    [
        ("content", 6, "the hash does not match the stored content"),
        ("hash", 6, "the hash does not match the stored content"),
        ("dropped", 5, "version 3 follows 1: events are missing"),
        ("reordered", 5, "position 3 does not follow 4"),
        ("reformatted", 6, "the hash does not match the stored content"),
        ("cut off", 11, "it was cut off"),
        ("miscounted", 12, "the closing line counts 11 lines, not 10"),
        ("key smuggled", 11, "an export never carries keys"),
        ("trailing", 13, "there is more after the closing line 12"),
    ],
)
def test_an_export_that_does_not_verify_is_refused_naming_its_line(
    db_path: str, tmp_path: Path, edit: str, line: int, reason: str
) -> None:
    fill(db_path)
    path = tmp_path / "export.ndjson"
    path.write_bytes(export(db_path))
    path.write_bytes(b"\n".join(_edit(edit, _lines_of(path))) + b"\n")
    target = str(tmp_path / "target.db")

    result = run(target, "restore", "--json", str(path), code=1)

    [error] = json.loads(result.stdout)["errors"]
    assert (error["code"], error["line"]) == ("invalid_backup", line)
    assert reason in error["message"]
    assert head(target) == 0


def test_a_batch_file_is_not_taken_for_an_export(db_path: str, tmp_path: Path) -> None:
    path = tmp_path / "batch.ndjson"
    path.write_bytes(ndjson([WireCase("P-A").opened()]))
    result = run(db_path, "restore", "--json", str(path), code=1)
    assert json.loads(result.stdout)["errors"][0]["line"] == 1
    assert head(db_path) == 0


def test_a_refusal_late_in_a_long_export_leaves_the_store_empty_and_restorable(
    store_url: str, tmp_path: Path
) -> None:
    source = str(tmp_path / "source.db")
    with Ledger(source) as ledger:
        ledger.append_lines(
            ndjson_lines(b"\n".join(encode_event(e) for e in workload(4500, seed=3)))
        )
    good = tmp_path / "good.ndjson"
    good.write_bytes(export(source))
    rows = _lines_of(good)
    rows[-2] = rows[-2].replace(b'"schema":1', b'"schema":2')
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(b"\n".join(rows) + b"\n")

    refused = run(store_url, "restore", "--json", str(bad), code=1)
    empty = head(store_url)
    report = restore(store_url, good)

    assert json.loads(refused.stdout)["errors"][0]["line"] == len(rows) - 1
    assert empty == 0
    assert report["restored"] == 4500
    assert run(store_url, "verify").exit_code == 0


def test_a_store_that_fails_verification_is_not_exported(db_path: str, tmp_path: Path) -> None:
    fill(db_path)
    flip(db_path, 5, b'"days":3', b'"days":9')
    path = tmp_path / "export.ndjson"

    result = run(db_path, "export", "--output", str(path), code=3)

    assert "position 5" in result.output
    assert not path.exists()


def test_a_copy_restored_without_keys_keeps_personal_data_sealed(
    db_path: str, tmp_path: Path
) -> None:
    fill(db_path)
    path = tmp_path / "export.ndjson"
    path.write_bytes(export(db_path))
    copy = str(tmp_path / "copy.db")
    restore(copy, path)

    opened = json.loads(run(copy, "events", "P-A").stdout.splitlines()[0])

    assert NAME.encode() not in path.read_bytes()
    assert opened["personal_erased"] is True
    assert run(copy, "verify").exit_code == 0


def test_a_copy_restored_with_its_key_file_opens_personal_data(
    db_path: str, tmp_path: Path
) -> None:
    fill(db_path)
    export_file, keys = tmp_path / "export.ndjson", tmp_path / "keys.ndjson"
    run(db_path, "export", "-o", str(export_file), "--keys", str(keys))
    copy = str(tmp_path / "copy.db")
    restore(copy, export_file, "--keys", str(keys))

    assert events_of_everyone(copy) == events_of_everyone(db_path)
    assert keys.stat().st_mode & 0o777 == 0o600
    assert run(copy, "forget", "--yes", "--json", "P-B").stdout == (
        '{"person":"P-B","key_destroyed":false,"erased_from_files":true}\n'
    )


def test_a_key_file_from_before_a_forget_does_not_bring_the_person_back(
    db_path: str, tmp_path: Path
) -> None:
    fill(db_path)
    old_keys = tmp_path / "old-keys.ndjson"
    run(db_path, "export", "-o", str(tmp_path / "old.ndjson"), "--keys", str(old_keys))
    run(db_path, "forget", "--yes", "P-A")
    path = tmp_path / "export.ndjson"
    path.write_bytes(export(db_path))
    copy = str(tmp_path / "copy.db")

    report = restore(copy, path, "--keys", str(old_keys))

    assert (report["keys"], report["keys_discarded"], report["forgotten"]) == (0, 1, 2)
    assert json.loads(run(copy, "events", "P-A").stdout.splitlines()[0])["personal_erased"]


def test_a_key_file_of_another_ledger_is_refused(db_path: str, tmp_path: Path) -> None:
    fill(db_path)
    other = str(tmp_path / "other.db")
    fill(other)  # the same events, sealed under other keys
    keys = tmp_path / "keys.ndjson"
    run(other, "export", "-o", str(tmp_path / "other.ndjson"), "--keys", str(keys))
    path = tmp_path / "export.ndjson"
    path.write_bytes(export(db_path))
    target = str(tmp_path / "target.db")

    result = run(target, "restore", "--json", str(path), "--keys", str(keys), code=1)

    [error] = json.loads(result.stdout)["errors"]
    assert (error["line"], error["field"]) == (2, "keys")
    assert head(target) == 0


def test_a_key_file_is_never_overwritten(db_path: str, tmp_path: Path) -> None:
    fill(db_path)
    keys = tmp_path / "keys.ndjson"
    keys.write_text("precious")
    result = run(
        db_path,
        "--lang",
        "en",
        "export",
        "-o",
        str(tmp_path / "e.ndjson"),
        "--keys",
        str(keys),
        code=2,
    )
    assert "never overwritten" in result.output
    assert keys.read_text() == "precious"
    assert not (tmp_path / "e.ndjson").exists()
