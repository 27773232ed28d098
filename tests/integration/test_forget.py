"""Personal data: sealed under a key per person, never in clear in the store's bytes, gone for
good after `ledger forget` while every event, chain and projection stays; and encryption at
rest of every event under an application key, which the store remembers: it is never opened
without its key. On both stores."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from click.testing import CliRunner, Result
from eventsourcing.cryptography import AESCipher

from cli.main import cli
from ledger.application import Ledger
from ledger.config import CIPHER_KEY_ENV, is_postgres_url
from ledger.records import stream_id
from ledger.wire import ndjson_lines
from tests.support.wire import WireCase, ndjson

NAME = "Amina Hansen"
CPR = "010190-1234"
SECRETS = (NAME.encode(), CPR.encode(), b"0101901234")
BASIS = "UDL paragraf 7 stk. 1"  # in clear in the event, so the scans can see it


def run(db: str, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["--db", db, *args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    case, other = WireCase("P-F"), WireCase("P-KEEP")
    path = tmp_path / "case.ndjson"
    events = [
        case.opened(
            residence_basis=BASIS,
            personal={"name": NAME, "cpr": CPR, "birth_date": "1990-01-01"},
        ),
        other.opened(personal={"name": "Omar Ali"}),
        case.offer("O-1"),
        case.absence("O-1"),
    ]
    path.write_bytes(ndjson(events))
    return path


def store_bytes(db: str, request: pytest.FixtureRequest, *, server_wal: bool = False) -> bytes:
    """Every byte the store keeps on disk: the SQLite file with its WAL, or the PostgreSQL
    database's files after a checkpoint (and with ``server_wal`` the server's write-ahead log,
    which every database of the test cluster shares)."""
    if not is_postgres_url(db):
        files = [Path(db + suffix) for suffix in ("", "-wal", "-shm")]
        return b"".join(path.read_bytes() for path in files if path.exists())
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        found = conn.execute(
            "SELECT oid FROM pg_database WHERE datname = %s", (urlsplit(db).path.lstrip("/"),)
        ).fetchone()
    assert found is not None
    data_dir: Path = request.getfixturevalue("pg_cluster").data_dir
    folders = [data_dir / "base" / str(found[0])] + ([data_dir / "pg_wal"] if server_wal else [])
    return b"".join(
        path.read_bytes() for folder in folders for path in folder.iterdir() if path.is_file()
    )


def test_forgetting_a_person_erases_personal_data_everywhere_and_keeps_the_chains(
    store_url: str, case_file: Path, request: pytest.FixtureRequest
) -> None:
    run(store_url, "append", str(case_file))
    shown = run(store_url, "events", "P-F").stdout
    before = [json.loads(line)["hash"] for line in shown.splitlines()]
    raw_before = store_bytes(store_url, request, server_wal=True)

    forgotten = run(store_url, "forget", "--yes", "--json", "P-F")
    again = run(store_url, "forget", "--yes", "--json", "P-F")

    after = run(store_url, "events", "P-F").stdout
    rows = [json.loads(line) for line in after.splitlines()]
    exported = run(store_url, "export").stdout_bytes
    with Ledger(store_url) as ledger:
        opened = ledger.case_events("P-F", open_personal=True)[0]
        kept = ledger.case_events("P-KEEP", open_personal=True)[0]
        report = ledger.verify()

    assert NAME in shown  # the checks below could see it, were it there
    assert BASIS.encode() in raw_before
    erased = None if is_postgres_url(store_url) else True  # a server's files are its own
    assert json.loads(forgotten.stdout) == {
        "person": "P-F",
        "key_destroyed": True,
        "erased_from_files": erased,
    }
    assert json.loads(again.stdout) == {
        "person": "P-F",
        "key_destroyed": False,
        "erased_from_files": erased,
    }
    assert not any(secret in (after.encode() + exported) for secret in SECRETS)
    assert rows[0]["personal"] is None
    assert rows[0]["personal_erased"] is True
    assert opened.personal_erased
    assert getattr(opened.event, "personal", None) is None
    assert not kept.personal_erased
    assert [row["hash"] for row in rows] == before
    assert report.ok
    for raw in (raw_before, store_bytes(store_url, request, server_wal=True)):
        assert not any(secret in raw for secret in SECRETS)


def test_forgetting_an_unknown_person_exits_4(db_path: str, case_file: Path) -> None:
    run(db_path, "append", str(case_file))
    result = run(db_path, "forget", "--yes", "--json", "P-NOBODY", code=4)
    assert json.loads(result.stdout)["errors"][0]["code"] == "unknown_person"


def test_forget_tells_people_whether_a_key_was_destroyed(db_path: str, case_file: Path) -> None:
    run(db_path, "append", str(case_file))
    assert "nøgle destrueret" in run(db_path, "forget", "--yes", "P-F").output  # Danish by default
    assert "no key to destroy" in run(db_path, "--lang", "en", "forget", "--yes", "P-F").output


def test_a_destroyed_key_leaves_no_copy_in_the_sqlite_files(
    db_path: str, case_file: Path, request: pytest.FixtureRequest
) -> None:
    run(db_path, "append", str(case_file))
    with Ledger(db_path) as ledger:
        key = ledger.store.select_keys([stream_id("P-F")])[stream_id("P-F")]
        assert key is not None
        held = key in store_bytes(db_path, request)
        ledger.forget("P-F")
        left = key in store_bytes(db_path, request)  # while the store is still open
    assert held
    assert not left


@pytest.fixture
def cipher_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv(CIPHER_KEY_ENV, key)
    return key


def test_with_a_cipher_key_no_event_is_stored_in_clear_and_all_still_round_trips(
    store_url: str,
    case_file: Path,
    cipher_key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    export, keys = tmp_path / "export.ndjson", tmp_path / "keys.ndjson"
    with Ledger(store_url) as ledger:
        ledger.append_lines(ndjson_lines(case_file.read_bytes()))
        again = ledger.append_lines(ndjson_lines(case_file.read_bytes()))
    shown = run(store_url, "events", "P-F").stdout
    run(store_url, "export", "-o", str(export), "--keys", str(keys))
    verified = run(store_url, "verify").exit_code
    raw = store_bytes(store_url, request)

    other_key = base64.b64encode(os.urandom(16)).decode()
    monkeypatch.setenv(CIPHER_KEY_ENV, other_key)
    rekeyed = str(tmp_path / "rekeyed.db")
    run(rekeyed, "restore", str(export), "--keys", str(keys))
    shown_rekeyed = run(rekeyed, "events", "P-F").stdout
    monkeypatch.delenv(CIPHER_KEY_ENV)
    plain = str(tmp_path / "plain.db")
    run(plain, "restore", str(export), "--keys", str(keys))

    assert other_key != cipher_key
    assert (again.appended, again.duplicates) == (0, 4)  # re-sent events still match
    assert NAME in shown
    assert verified == 0
    assert BASIS.encode() in store_bytes(plain, request)  # the scan would see it in clear
    for encrypted in (raw, store_bytes(rekeyed, request)):
        for fragment in (BASIS.encode(), b'"offer_id"', b'"O-1"', b'"prev_hash"', *SECRETS):
            assert fragment not in encrypted
    assert shown_rekeyed == shown
    assert run(plain, "events", "P-F").stdout == shown
    assert run(plain, "export").stdout_bytes == export.read_bytes()


def test_with_a_cipher_key_the_materialised_views_are_not_in_clear_either(
    db_path: str, case_file: Path, cipher_key: str, request: pytest.FixtureRequest
) -> None:
    assert cipher_key
    run(db_path, "append", str(case_file))
    assert BASIS.encode() not in store_bytes(db_path, request)


def test_a_cipher_key_that_is_not_an_aes_key_is_refused(
    db_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CIPHER_KEY_ENV, "not a key")
    result = run(db_path, "verify", "--json", code=1)
    assert json.loads(result.stdout)["errors"][0]["field"] == CIPHER_KEY_ENV
    assert "not a key" not in result.output


def test_reading_with_another_cipher_key_is_a_clear_error_not_a_traceback(
    db_path: str, case_file: Path, cipher_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cipher_key
    run(db_path, "append", str(case_file))
    monkeypatch.setenv(CIPHER_KEY_ENV, base64.b64encode(os.urandom(32)).decode())

    result = run(db_path, "events", "P-F", code=1)

    assert isinstance(result.exception, SystemExit)
    assert "store_encryption" in result.output
    assert "LEDGER_CIPHER_KEY" in result.output


def test_an_encrypted_store_refuses_every_command_without_its_key_and_nothing_is_written(
    store_url: str,
    case_file: Path,
    cipher_key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    run(store_url, "append", str(case_file))
    more = tmp_path / "more.ndjson"
    more.write_bytes(ndjson([WireCase("P-NEW").opened(residence_basis=BASIS)]))
    monkeypatch.delenv(CIPHER_KEY_ENV)

    refusals = [
        run(store_url, *command, "--json", code=1)
        for command in (
            ("append", str(more)),
            ("status", "P-F"),
            ("verify",),
            ("forget", "--yes", "P-F"),
        )
    ]
    serve = run(store_url, "serve", "--port", "0", code=1)

    assert cipher_key
    for refused in refusals:
        error = json.loads(refused.stdout)["errors"][0]
        assert (error["code"], error["field"]) == ("store_encryption", CIPHER_KEY_ENV)
    assert "store_encryption" in serve.output
    assert BASIS.encode() not in store_bytes(store_url, request)  # no clear event, no clear view
    monkeypatch.setenv(CIPHER_KEY_ENV, cipher_key)
    with Ledger(store_url) as ledger:
        assert ledger.head_position() == 4
        assert ledger.verify().ok


def test_a_key_given_to_a_store_that_is_not_encrypted_is_refused(
    store_url: str, case_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not silently mixed: an encrypted copy is made by restoring an export with the key."""
    run(store_url, "append", str(case_file))
    monkeypatch.setenv(CIPHER_KEY_ENV, base64.b64encode(os.urandom(32)).decode())

    refused = run(store_url, "events", "P-F", code=1)

    assert "store_encryption" in refused.output


@pytest.mark.parametrize("first_byte", [None, b"{"], ids=["any nonce", "nonce beginning {"])
def test_a_store_encrypted_before_stores_recorded_it_is_still_recognised(
    db_path: str,
    case_file: Path,
    cipher_key: str,
    monkeypatch: pytest.MonkeyPatch,
    first_byte: bytes | None,
) -> None:
    """Ciphertext is told from stored JSON by decoding it, not by its first byte: AES-GCM's
    random nonce begins with a brace one time in 256."""
    if first_byte is not None:
        with monkeypatch.context() as nonces:
            nonces.setattr(AESCipher, "random_bytes", lambda n: first_byte + os.urandom(n - 1))
            run(db_path, "append", str(case_file))
    else:
        run(db_path, "append", str(case_file))
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM ledger_settings")  # as a store made by an earlier version
    monkeypatch.delenv(CIPHER_KEY_ENV)

    refused = run(db_path, "status", "P-F", code=1)
    monkeypatch.setenv(CIPHER_KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    wrong = run(db_path, "status", "P-F", code=1)
    monkeypatch.setenv(CIPHER_KEY_ENV, cipher_key)
    opened = run(db_path, "status", "P-F")

    assert "store_encryption" in refused.output
    assert "store_encryption" in wrong.output
    assert "P-F" in opened.output


def test_forget_asks_for_confirmation_and_without_a_terminal_refuses_unless_yes(
    db_path: str, case_file: Path
) -> None:
    run(db_path, "append", str(case_file))

    refused = run(db_path, "forget", "P-F", code=2)

    assert "--yes" in refused.output
    with Ledger(db_path) as ledger:
        assert ledger.store.select_keys([stream_id("P-F")])[stream_id("P-F")] is not None


@pytest.mark.slow
def test_forget_says_it_cannot_be_sure_while_a_reader_holds_an_older_snapshot(
    db_path: str, case_file: Path, request: pytest.FixtureRequest
) -> None:
    run(db_path, "append", str(case_file))
    with Ledger(db_path) as ledger:
        key = ledger.store.select_keys([stream_id("P-F")])[stream_id("P-F")]
    assert key is not None
    reader = sqlite3.connect(db_path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM ledger_person_keys").fetchone()  # holds its snapshot

    unsure = run(db_path, "--lang", "en", "forget", "--yes", "--json", "P-F", code=1)
    still_there = key in store_bytes(db_path, request)
    reader.execute("COMMIT")
    reader.close()
    again = run(db_path, "forget", "--yes", "--json", "P-F")

    assert json.loads(unsure.stdout)["key_destroyed"] is True
    assert json.loads(unsure.stdout)["erased_from_files"] is False
    assert "cannot be sure yet" in unsure.stderr
    assert still_there  # what it could not be sure of was so
    assert json.loads(again.stdout)["erased_from_files"] is True
    assert key not in store_bytes(db_path, request)
