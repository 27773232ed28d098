"""Tamper evidence: any change to a stored event is found by verify, with its position; and
against someone who can write to the database (rewriting a stream with recomputed hashes,
deleting a person's last event with its index row), the signed checkpoints find it, naming the
person and the position. On both stores."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from click.testing import CliRunner

from bench.load import serving
from cli.main import cli
from ledger.application import Failure, Ledger
from ledger.checkpoints import load_public_key, write_key_pair
from ledger.config import CIPHER_KEY_ENV, is_postgres_url
from ledger.records import record_from_row, record_to_state, stream_id
from ledger.stores.views import VIEW_COLUMNS, ViewRow
from projections.rows import body_digest
from tests.support.evidence import locked_away
from tests.support.tamper import delete_event, flip
from tests.support.wire import WireCase, lines

TAMPERED_POSITION = 4


@pytest.fixture
def filled(store_url: str) -> Iterator[str]:
    first, second = WireCase("P-A"), WireCase("P-B", "751")
    batch = [first.opened(), second.opened(), first.offer("O-1"), first.absence("O-1", days=3)]
    batch += [second.offer("O-7"), first.event("FollowUpHeld", mode="phone", goals_met=False)]
    with Ledger(store_url) as ledger:
        ledger.append_lines(lines(batch))
        assert ledger.verify().ok
    return store_url


@pytest.mark.parametrize(
    ("needle", "replacement"),
    [
        (b'"days":3', b'"days":4'),  # the event's content
        (b'"O-1"', b'"O-2"'),  # a reference
        (b'"recorded_at":"2', b'"recorded_at":"1'),  # the transaction time
        (b'"hash":"', b'"hash":"f'),  # the stored hash itself (one byte longer)
        (b'"prev_hash":"', b'"prev_hash":"0'),
        (b'{"schema"', b'{"schema '),  # no longer JSON
    ],
)
def test_changing_one_byte_of_a_stored_event_is_found_with_its_position(
    filled: str, needle: bytes, replacement: bytes
) -> None:
    flip(filled, TAMPERED_POSITION, needle, replacement)

    with Ledger(filled) as ledger:
        report = ledger.verify()
        per_person = ledger.verify("P-A")

    assert not report.ok
    assert report.first_failure is not None
    assert report.first_failure.position == TAMPERED_POSITION
    assert per_person.first_failure is not None
    assert per_person.first_failure.position == TAMPERED_POSITION
    assert report.checked == 6


def test_an_unrelated_case_stays_verified_when_another_is_tampered_with(filled: str) -> None:
    flip(filled, TAMPERED_POSITION, b'"days":3', b'"days":9')
    with Ledger(filled) as ledger:
        assert ledger.verify("P-B").ok


def test_a_deleted_event_is_found_at_its_position_and_at_the_next_of_its_case(
    filled: str,
) -> None:
    delete_event(filled, 3)
    with Ledger(filled) as ledger:
        report = ledger.verify()
    assert [f.position for f in report.failures] == [3, TAMPERED_POSITION]
    assert all("missing" in f.reason for f in report.failures)


def test_a_deleted_last_event_is_found_by_the_index_at_its_own_position(filled: str) -> None:
    delete_event(filled, 6)
    with Ledger(filled) as ledger:
        report = ledger.verify()
    assert not report.ok
    assert report.first_failure is not None
    assert report.first_failure.position == 6  # not the ledger's last position, now 5
    assert "missing" in report.first_failure.reason


def test_verify_on_the_command_line_exits_3_and_names_the_position(filled: str) -> None:
    flip(filled, TAMPERED_POSITION, b'"days":3', b'"days":4')
    runner = CliRunner()

    human = runner.invoke(cli, ["--db", filled, "verify"])
    machine = runner.invoke(cli, ["--db", filled, "verify", "--json"])

    assert human.exit_code == 3
    assert f"position {TAMPERED_POSITION}" in human.output
    assert machine.exit_code == 3
    assert f'"first_failure":{{"position":{TAMPERED_POSITION}' in machine.output


def test_verify_tells_its_findings_in_danish_while_the_json_reason_stays_english(
    filled: str,
) -> None:
    flip(filled, TAMPERED_POSITION, b'"days":3', b'"days":4')
    runner = CliRunner()

    human = runner.invoke(cli, ["--db", filled, "--wide", "verify"])
    machine = runner.invoke(cli, ["--db", filled, "verify", "--json"])

    assert human.exit_code == machine.exit_code == 3
    assert f"ved position {TAMPERED_POSITION}: hashen passer ikke til det gemte indhold" in (
        human.output
    )
    first = json.loads(machine.output)["first_failure"]
    assert first["reason"] == "the hash does not match the stored content"


# --- against someone with write access to the database -----------------------------------------

SANCTION_POSITION = 6  # P-A's sanction; P-A's last event is at LAST_POSITION
LAST_POSITION = 7
AMOUNT = b'"amount_dkk":"1500"'


@pytest.fixture
def sanctioned(store_url: str, tmp_path: Path) -> str:
    return with_a_sanction(store_url, tmp_path)


def with_a_sanction(store_url: str, tmp_path: Path) -> str:
    """Two cases through the command line (so the views are kept), P-A with a sanction."""
    first, second = WireCase("P-A"), WireCase("P-B", "751")
    absence = first.absence("O-1", days=3)
    batch = [first.opened(), second.opened(), first.offer("O-1"), absence, second.offer("O-7")]
    batch += [
        first.event(
            "SanctionImposed",
            sanction_id="S-1",
            kind="deduction",
            grounds=[absence["event_id"]],
            amount_dkk="1500",
        ),
        first.event("FollowUpHeld", mode="phone", goals_met=False),
    ]
    path = tmp_path / "batch.ndjson"
    path.write_bytes(b"".join(line.raw + b"\n" for line in lines(batch)))
    assert CliRunner().invoke(cli, ["--db", store_url, "append", str(path)]).exit_code == 0
    return store_url


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "checkpoint.pem"
    path.parent.mkdir()
    write_key_pair(path, "--new-key")
    return path


def _sql(store_url: str, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """One statement on the store's own database, as someone with database access runs it."""
    if is_postgres_url(store_url):
        with psycopg.connect(store_url) as conn:
            cursor = conn.execute(statement.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []
    with sqlite3.connect(store_url) as conn:
        return conn.execute(statement, params).fetchall()


def _events_table(store_url: str) -> tuple[str, str]:
    return (
        ("ledger_events", "notification_id")
        if is_postgres_url(store_url)
        else (
            "stored_events",
            "rowid",
        )
    )


def rewrite_with_recomputed_hashes(
    store_url: str, person: str, needle: bytes, replacement: bytes
) -> None:
    """Change one event of a person and recompute the hashes of it and every later event of the
    stream, as someone who knows the hash chain would."""
    table, position = _events_table(store_url)
    oid = stream_id(person)
    key = oid if is_postgres_url(store_url) else oid.hex
    rows = _sql(
        store_url,
        f"SELECT {position}, originator_version, topic, state FROM {table} "
        "WHERE originator_id = ? ORDER BY originator_version",
        (key,),
    )
    head = "0" * 64
    for at, version, topic, state in rows:
        record = record_from_row(oid, version, topic, bytes(state))
        forged = record.event_json.replace(needle, replacement)
        record = type(record)(**{**_fields(record), "event_json": forged, "prev_hash": head})
        record = type(record)(**{**_fields(record), "hash": record.expected_hash()})
        head = record.hash
        _sql(
            store_url,
            f"UPDATE {table} SET state = ? WHERE {position} = ?",
            (record_to_state(record), at),
        )


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__struct_fields__}


def delete_with_its_index_row(store_url: str, at: int) -> None:
    table, position = _events_table(store_url)
    if is_postgres_url(store_url):
        _sql(
            store_url,
            "DELETE FROM ledger_event_ids WHERE (originator_id, originator_version) IN "
            "(SELECT originator_id, originator_version FROM ledger_events "
            "WHERE notification_id = ?)",
            (at,),
        )
    else:
        _sql(store_url, "DELETE FROM ledger_event_ids WHERE position = ?", (at,))
    _sql(store_url, f"DELETE FROM {table} WHERE {position} = ?", (at,))


def checkpoint(store_url: str, key: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["--db", store_url, "checkpoint", "--key", str(key), "--json"])
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def found(failures: list[Failure]) -> list[tuple[int, str | None]]:
    return [(f.position, f.person) for f in failures]


def test_a_checkpoint_signs_the_head_and_a_clean_store_verifies_against_it(
    sanctioned: str, key_file: Path
) -> None:
    signed = checkpoint(sanctioned, key_file)
    runner = CliRunner()
    public = f"{key_file}.pub"

    result = runner.invoke(cli, ["--db", sanctioned, "verify", "--public-key", public, "--json"])
    human = runner.invoke(cli, ["--db", sanctioned, "verify", "--public-key", public])

    assert signed["position"] == LAST_POSITION
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"]
    assert report["checkpoint"]["position"] == LAST_POSITION
    assert report["checkpoint"]["signature_checked"]
    assert f"kontrolpunktet ved position {LAST_POSITION}" in human.output  # Danish by default


def test_a_rewritten_and_rehashed_sanction_amount_is_named_by_the_checkpoint(
    sanctioned: str, key_file: Path
) -> None:
    checkpoint(sanctioned, key_file)
    rewrite_with_recomputed_hashes(sanctioned, "P-A", AMOUNT, b'"amount_dkk":"15000"')
    public = load_public_key(Path(f"{key_file}.pub"), "--public-key")

    with Ledger(sanctioned) as ledger:
        report = ledger.verify(public_key=public)
        per_person = ledger.verify("P-A", public_key=public)
        other = ledger.verify("P-B", public_key=public)

    # Only the rewritten event: P-A's later event was merely re-linked to it.
    assert found(report.failures) == [(SANCTION_POSITION, "P-A")]
    assert "rewritten" in report.failures[0].reason
    assert found(per_person.failures) == [(SANCTION_POSITION, "P-A")]
    assert other.ok


def test_without_a_checkpoint_a_rewritten_and_rehashed_stream_passes_the_chains(
    sanctioned: str,
) -> None:
    """Why checkpoints exist: the chains alone cannot see a consistent rewrite."""
    rewrite_with_recomputed_hashes(sanctioned, "P-A", AMOUNT, b'"amount_dkk":"15000"')
    with Ledger(sanctioned) as ledger:
        assert ledger.verify().ok
        assert ledger.verify("P-A").ok


def test_a_deleted_last_event_with_its_index_row_is_named_by_the_checkpoint(
    sanctioned: str, key_file: Path
) -> None:
    checkpoint(sanctioned, key_file)
    delete_with_its_index_row(sanctioned, LAST_POSITION)  # P-A's last event
    public = load_public_key(Path(f"{key_file}.pub"), "--public-key")

    with Ledger(sanctioned) as ledger:
        report = ledger.verify(public_key=public)
        per_person = ledger.verify("P-A", public_key=public)

    assert found(report.failures) == [(LAST_POSITION, "P-A")]
    assert "missing" in report.failures[0].reason
    assert found(per_person.failures) == [(LAST_POSITION, "P-A")]


def test_events_appended_after_the_checkpoint_verify_and_extend_the_next_one(
    sanctioned: str, key_file: Path, tmp_path: Path
) -> None:
    checkpoint(sanctioned, key_file)
    more = tmp_path / "more.ndjson"
    more.write_bytes(ndjson_of(WireCase("P-C").opened()))
    assert CliRunner().invoke(cli, ["--db", sanctioned, "append", str(more)]).exit_code == 0
    public = load_public_key(Path(f"{key_file}.pub"), "--public-key")
    with Ledger(sanctioned) as ledger:
        between = ledger.verify(public_key=public)
    second = checkpoint(sanctioned, key_file)
    with Ledger(sanctioned) as ledger:
        after = ledger.verify(public_key=public)

    again = checkpoint(sanctioned, key_file)  # nothing appended since: the same checkpoint
    assert between.ok
    assert second["position"] == LAST_POSITION + 1
    assert again == second
    assert after.ok
    assert after.checkpoint is not None
    assert after.checkpoint.position == LAST_POSITION + 1


def ndjson_of(*events: dict[str, Any]) -> bytes:
    return b"".join(line.raw + b"\n" for line in lines(events))


def test_changed_checkpoint_records_or_another_key_fail_verification(
    sanctioned: str, key_file: Path, tmp_path: Path
) -> None:
    checkpoint(sanctioned, key_file)
    other = tmp_path / "other.pem"
    write_key_pair(other, "--new-key")
    _sql(sanctioned, "UPDATE ledger_checked_events SET hash = ? WHERE position = ?", ("0" * 64, 3))

    with Ledger(sanctioned) as ledger:
        report = ledger.verify(public_key=load_public_key(Path(f"{key_file}.pub"), "-"))
        foreign = ledger.verify(public_key=load_public_key(Path(f"{other}.pub"), "-"))

    assert not report.ok
    assert any("no longer hash to its signed head" in f.reason for f in report.failures)
    assert any("signed with another key" in f.reason for f in foreign.failures)


def test_verify_with_a_public_key_and_no_checkpoint_fails(sanctioned: str, key_file: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--db", sanctioned, "verify", "--public-key", f"{key_file}.pub", "--json"]
    )
    assert result.exit_code == 3
    assert "no signed checkpoint" in result.stdout


def test_new_keys_are_never_written_over_existing_files(tmp_path: Path, db_path: str) -> None:
    key = tmp_path / "signing.pem"
    runner = CliRunner()

    made = runner.invoke(cli, ["--db", db_path, "checkpoint", "--new-key", str(key), "--json"])
    again = runner.invoke(cli, ["--db", db_path, "checkpoint", "--new-key", str(key), "--json"])
    neither = runner.invoke(cli, ["--db", db_path, "checkpoint"])

    assert made.exit_code == 0, made.output
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert Path(f"{key}.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert key.stat().st_mode & 0o077 == 0
    assert again.exit_code == 1
    assert json.loads(again.stdout)["errors"][0]["code"] == "key_file"
    assert neither.exit_code == 2


def test_a_checkpoint_refuses_to_sign_events_that_fail_their_chains(
    sanctioned: str, key_file: Path
) -> None:
    flip(sanctioned, SANCTION_POSITION, AMOUNT, b'"amount_dkk":"9999"')
    result = CliRunner().invoke(
        cli, ["--db", sanctioned, "checkpoint", "--key", str(key_file), "--json"]
    )
    assert result.exit_code == 3
    assert json.loads(result.stdout)["errors"][0]["code"] == "integrity_failure"
    assert _sql(sanctioned, "SELECT COUNT(*) FROM ledger_checkpoints", ()) == [(0,)]


# --- materialised views: caches, never evidence --------------------------------------------------


@pytest.fixture
def refused(store_url: str, tmp_path: Path) -> str:
    """A case with one refused offer, appended through the command line (views kept)."""
    case = WireCase("P-R")
    path = tmp_path / "refused.ndjson"
    path.write_bytes(
        ndjson_of(case.opened(), case.offer("O-1"), case.event("OfferRefused", offer_id="O-1"))
    )
    assert CliRunner().invoke(cli, ["--db", store_url, "append", str(path)]).exit_code == 0
    return store_url


def change_view_body(store_url: str, needle: bytes, replacement: bytes) -> None:
    rows = _sql(
        store_url, "SELECT body FROM ledger_views WHERE person = ? AND kind = ?", ("P-R", "status")
    )
    body = bytes(rows[0][0])
    assert needle in body
    _sql(
        store_url,
        "UPDATE ledger_views SET body = ? WHERE person = ? AND kind = ?",
        (body.replace(needle, replacement), "P-R", "status"),
    )


def test_a_changed_view_row_is_not_served_and_verify_names_it(refused: str) -> None:
    change_view_body(refused, b'"refusals":1', b'"refusals":7')
    runner = CliRunner()
    investigator = json.loads(
        runner.invoke(
            cli, ["--db", refused, "token", "create", "--role", "investigator", "--json"]
        ).stdout
    )["secret"]

    shown = runner.invoke(cli, ["--db", refused, "status", "P-R", "--json"])
    with (
        serving(refused) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {investigator}"}) as client,
    ):
        served = client.get("/v1/persons/P-R/status")
        metrics = client.get("/metrics").text
        checked = client.get("/v1/verify")
    verified = runner.invoke(cli, ["--db", refused, "verify", "--json"])

    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["participation"]["refusals"] == 1
    assert served.status_code == 200
    assert served.json()["participation"]["refusals"] == 1
    assert "ledger_view_rows_refused_total 1" in metrics
    assert verified.exit_code == 3
    report = json.loads(verified.stdout)
    assert [(f["person"], "digest" in f["reason"]) for f in report["failures"]] == [("P-R", True)]
    assert checked.json()["ok"] is False


def test_a_deleted_last_event_is_named_by_the_views_without_a_checkpoint(sanctioned: str) -> None:
    delete_with_its_index_row(sanctioned, LAST_POSITION)  # P-A's last event

    runner = CliRunner()
    whole = runner.invoke(cli, ["--db", sanctioned, "verify", "--json"])
    one = runner.invoke(cli, ["--db", sanctioned, "verify", "P-A", "--json"])

    assert whole.exit_code == 3
    assert one.exit_code == 3
    for result in (whole, one):
        failures = json.loads(result.stdout)["failures"]
        assert [(f["position"], f["person"]) for f in failures] == [(LAST_POSITION, "P-A")]
        assert "missing" in failures[0]["reason"]


@pytest.mark.slow
def test_the_server_signs_checkpoints_on_a_schedule(
    sanctioned: str, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_CHECKPOINT_KEY", str(key_file))
    monkeypatch.setenv("LEDGER_CHECKPOINT_EVERY", "1")
    deadline = time.monotonic() + 30
    with serving(sanctioned):
        while time.monotonic() < deadline and not _checkpoints(sanctioned):
            time.sleep(0.2)
        time.sleep(2.5)  # two more turns of the schedule, with nothing new to sign
    public = load_public_key(Path(f"{key_file}.pub"), "--public-key")
    with Ledger(sanctioned) as ledger:
        report = ledger.verify(public_key=public)

    assert _checkpoints(sanctioned) == [(LAST_POSITION,)]  # once: nothing was appended since
    assert report.ok
    assert report.checkpoint is not None


def _checkpoints(store_url: str) -> list[tuple[Any, ...]]:
    return _sql(store_url, "SELECT position FROM ledger_checkpoints", ())


# --- read-only copies --------------------------------------------------------------------------


@pytest.fixture
def evidence(tmp_path: Path, db_path: str) -> Iterator[str]:
    with locked_away(with_a_sanction(db_path, tmp_path), tmp_path) as copy:
        yield copy


def test_a_read_only_copy_can_be_verified_and_read_but_not_written(
    evidence: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    before = Path(evidence).read_bytes()

    verified = runner.invoke(cli, ["--db", evidence, "verify", "--json"])
    read = [
        runner.invoke(cli, ["--db", evidence, *command, "P-A", "--json"])
        for command in (["status"], ["sanctions"], ["history"])
    ]
    shown = runner.invoke(cli, ["--db", evidence, "events", "P-A"])
    more = tmp_path / "more.ndjson"
    more.write_bytes(ndjson_of(WireCase("P-C").opened()))
    append = runner.invoke(cli, ["--db", evidence, "append", str(more), "--json"])

    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["checked"] == LAST_POSITION
    assert all(result.exit_code == 0 for result in read), [r.output for r in read]
    assert len(shown.stdout.splitlines()) == 5
    assert append.exit_code == 1
    assert json.loads(append.stdout)["errors"][0]["field"] == "db"
    assert Path(evidence).read_bytes() == before
    assert sorted(p.name for p in Path(evidence).parent.iterdir()) == ["ledger.db"]


def test_an_encrypted_view_row_changed_with_a_recomputed_digest_is_not_served(
    db_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the store's cipher a digest alone could be recomputed; the ciphertext cannot."""
    monkeypatch.setenv(CIPHER_KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    case = WireCase("P-R")
    path = tmp_path / "refused.ndjson"
    path.write_bytes(
        ndjson_of(case.opened(), case.offer("O-1"), case.event("OfferRefused", offer_id="O-1"))
    )
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db_path, "append", str(path)]).exit_code == 0
    row = ViewRow(
        *_sql(db_path, f"SELECT {VIEW_COLUMNS} FROM ledger_views WHERE kind = 'status'", ())[0]
    )
    changed = row._replace(body=row.body[:-1] + bytes([row.body[-1] ^ 1]))
    _sql(
        db_path,
        "UPDATE ledger_views SET body = ?, body_digest = ? WHERE person = ? AND kind = ?",
        (changed.body, body_digest(changed), "P-R", "status"),
    )

    shown = runner.invoke(cli, ["--db", db_path, "status", "P-R", "--json"])
    verified = runner.invoke(cli, ["--db", db_path, "verify", "--json"])

    assert json.loads(shown.stdout)["participation"]["refusals"] == 1
    assert verified.exit_code == 3
    assert [f["person"] for f in json.loads(verified.stdout)["failures"]] == ["P-R"]


@pytest.mark.postgres
def test_an_event_added_where_the_checkpoint_recorded_none_is_named(
    pg_url: str, tmp_path: Path, key_file: Path
) -> None:
    """PostgreSQL hands out positions from a sequence, so positions can be skipped (a refused
    write consumes its own): an event slipped into such a gap is named as added."""
    with_a_sanction(pg_url, tmp_path)
    _sql(
        pg_url, "SELECT setval(pg_get_serial_sequence('ledger_events', 'notification_id'), 10)", ()
    )
    more = tmp_path / "more.ndjson"
    more.write_bytes(ndjson_of(WireCase("P-C").opened()))
    assert CliRunner().invoke(cli, ["--db", pg_url, "append", str(more)]).exit_code == 0
    assert checkpoint(pg_url, key_file)["position"] == 11
    _sql(
        pg_url,
        "INSERT INTO ledger_events (notification_id, originator_id, originator_version, topic, "
        "state) SELECT 9, originator_id, 2, topic, state FROM ledger_events "
        "WHERE notification_id = 11",
        (),
    )

    with Ledger(pg_url) as ledger:
        report = ledger.verify(public_key=load_public_key(Path(f"{key_file}.pub"), "-"))

    added = [f for f in report.failures if "added" in f.reason]
    assert found(added) == [(9, "P-C")]


def test_a_read_only_copy_of_a_store_older_than_checkpoints_still_verifies(
    db_path: str, tmp_path: Path
) -> None:
    with_a_sanction(db_path, tmp_path)
    for table in ("ledger_checkpoints", "ledger_checked_events", "ledger_settings"):
        _sql(db_path, f"DROP TABLE {table}", ())
    with locked_away(db_path, tmp_path) as copy:
        verified = CliRunner().invoke(cli, ["--db", copy, "verify", "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["checkpoint"] is None


@pytest.mark.parametrize(
    ("option", "content"),
    [
        ("--key", b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"),
        ("--key", b"no pem at all"),
        ("--key", None),  # the public key where the private one belongs
        ("--public-key", b"-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"),
    ],
)
def test_a_key_file_that_is_not_the_key_asked_for_is_refused_naming_the_option(
    db_path: str, key_file: Path, tmp_path: Path, option: str, content: bytes | None
) -> None:
    bad = Path(f"{key_file}.pub") if content is None else tmp_path / "bad.pem"
    if content is not None:
        bad.write_bytes(content)
    command = ["checkpoint"] if option == "--key" else ["verify"]

    result = CliRunner().invoke(cli, ["--db", db_path, *command, option, str(bad), "--json"])

    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["errors"][0]
    assert (error["code"], error["field"]) == ("key_file", option)
