"""A wallet: one Ed25519 key that signs contract calls. It never leaves the client."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civicledger.core import address as addresses
from civicledger.core import keyfile
from civicledger.core.crypto import KeyPair
from civicledger.core.tx import MAX_TTL_MS, NONCE_MAX, SignedTransaction, Transaction


@dataclass(frozen=True, slots=True)
class Wallet:
    keypair: KeyPair

    @classmethod
    def create(cls) -> Wallet:
        """A wallet with a fresh random key."""
        return cls(KeyPair.generate())

    @classmethod
    def load(cls, path: str | Path, passphrase: str) -> Wallet:
        """Open a key file (as written by ``save`` or ``civic keys``); KeyFileError if it won't."""
        return cls(keyfile.unseal(Path(path).read_bytes(), passphrase))

    def save(self, path: str | Path, passphrase: str, *, label: str = "") -> None:
        """Write the key sealed under ``passphrase`` (Argon2id + SecretBox), as ``civic keys``
        does: readable by the owner only (0600), and atomically (the old file or the new)."""
        keyfile.write(path, keyfile.seal(self.keypair, passphrase, label=label))

    @property
    def public_key(self) -> bytes:
        return self.keypair.public_key

    @property
    def address(self) -> bytes:
        return addresses.address_of(self.keypair.public_key)

    @property
    def address_text(self) -> str:
        return addresses.to_text(self.address)

    def sign(self, chain_id: str, contract: str, method: str, args: Mapping[str, Any], *,
             now_ms: int, ttl_ms: int = 10 * 60 * 1000,
             cosigners: Sequence[Wallet] = ()) -> SignedTransaction:
        """Build and sign a call; co-signers sign it too (all keys must be at hand)."""
        if not 0 < ttl_ms <= MAX_TTL_MS:
            raise ValueError(f"ttl_ms must be 1 to {MAX_TTL_MS}")
        tx = Transaction(chain_id, contract, method, dict(args), self.public_key,
                         os.urandom(NONCE_MAX // 2), now_ms + ttl_ms,
                         tuple(c.public_key for c in cosigners))
        return tx.sign(self.keypair, *(c.keypair for c in cosigners))

    def __repr__(self) -> str:
        return f"Wallet({self.address_text})"
