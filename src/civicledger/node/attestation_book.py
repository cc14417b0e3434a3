"""A peer's record of the attestations it has seen: who signed which block.

Kept beside the store, in its own SQLite file (``attestations.db`` in the data
directory): attestations arrive on the NATS thread while the commit thread
writes blocks, and they are evidence about the chain, not part of it. Losing
the file loses nothing that cannot be read again from the attestation stream.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from civicledger.core.attestation import Attestation
from civicledger.core.errors import StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attestations (
    height INTEGER NOT NULL, org TEXT NOT NULL, attestation BLOB NOT NULL,
    PRIMARY KEY (height, org)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


class AttestationBook:
    def __init__(self, path: Path | str) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the attestation book {path}: {exc}") from exc
        self._lock = threading.Lock()

    def put(self, attestation: Attestation, *, stream_seq: int | None = None) -> None:
        """Keep ``attestation`` (the first one an organisation sent for a height stays)."""
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.execute("INSERT OR IGNORE INTO attestations VALUES (?, ?, ?)",
                                 (attestation.height, attestation.org, attestation.encode()))
                if stream_seq is not None:
                    self._db.execute("INSERT INTO cursor VALUES ('stream', ?) ON CONFLICT(name) "
                                     "DO UPDATE SET seq = max(seq, excluded.seq)", (stream_seq,))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StoreError(f"cannot record an attestation: {exc}") from exc

    def at(self, height: int) -> list[Attestation]:
        with self._lock:
            rows = self._db.execute("SELECT attestation FROM attestations WHERE height = ? "
                                    "ORDER BY org", (height,)).fetchall()
        return [Attestation.decode(row[0]) for row in rows]

    def stream_seq(self) -> int:
        """The attestation stream's sequence read up to (where to resume)."""
        with self._lock:
            row = self._db.execute("SELECT seq FROM cursor WHERE name = 'stream'").fetchone()
        return row[0] if row else 0

    def close(self) -> None:
        with self._lock:
            self._db.close()
