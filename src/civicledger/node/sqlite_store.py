"""The embedded store: one SQLite file in WAL mode.

Durability: ``synchronous=FULL`` makes every commit fsync the write-ahead log
before it returns, so a block reported committed survives ``kill -9`` and
power loss. A crash mid-commit leaves the previous block as the head: SQLite
rolls the unfinished transaction back when the file is next opened.

Threads: ``commit`` and ``put_meta`` use the write connection, one call at a
time; every thread reads through its own connection (WAL lets readers run
beside the writer). The executing thread (``claim_writer``) also keeps a cache
of state values as of the last commit; ``commit`` updates it, possibly from a
commit thread while the executor reads it (the executor overlays the block
being committed, so it never relies on the cache for a key that block wrote).
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from civicledger.core import encoding
from civicledger.core import tx as txs
from civicledger.core.block import MAX_BLOCK_BYTES, BlockHeader, Receipt
from civicledger.core.errors import StoreError
from civicledger.node.store import CommitBatch, Store, StoredBlock, TopicHit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    header BLOB NOT NULL,
    txs BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS receipts (
    height INTEGER NOT NULL, idx INTEGER NOT NULL, receipt BLOB NOT NULL,
    PRIMARY KEY (height, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS txs (
    id BLOB PRIMARY KEY, height INTEGER NOT NULL, idx INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS topics (
    topic BLOB NOT NULL, height INTEGER NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (topic, height, idx)
) WITHOUT ROWID;
"""
_SIGNERS = """
CREATE TABLE signers (address BLOB PRIMARY KEY, public_key BLOB NOT NULL) WITHOUT ROWID
"""
"""Who holds which key: each address that signed a committed transaction (valid signatures).
Created apart from ``_SCHEMA``: a chain from before it existed is indexed when first opened."""
CACHE_ENTRIES = 1_000_000
"""State entries the committing thread keeps in memory (about 100 MB at most)."""
SIGNED_CACHE = 200_000
"""Signer addresses the committing thread remembers as indexed (about 20 MB at most)."""


class SqliteStore(Store):
    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = str(path)
        self.memory = self.path == ":memory:"
        self._local = threading.local()
        self._owner = threading.get_ident()
        self._readonly = readonly
        self._writer = self._connect()
        if not readonly:
            self._writer.executescript(_SCHEMA)
            self._index_signers()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._cache: dict[bytes, bytes | None] = {}
        """State values as of the last commit, for the committing thread's reads."""
        self._signed: set[bytes] = set()
        """Addresses known to be in the signers table (most blocks' signers have signed before)."""

    def _index_signers(self) -> None:
        """Create the signers table, filled from the chain so far, in one transaction."""
        conn = self._writer
        try:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'signers'").fetchone():
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(_SIGNERS)
                heights = [h for (h,) in conn.execute("SELECT DISTINCT height FROM txs ORDER BY height")]
                for height in heights:
                    signed = [i for (i,) in conn.execute("SELECT idx FROM txs WHERE height = ?", (height,))]
                    (data,) = conn.execute("SELECT txs FROM blocks WHERE height = ?", (height,)).fetchone()
                    envelopes = encoding.decode(data, max_size=MAX_BLOCK_BYTES)
                    conn.executemany("INSERT OR IGNORE INTO signers VALUES (?, ?)", [
                        pair for i in signed for pair in _signers(envelopes[i])])
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot index the signers of {self.path}: {exc}") from exc

    def claim_writer(self) -> None:
        """Make the calling thread the one that executes blocks (and reads through the cache)."""
        self._owner = threading.get_ident()

    def _connect(self) -> sqlite3.Connection:
        try:
            if self._readonly:
                conn = sqlite3.connect(
                    f"file:{self.path}?mode=ro", uri=True, check_same_thread=False,
                    isolation_level=None,
                )
            else:
                conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        return conn

    def _conn(self) -> sqlite3.Connection:
        """The calling thread's read connection (the writer's for an in-memory store).

        Reads never use the file's write connection, so the executing thread can read
        committed state while another thread commits the previous block.
        """
        if self.memory:
            return self._writer
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _one(self, sql: str, args: tuple[object, ...]) -> tuple[object, ...] | None:
        try:
            return self._conn().execute(sql, args).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"read failed: {exc}") from exc

    # -- state ---------------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        own = self.memory or threading.get_ident() == self._owner
        if own:
            try:
                return self._cache[key]
            except KeyError:
                pass
        row = self._one("SELECT value FROM state WHERE key = ?", (key,))
        value = None if row is None else row[0]
        if own:
            self._remember(key, value)
        return value

    def _remember(self, key: bytes, value: bytes | None) -> None:
        cache = self._cache
        if len(cache) >= CACHE_ENTRIES:
            for stale in list(itertools.islice(cache, CACHE_ENTRIES // 4)):
                del cache[stale]
        cache[key] = value

    def scan(self, start: bytes, end: bytes, limit: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        # SQLite reads the primary key's b-tree from ``start`` and stops after ``limit`` rows.
        sql = "SELECT key, value FROM state WHERE key >= ? AND key < ? ORDER BY key"
        args: tuple[object, ...] = (start, end)
        if limit is not None:
            sql, args = sql + " LIMIT ?", (start, end, max(limit, 0))
        try:
            rows = self._conn().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"scan failed: {exc}") from exc
        yield from rows

    # -- chain ---------------------------------------------------------------

    def head(self) -> BlockHeader | None:
        row = self._one("SELECT header FROM blocks ORDER BY height DESC LIMIT 1", ())
        return None if row is None else _header(row[0])

    def header(self, height: int) -> BlockHeader | None:
        row = self._one("SELECT header FROM blocks WHERE height = ?", (height,))
        return None if row is None else _header(row[0])

    def block(self, height: int) -> StoredBlock | None:
        row = self._one("SELECT header, txs FROM blocks WHERE height = ?", (height,))
        if row is None:
            return None
        header, txs = row
        envelopes = encoding.decode(txs, max_size=MAX_BLOCK_BYTES)
        try:
            rows = self._conn().execute(
                "SELECT receipt FROM receipts WHERE height = ? ORDER BY idx", (height,)
            ).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"read failed: {exc}") from exc
        return StoredBlock(_header(header), envelopes, tuple(_receipt(r[0]) for r in rows))

    def receipt(self, height: int, index: int) -> Receipt | None:
        row = self._one("SELECT receipt FROM receipts WHERE height = ? AND idx = ?", (height, index))
        return None if row is None else _receipt(row[0])

    def height_of_hash(self, block_hash: bytes) -> int | None:
        row = self._one("SELECT height FROM blocks WHERE hash = ?", (block_hash,))
        return None if row is None else row[0]

    def locate(self, tx_id: bytes) -> tuple[int, int] | None:
        row = self._one("SELECT height, idx FROM txs WHERE id = ?", (tx_id,))
        return None if row is None else (row[0], row[1])

    def committed(self, tx_ids: Iterable[bytes]) -> set[bytes]:
        ids = list(tx_ids)
        found: set[bytes] = set()
        conn = self._conn()
        try:
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))
                found.update(
                    row[0] for row in conn.execute(f"SELECT id FROM txs WHERE id IN ({marks})", chunk)
                )
        except sqlite3.Error as exc:
            raise StoreError(f"read failed: {exc}") from exc
        return found

    def topic_hits(
        self, topic: bytes, *, before: tuple[int, int] | None, limit: int
    ) -> list[TopicHit]:
        height, index = before if before is not None else (2**62, 0)
        try:
            rows = self._conn().execute(
                "SELECT height, idx FROM topics WHERE topic = ? AND (height, idx) < (?, ?) "
                "ORDER BY height DESC, idx DESC LIMIT ?",
                (topic, height, index, limit),
            ).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"read failed: {exc}") from exc
        return [TopicHit(h, i) for h, i in rows]

    def public_key(self, address: bytes) -> bytes | None:
        row = self._one("SELECT public_key FROM signers WHERE address = ?", (address,))
        return None if row is None else row[0]

    def commit(self, batch: CommitBatch) -> None:
        header = batch.header
        conn = self._writer
        topic_rows = {
            (topic, header.height, index)
            for index, receipt in enumerate(batch.receipts)
            for event in receipt.events
            for topic in event.topics
        }
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT INTO blocks (height, hash, header, txs) VALUES (?, ?, ?, ?)",
                    (header.height, header.hash, header.encode(), encoding.encode(list(batch.envelopes))),
                )
                conn.executemany(
                    "INSERT INTO receipts (height, idx, receipt) VALUES (?, ?, ?)",
                    [(header.height, i, r.encode()) for i, r in enumerate(batch.receipts)],
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO txs (id, height, idx) VALUES (?, ?, ?)",
                    [(tx_id, header.height, i) for i, tx_id in enumerate(batch.tx_ids) if tx_id],
                )
                upserts = [(k, v) for k, v in batch.writes.items() if v is not None]
                deletes = [(k,) for k, v in batch.writes.items() if v is None]
                conn.executemany(
                    "INSERT INTO state (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    upserts,
                )
                conn.executemany("DELETE FROM state WHERE key = ?", deletes)
                conn.executemany("INSERT OR IGNORE INTO topics VALUES (?, ?, ?)", sorted(topic_rows))
                signed = self._signed
                conn.executemany("INSERT OR IGNORE INTO signers VALUES (?, ?)",
                                 [pair for pair in batch.signers if pair[0] not in signed])
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._cache.clear()
            raise StoreError(f"commit of block {header.height} failed: {exc}") from exc
        for key, value in batch.writes.items():
            self._remember(key, value)
        if len(self._signed) > SIGNED_CACHE:
            self._signed.clear()
        self._signed.update(address for address, _ in batch.signers)

    # -- meta ------------------------------------------------------------------

    def get_meta(self, key: str) -> bytes | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row[0]

    def put_meta(self, key: str, value: bytes) -> None:
        try:
            self._writer.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
        except sqlite3.Error as exc:
            raise StoreError(f"write failed: {exc}") from exc

    @contextmanager
    def reading(self) -> Iterator[None]:
        conn = self._conn()
        if conn is self._writer or conn.in_transaction:
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._writer.close()


def _signers(envelope: bytes) -> list[tuple[bytes, bytes]]:
    stx = txs.decode(envelope)
    return list(zip(stx.signer_addresses, stx.public_keys, strict=True))


def _receipt(data: bytes) -> Receipt:
    return Receipt.from_value(encoding.decode(data, max_size=MAX_BLOCK_BYTES))


def _header(data: bytes) -> BlockHeader:
    return BlockHeader.from_value(encoding.decode(data, max_size=4096))
