"""Signed checkpoints: the ledger's head, signed with a key that is never stored in the ledger.

A hash chain inside the database does not stop someone who can write to the database: they
can rewrite a stream and recompute its hashes, or drop its last events. A checkpoint records,
for every event up to its position, the person, version and hash the event had then
(``ledger_checked_events``), and signs the head of a chain over those records in position
order (``head = sha256(previous head | position | person | version | hash)``) with an Ed25519
key kept outside the store. Each checkpoint extends the previous one, so every record is
written once. Whoever holds the public key checks the store against the latest checkpoint: the
records still hash to the signed head, and every event up to its position is there, unchanged,
with nothing added; when not, the finding names the person and the position.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from uuid import UUID

import msgspec

from ledger.case import GENESIS_HASH
from ledger.errors import LedgerError
from ledger.i18n import Phrase
from ledger.records import CaseRecord, stream_id
from ledger.stores.base import CheckedEvent, Checkpoint, LedgerRecorder

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

MESSAGE_FORMAT = "case-ledger-checkpoint/1"


class KeyFileError(LedgerError):
    """A checkpoint key file that cannot be written, read or used."""

    code = "key_file"


class Finding(NamedTuple):
    """What a check against a checkpoint found wrong, and where."""

    position: int
    person: str | None
    version: int
    reason: Phrase


# --- keys --------------------------------------------------------------------------------------

# cryptography is loaded by the functions that make, read, sign with or check a key: every
# command loads this module, few touch a key.


def write_key_pair(path: Path, field: str) -> Ed25519PrivateKey:
    """A new key pair: the private key to ``path`` (PKCS#8 PEM, owner-only) and the public key
    to ``path.pub`` (SubjectPublicKeyInfo PEM). Neither file is ever overwritten."""
    public_path = public_key_path(path)
    for existing in (path, public_path):
        if existing.exists():
            raise KeyFileError(
                "{existing} exists; a key file is never overwritten", field, existing=existing
            )
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PrivateKey,
    )

    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _create(path, private_pem, 0o600, field)
    try:
        _create(public_path, public_pem, 0o644, field)
    except KeyFileError:
        path.unlink()
        raise
    return key


def public_key_path(path: Path) -> Path:
    return path.with_name(path.name + ".pub")


def _create(path: Path, content: bytes, mode: int, field: str) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise KeyFileError(
            "{path} exists; a key file is never overwritten", field, path=path
        ) from None
    except OSError as exc:
        raise KeyFileError(
            "cannot write {path}: {strerror}", field, path=path, strerror=exc.strerror
        ) from None
    with os.fdopen(descriptor, "wb") as out:
        out.write(content)


def load_private_key(path: Path, field: str) -> Ed25519PrivateKey:
    from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PrivateKey,
    )

    try:
        key = serialization.load_pem_private_key(_read(path, field), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # garbled, encrypted, unknown
        raise KeyFileError(
            "{path} holds no readable private key (PKCS#8 PEM, not encrypted)", field, path=path
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError("{path} holds no Ed25519 private key", field, path=path)
    return key


def load_public_key(path: Path, field: str) -> Ed25519PublicKey:
    from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PublicKey,
    )

    try:
        key = serialization.load_pem_public_key(_read(path, field))
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(
            "{path} holds no readable public key (SubjectPublicKeyInfo PEM)", field, path=path
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError("{path} holds no Ed25519 public key", field, path=path)
    return key


def _read(path: Path, field: str) -> bytes:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(
            "cannot read {path}: {strerror}", field, path=path, strerror=exc.strerror
        ) from None
    if b"-----BEGIN" not in pem:
        raise KeyFileError("{path} is not a PEM key file", field, path=path)
    return pem


def fingerprint(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# --- the signed head ---------------------------------------------------------------------------


def chain_step(head: str, event: CheckedEvent) -> str:
    return hashlib.sha256(
        f"{head}|{event.position}|{event.person}|{event.version}|{event.hash}".encode()
    ).hexdigest()


def signed_message(position: int, head: str, created_at: str) -> bytes:
    return f"{MESSAGE_FORMAT}\n{position}\n{head}\n{created_at}\n".encode()


def sign(key: Ed25519PrivateKey, position: int, head: str, created_at: str) -> Checkpoint:
    signature = key.sign(signed_message(position, head, created_at))
    return Checkpoint(position, head, signature, fingerprint(key.public_key()), created_at)


def is_signed_by(checkpoint: Checkpoint, key: Ed25519PublicKey) -> bool:
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415

    try:
        key.verify(
            checkpoint.signature,
            signed_message(checkpoint.position, checkpoint.head, checkpoint.created_at),
        )
    except InvalidSignature:
        return False
    return True


# --- checking a store against its checkpoints -------------------------------------------------


class Audit:
    """Compares the stored events, seen in position order, with what the checkpoints recorded.

    ``see`` is called for every stored event (of one person, when the audit is of one person);
    ``finish`` reports recorded events never seen and checks that the records still hash to
    the signed heads.
    """

    def __init__(
        self,
        store: LedgerRecorder,
        checkpoints: list[Checkpoint],
        person: str | None,
        public_key: Ed25519PublicKey | None,
    ) -> None:
        self.store = store
        self.checkpoints = checkpoints
        self.latest = checkpoints[-1]
        self.person = person
        self.findings: list[Finding] = []
        self._signatures(public_key)
        self._recorded: Iterator[CheckedEvent] = store.iter_checked(self.latest.position, person)
        self._next = next(self._recorded, None)
        self._recorded_heads: dict[str, str] = {}  # person -> the recorded hash of its last event
        self._head = GENESIS_HASH
        self._pending_heads = iter(checkpoints)
        self._due = next(self._pending_heads, None)

    def _signatures(self, key: Ed25519PublicKey | None) -> None:
        if key is None:
            return
        latest = self.latest
        if latest.key_fingerprint != fingerprint(key):
            self._found(
                latest.position,
                None,
                Phrase(
                    "the latest checkpoint (position {position}) was signed with another key "
                    "({key_fingerprint})",
                    {"position": latest.position, "key_fingerprint": latest.key_fingerprint},
                ),
            )
        elif not is_signed_by(latest, key):
            self._found(
                latest.position,
                None,
                Phrase(
                    "the signature of the latest checkpoint (position {position}) does not "
                    "verify: the checkpoint was changed",
                    {"position": latest.position},
                ),
            )

    def _found(self, position: int, person: str | None, reason: Phrase, version: int = 0) -> None:
        self.findings.append(Finding(position, person, version, reason))

    def see(self, position: int, oid: UUID, version: int, record: CaseRecord | None) -> None:
        """One stored event (``record`` is None when it does not decode: the chain check has
        reported it already)."""
        while self._next is not None and self._next.position < position:
            self._missing(self._advance())
        if self._next is not None and self._next.position == position:
            self._compare(self._advance(), oid, version, record)
        elif position <= self.latest.position:
            person = record.decode().person if record is not None else None
            self._found(
                position,
                person,
                Phrase(
                    "added after checkpoint {position} was signed, at a position it recorded no "
                    "event at",
                    {"position": self.latest.position},
                ),
                version,
            )

    def finish(self) -> list[Finding]:
        while self._next is not None:
            self._missing(self._advance())
        if self.person is not None:
            # The records of one person cannot be hashed alone: hash them all.
            for event in self.store.iter_checked(self.latest.position):
                self._chain(event)
        self._chain_ends()
        return self.findings

    def _advance(self) -> CheckedEvent:
        event = self._next
        assert event is not None  # noqa: S101 - callers check
        self._next = next(self._recorded, None)
        if self.person is None:
            self._chain(event)
        return event

    def _chain(self, event: CheckedEvent) -> None:
        while self._due is not None and self._due.position < event.position:
            self._compare_head(self._due)
            self._due = next(self._pending_heads, None)
        self._head = chain_step(self._head, event)

    def _chain_ends(self) -> None:
        while self._due is not None:
            self._compare_head(self._due)
            self._due = next(self._pending_heads, None)

    def _compare_head(self, checkpoint: Checkpoint) -> None:
        if self._head != checkpoint.head:
            self._found(
                checkpoint.position,
                None,
                Phrase(
                    "the events recorded by checkpoint {position} no longer hash to its signed "
                    "head: the checkpoint's records were changed",
                    {"position": checkpoint.position},
                ),
            )
            self._head = checkpoint.head  # judge the next checkpoint on its own records

    def _missing(self, event: CheckedEvent) -> None:
        self._recorded_heads[event.person] = event.hash
        self._found(
            event.position,
            event.person,
            Phrase(
                "missing: checkpoint {position} recorded version {version} of {person} at this "
                "position",
                {
                    "position": self.latest.position,
                    "version": event.version,
                    "person": event.person,
                },
            ),
            event.version,
        )

    def _compare(
        self, event: CheckedEvent, oid: UUID, version: int, record: CaseRecord | None
    ) -> None:
        previous = self._recorded_heads.get(event.person, GENESIS_HASH)
        self._recorded_heads[event.person] = event.hash
        if record is None:
            return
        if stream_id(event.person) != oid or event.version != version:
            self._found(
                event.position,
                event.person,
                Phrase(
                    "replaced: checkpoint {position} recorded version {version} of {person} at "
                    "this position",
                    {
                        "position": self.latest.position,
                        "version": event.version,
                        "person": event.person,
                    },
                ),
                event.version,
            )
        elif record.hash != event.hash:
            # An event whose own content is unchanged differs only because an earlier event of
            # its stream was rewritten and the chain recomputed: that earlier one is reported.
            relinked = msgspec.structs.replace(record, prev_hash=previous)
            if relinked.expected_hash() != event.hash:
                self._found(
                    event.position,
                    event.person,
                    Phrase(
                        "rewritten: its content differs from what checkpoint {position} recorded",
                        {"position": self.latest.position},
                    ),
                    event.version,
                )
