"""The one configuration (``ledger.config.Settings``): read from the environment with defaults,
a bad value refused naming its variable, and passed down into the store's environment."""

from __future__ import annotations

import pytest

from ledger.config import Settings, store_env
from ledger.errors import StoreError


def test_unset_variables_keep_the_defaults() -> None:
    settings = Settings.from_env({})

    assert settings == Settings()
    assert (settings.db, settings.lock_timeout_s, settings.max_case_events) == (
        "./ledger.db",
        30,
        10_000,
    )


def test_each_setting_is_read_from_its_variable() -> None:
    settings = Settings.from_env(
        {
            "LEDGER_DB": "postgresql://u:p@db.example/ledger",
            "LEDGER_LOCK_TIMEOUT": "7",
            "LEDGER_POLL_INTERVAL": "0.25",
            "LEDGER_WRITE_QUEUE": "64",
            "POSTGRES_SCHEMA": "cases",
        }
    )

    assert settings.db == "postgresql://u:p@db.example/ledger"
    assert (settings.lock_timeout_s, settings.poll_interval_s, settings.write_queue) == (
        7,
        0.25,
        64,
    )
    assert settings.postgres_schema == "cases"


def test_the_ledger_name_of_a_variable_wins_over_eventsourcings() -> None:
    settings = Settings.from_env({"LEDGER_POSTGRES_SCHEMA": "ours", "POSTGRES_SCHEMA": "theirs"})
    assert settings.postgres_schema == "ours"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LEDGER_LOCK_TIMEOUT", "soon"),
        ("LEDGER_LOCK_TIMEOUT", "0"),
        ("LEDGER_POSTGRES_POOL_SIZE", "-1"),
        ("LEDGER_WAIT_FOR_VIEWS", "a while"),
        ("LEDGER_REBUILD_WORKERS", "2.5"),
        ("LEDGER_SESSION_KEY", "abc"),
        ("LEDGER_CIPHER_KEY", "not a key"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(StoreError) as refused:
        Settings.from_env({variable: value})

    assert refused.value.field == variable
    assert variable in refused.value.message


def test_the_lock_time_out_is_set_once_for_both_stores() -> None:
    settings = Settings(lock_timeout_s=12)

    assert store_env("ledger.db", settings)["SQLITE_LOCK_TIMEOUT"] == "12"
    assert store_env("postgresql://u:p@h/db", settings)["POSTGRES_LOCK_TIMEOUT"] == "12"
