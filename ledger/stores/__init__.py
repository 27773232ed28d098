"""Where the ledger's data lives: every SQL statement and database driver is in this package.

- ``base``: the recorder interface the application service writes through (events with their
  idempotency index, person keys, checkpoints), and the shapes it reads back.
- ``sqlite`` / ``postgres``: that interface on each store, built on eventsourcing's recorders.
- ``mapper``: the typed msgspec mapper eventsourcing is configured with (``MAPPER_TOPIC``).
- ``views``: what the materialised views ask of a store (``ViewRecorder``), their rows and the
  status feed's items; ``sqlite_views`` / ``postgres_views`` implement it
  (``VIEW_RECORDER_TOPIC``).
- ``aio``: the HTTP face's async connections, with every read and write it makes (view rows,
  the status feed, the views' position, API tokens, the access log; ``ASYNC_STORE_TOPIC``).
- ``migrations``: every table above, as one ordered list of named migrations.
"""

# What the application service meets of eventsourcing's persistence layer, named here so that
# nothing outside this package imports it: the rows it reads and writes, and the failures
# (``IntegrityError``: another writer won a stream version, or an event_id is stored already).
from eventsourcing.persistence import IntegrityError as IntegrityError
from eventsourcing.persistence import Notification as Notification
from eventsourcing.persistence import PersistenceError as PersistenceError
from eventsourcing.persistence import StoredEvent as StoredEvent
