"""The ledger's recorders and mapper, proven with eventsourcing's own shipped conformance suites.

Each suite is run as eventsourcing runs it for its own stores, against a real SQLite file and a
real PostgreSQL server, with the ledger's recorder classes and the typed mapper configured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    ProcessRecorder,
    TrackingRecorder,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresDatastore,
    PostgresFactory,
    PostgresProcessRecorder,
    PostgresTrackingRecorder,
)
from eventsourcing.sqlite import (
    SQLiteAggregateRecorder,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteProcessRecorder,
    SQLiteTrackingRecorder,
)
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    InfrastructureFactoryTestCase,
    NonInterleavingNotificationIDsBaseCase,
)
from eventsourcing.utils import Environment

from ledger.config import store_env
from ledger.stores.mapper import LedgerMapper
from ledger.stores.postgres import LedgerPostgresRecorder
from ledger.stores.sqlite import LedgerSQLiteRecorder


class SQLiteStore:
    """Gives each test its own SQLite file."""

    db_file: Path

    @pytest.fixture(autouse=True)
    def _sqlite_file(self, tmp_path: Path) -> None:
        self.db_file = tmp_path / "conformance.db"

    def create_recorder(self) -> LedgerSQLiteRecorder:
        recorder = LedgerSQLiteRecorder(SQLiteDatastore(db_name=str(self.db_file)))
        recorder.create_table()
        return recorder


class PostgresStore:
    """Gives each test its own database on the test server."""

    url: str

    @pytest.fixture(autouse=True)
    def _postgres_database(self, pg_url: str) -> None:
        self.url = pg_url

    def create_recorder(self) -> LedgerPostgresRecorder:
        parts = urlsplit(self.url)
        datastore = PostgresDatastore(
            dbname=parts.path.lstrip("/"),
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "",
            password=parts.password or "",
            pool_size=4,
            max_overflow=12,
        )
        recorder = LedgerPostgresRecorder(datastore, events_table_name="ledger_events")
        recorder.create_table()
        return recorder


class TestSQLiteApplicationRecorder(SQLiteStore, ApplicationRecorderTestCase[Any]):
    pass


class TestSQLiteNonInterleaving(SQLiteStore, NonInterleavingNotificationIDsBaseCase):
    pass


@pytest.mark.postgres
class TestPostgresApplicationRecorder(PostgresStore, ApplicationRecorderTestCase[Any]):
    pass


@pytest.mark.postgres
class TestPostgresNonInterleaving(PostgresStore, NonInterleavingNotificationIDsBaseCase):
    pass


class TestSQLiteFactoryWithLedgerMapper(InfrastructureFactoryTestCase[SQLiteFactory]):
    @pytest.fixture(autouse=True)
    def _environment(self, tmp_path: Path) -> None:
        self.env = Environment("TestCase", store_env(str(tmp_path / "factory.db")))

    def expected_factory_class(self) -> type[SQLiteFactory]:
        return SQLiteFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return SQLiteAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return LedgerSQLiteRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return SQLiteTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return type("CustomSQLiteTracking", (SQLiteTrackingRecorder,), {})

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return SQLiteProcessRecorder

    def test_the_configured_mapper_is_the_ledger_mapper(self) -> None:
        assert isinstance(self.factory, InfrastructureFactory)
        assert type(self.factory.mapper()) is LedgerMapper


@pytest.mark.postgres
class TestPostgresFactoryWithLedgerMapper(InfrastructureFactoryTestCase[PostgresFactory]):
    @pytest.fixture(autouse=True)
    def _environment(self, pg_url: str) -> None:
        self.env = Environment("TestCase", store_env(pg_url))

    def expected_factory_class(self) -> type[PostgresFactory]:
        return PostgresFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return PostgresAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return LedgerPostgresRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return PostgresTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return type("CustomPostgresTracking", (PostgresTrackingRecorder,), {})

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return PostgresProcessRecorder

    def test_the_configured_mapper_is_the_ledger_mapper(self) -> None:
        assert type(self.factory.mapper()) is LedgerMapper
