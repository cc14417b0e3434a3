"""Hashing with domain separation, and Ed25519 keys (libsodium via PyNaCl).

Every hash names its purpose: ``digest(tag, data)`` is SHA-256 over the tag, a
zero byte and the data, so a transaction id can never be mistaken for a block
hash or a Merkle node.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions
import nacl.signing

from civicledger.core.errors import BadSignature

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
SEED_SIZE = 32
HASH_SIZE = 32


def digest(tag: bytes, data: bytes) -> bytes:
    """SHA-256 of ``tag || 0x00 || data``."""
    return hashlib.sha256(tag + b"\x00" + data).digest()


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True if ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``.

    libsodium releases the GIL, so threads verify in parallel on every core.
    """
    if len(signature) != SIGNATURE_SIZE or len(public_key) != PUBLIC_KEY_SIZE:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class KeyPair:
    """An Ed25519 key pair; ``seed`` is the 32-byte secret."""

    seed: bytes
    public_key: bytes

    @classmethod
    def generate(cls) -> KeyPair:
        return cls.from_seed(bytes(nacl.signing.SigningKey.generate()))

    @classmethod
    def from_seed(cls, seed: bytes) -> KeyPair:
        if len(seed) != SEED_SIZE:
            raise BadSignature(f"a key seed is {SEED_SIZE} bytes, not {len(seed)}")
        return cls(seed, bytes(nacl.signing.SigningKey(seed).verify_key))

    def sign(self, message: bytes) -> bytes:
        return nacl.signing.SigningKey(self.seed).sign(message).signature

    def __repr__(self) -> str:  # never print the secret
        return f"KeyPair(public_key={self.public_key.hex()})"
