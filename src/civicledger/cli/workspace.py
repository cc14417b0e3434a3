"""A node's data directory: its store, key files, genesis and the lock that keeps one writer.

    DATA/ledger.db      the SQLite store
    DATA/genesis.json   the genesis document
    DATA/keys/NAME.json passphrase-encrypted key files
    DATA/node.lock      held by the one process running the node
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from civicledger.core.crypto import KeyPair
from civicledger.core.errors import CivicError, NotFound
from civicledger.core.keyfile import public_info, seal, unseal
from civicledger.core.keyfile import write as write_keyfile

KEY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class WorkspaceError(CivicError):
    code = "workspace"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / "ledger.db"

    @property
    def genesis(self) -> Path:
        return self.root / "genesis.json"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def gateway_url(self) -> Path:
        """Written by ``civic up`` while its gateway serves, so other commands can reach it."""
        return self.root / "gateway.url"

    def initialised(self) -> bool:
        return self.db.exists()

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the node lock; refuse if another process runs a node on this directory."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "node.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WorkspaceError(
                    f"a node is already running on {self.root}; stop it first "
                    "(or read with commands that do not write)",
                    code="node_running",
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- keys ------------------------------------------------------------------

    def key_path(self, name: str) -> Path:
        if not KEY_NAME.fullmatch(name):
            raise WorkspaceError(f"key name '{name}' may use letters, digits, _ . - only",
                                 code="bad_key_name")
        return self.keys / f"{name}.json"

    def save_key(self, name: str, keypair: KeyPair, passphrase: str, *, fast: bool = False,
                 overwrite: bool = False) -> Path:
        path = self.key_path(name)
        if path.exists() and not overwrite:
            raise WorkspaceError(f"a key named '{name}' exists already", code="key_exists")
        self.keys.mkdir(parents=True, exist_ok=True)
        write_keyfile(path, seal(keypair, passphrase, label=name, **(_FAST if fast else {})))
        return path

    def key_file(self, name: str) -> bytes:
        path = self.key_path(name)
        if not path.exists():
            raise NotFound(f"no key named '{name}' in {self.keys}")
        return path.read_bytes()

    def load_key(self, name: str, passphrase: str) -> KeyPair:
        return unseal(self.key_file(name), passphrase)

    def key_names(self) -> list[str]:
        if not self.keys.exists():
            return []
        return sorted(p.stem for p in self.keys.glob("*.json"))

    def key_info(self, name: str) -> dict[str, str]:
        """The clear part of a key file: address, public key, label."""
        info = public_info(self.key_file(name))
        return {"name": name, "address": info.address, "public_key": info.public_key.hex()}


def _fast_limits() -> dict[str, int]:
    import nacl.pwhash.argon2id as argon2id

    return {"opslimit": argon2id.OPSLIMIT_INTERACTIVE, "memlimit": argon2id.MEMLIMIT_INTERACTIVE}


_FAST = _fast_limits()
