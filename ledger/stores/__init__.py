"""Where the ledger's data lives: every SQL statement and database driver is in this package.

- ``base``: the recorder interface the application service writes through (events with their
  idempotency index, person keys, checkpoints), and the shapes it reads back.
- ``sqlite`` / ``postgres``: that interface on each store, built on eventsourcing's recorders.
- ``mapper``: the typed msgspec mapper eventsourcing is configured with (``MAPPER_TOPIC``).
"""
