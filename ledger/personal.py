"""Personal data under a key per person (crypto-shredding).

``personal`` (CPR, name, birth date) is never stored in clear: it is sealed with AES-GCM under
a 256-bit key that belongs to the person and lives in a table apart from the events. The stream
id is bound in as associated data, so a sealed blob cannot be moved to another case. Destroying
the key (``ledger forget``) makes every sealed copy unreadable while the events, their hashes
and the chains stay exactly as they were.
"""

from __future__ import annotations

import os
from uuid import UUID

import msgspec

from ledger.events import Personal

# cryptography is loaded by the functions below, when an event carries personal data: an
# import without any loads none of it.

NONCE_BYTES = 12
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Personal)


def new_key() -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, stream: UUID, personal: Personal) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, _encoder.encode(personal), stream.bytes)


def unseal(key: bytes, stream: UUID, sealed: bytes) -> Personal | None:
    """The personal data, or None when the blob does not open under this key."""
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

    try:
        plain = AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], stream.bytes)
    except (InvalidTag, ValueError):
        return None
    return _decoder.decode(plain)
