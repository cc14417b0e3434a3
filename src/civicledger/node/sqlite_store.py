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

The transaction index (``txs``) holds every transaction recorded in a block, with
where its envelope lies inside the block's body, so ``envelope`` reads one without
decoding the block. A transaction's id is the hash of its body, not of its signatures
(``core.tx``), so one id can reach blocks more than once: refused with a bad signature,
then included correctly signed; refused as ``expiry_too_far``, then included inside its
window; or replayed after it was committed. The rule: an id's row names the block that
*consumed* it (``consumed = 1``: it passed signature, window and replay checks and ran),
and a consumed row is never replaced; until then the row names its latest refusal
(``consumed = 0``), which a later inclusion replaces. Replay protection (``committed``)
counts consumed rows only; a lookup (``locate``, ``envelope``) answers for every row, so
a client whose transaction expired in the queue learns that from its receipt.

On opening, the store checks that the newest block's transactions are in that index
(``check_head_index``): a node must not trust, for replay protection, an index that lost
the rows it is about to rely on. ``civic verify`` checks all of it against a replay.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
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
CREATE TABLE IF NOT EXISTS state (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS topics (
    topic BLOB NOT NULL, height INTEGER NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (topic, height, idx)
) WITHOUT ROWID;
"""
_TXS = """
CREATE TABLE txs (
    id BLOB PRIMARY KEY, height INTEGER NOT NULL, idx INTEGER NOT NULL,
    consumed INTEGER NOT NULL, start INTEGER NOT NULL, size INTEGER NOT NULL
) WITHOUT ROWID
"""
"""Every transaction recorded in a block: where (``height``, ``idx``), whether it consumed its
id, and its envelope's bytes ``start`` .. ``start + size`` inside ``blocks.txs``. Created apart
from ``_SCHEMA``: a chain from before it (consumed ids only, no positions) is re-indexed when
first opened."""
_UPSERT_TX = (
    "INSERT INTO txs (id, height, idx, consumed, start, size) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(id) DO UPDATE SET height = excluded.height, idx = excluded.idx, "
    "consumed = excluded.consumed, start = excluded.start, size = excluded.size "
    "WHERE txs.consumed = 0"
)
"""A consumed row stays; a refusal's row gives way to the id's next appearance."""
INDEXES = ("txs", "topics", "signers")
"""The tables derived from the blocks alone (``civic verify --repair-indexes`` rebuilds them)."""
_ROWS = {
    "state": "SELECT key, value FROM state ORDER BY key",
    "txs": "SELECT id, height, idx, consumed, start, size FROM txs ORDER BY id",
    "topics": "SELECT topic, height, idx FROM topics ORDER BY topic, height, idx",
    "signers": "SELECT address, public_key FROM signers ORDER BY address",
}
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
    def __init__(self, path: str | Path, *, readonly: bool = False, check: bool = True,
                 durable: bool = True) -> None:
        """Open (or create) the store at ``path``; ``check=False`` skips ``check_head_index``
        (for the audit and repair commands, which check everything themselves).

        ``durable=False`` commits without fsync: only for a file that is not a ledger yet
        (an import builds one, then syncs it once before moving it into place)."""
        self._durable = durable
        self.path = str(path)
        self.memory = self.path == ":memory:"
        self._local = threading.local()
        self._owner = threading.get_ident()
        self._readonly = readonly
        self._writer = self._connect()
        if not readonly:
            self._writer.executescript(_SCHEMA)
            self._index_txs()
            self._index_signers()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._cache: dict[bytes, bytes | None] = {}
        """State values as of the last commit, for the committing thread's reads."""
        self._signed: set[bytes] = set()
        """Addresses known to be in the signers table (most blocks' signers have signed before)."""
        if check and not self.memory:
            self.check_head_index()

    def _index_txs(self) -> None:
        """Create the transaction index; re-index a chain whose index predates it, in one
        transaction (its rows were exactly the consumed ids, so those stay consumed)."""
        conn = self._writer
        try:
            columns = [row[1] for row in conn.execute("PRAGMA table_info(txs)")]
            if "consumed" in columns:
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                if columns:
                    conn.execute("ALTER TABLE txs RENAME TO txs_consumed")
                conn.execute(_TXS)
                if columns:
                    for (height,) in conn.execute("SELECT height FROM blocks ORDER BY height").fetchall():
                        consumed = {(i, tx_id) for tx_id, i in conn.execute(
                            "SELECT id, idx FROM txs_consumed WHERE height = ?", (height,))}
                        (data,) = conn.execute("SELECT txs FROM blocks WHERE height = ?",
                                               (height,)).fetchone()
                        ids = [_receipt(r).tx_id for (r,) in conn.execute(
                            "SELECT receipt FROM receipts WHERE height = ? ORDER BY idx", (height,))]
                        envelopes = encoding.decode(data, max_size=MAX_BLOCK_BYTES)
                        conn.executemany(_UPSERT_TX, _tx_rows(
                            height, envelopes, [tx_id if (i, tx_id) in consumed else b""
                                                for i, tx_id in enumerate(ids)], ids))
                    conn.execute("DROP TABLE txs_consumed")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot index the transactions of {self.path}: {exc}") from exc

    def check_head_index(self) -> None:
        """Refuse a store whose transaction index lacks the newest block's transactions.

        Replay protection asks that index whether an id was consumed; a row lost (a damaged
        or edited file) would let a committed transaction execute twice. This checks the
        newest block only (a few milliseconds); ``civic verify`` checks every row.
        """
        head = self._one("SELECT height FROM blocks ORDER BY height DESC LIMIT 1", ())
        if head is None:
            return
        (height,) = head
        receipts = [_receipt(r) for (r,) in self._conn().execute(
            "SELECT receipt FROM receipts WHERE height = ? ORDER BY idx", (height,))]
        rows = {}
        for i in range(0, len(receipts), 500):
            chunk = [r.tx_id for r in receipts[i : i + 500]]
            rows.update((tx_id, (h, idx, consumed)) for tx_id, h, idx, consumed in self._conn().execute(
                f"SELECT id, height, idx, consumed FROM txs WHERE id IN ({','.join('?' * len(chunk))})",
                chunk))
        bad = [index for index, r in enumerate(receipts)
               if r.tx_id not in rows or (r.ok and rows[r.tx_id] != (height, index, 1))]
        if bad:
            raise StoreError(
                f"the transaction index of {self.path} lacks {len(bad)} of the {len(receipts)} "
                f"transactions of block {height} (the first at index {bad[0]}); replay protection "
                "cannot rely on it: run `civic verify --repair-indexes`", code="index_damaged")

    def _index_signers(self) -> None:
        """Create the signers table, filled from the chain so far, in one transaction."""
        conn = self._writer
        try:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'signers'").fetchone():
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(_SIGNERS)
                heights = [h for (h,) in conn.execute(
                    "SELECT DISTINCT height FROM txs WHERE consumed = 1 ORDER BY height")]
                for height in heights:
                    signed = [i for (i,) in conn.execute(
                        "SELECT idx FROM txs WHERE height = ? AND consumed = 1", (height,))]
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
                conn.execute("PRAGMA synchronous=FULL" if self._durable else "PRAGMA synchronous=OFF")
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

    def envelope(self, tx_id: bytes) -> bytes | None:
        row = self._one("SELECT height, start, size FROM txs WHERE id = ?", (tx_id,))
        if row is None:
            return None
        height, start, size = row
        try:
            with self._conn().blobopen("blocks", "txs", height, readonly=True) as blob:  # rowid: height
                blob.seek(start)
                return blob.read(size)
        except sqlite3.Error as exc:
            raise StoreError(f"read failed: {exc}") from exc

    def rows(self, table: str) -> Iterator[tuple[object, object]]:
        """Every row of ``state`` or of an index, as (key, value) in ascending key order."""
        try:
            cursor = self._conn().execute(_ROWS[table])
            if table == "txs":
                for tx_id, *rest in cursor:
                    yield tx_id, tuple(rest)
            elif table == "topics":
                for row in cursor:
                    yield row, "indexed"
            else:
                yield from cursor
        except sqlite3.Error as exc:
            raise StoreError(f"read failed: {exc}") from exc

    def replace_indexes(self, source: Store) -> None:
        """Replace every index with ``source``'s (a replay of this chain), in one transaction."""
        conn = self._writer
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for table in INDEXES:
                    conn.execute(f"DELETE FROM {table}")  # noqa: S608 - a fixed table name
                conn.executemany("INSERT INTO txs VALUES (?, ?, ?, ?, ?, ?)",
                                 ((k, *v) for k, v in source.rows("txs")))
                conn.executemany("INSERT INTO topics VALUES (?, ?, ?)",
                                 (k for k, _ in source.rows("topics")))
                conn.executemany("INSERT INTO signers VALUES (?, ?)", source.rows("signers"))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot rebuild the indexes of {self.path}: {exc}") from exc
        self._signed.clear()

    def committed(self, tx_ids: Iterable[bytes]) -> set[bytes]:
        ids = list(tx_ids)
        found: set[bytes] = set()
        conn = self._conn()
        try:
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))
                found.update(row[0] for row in conn.execute(
                    f"SELECT id FROM txs WHERE consumed = 1 AND id IN ({marks})", chunk))
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
        body = encoding.encode(list(batch.envelopes))
        tx_rows = _tx_rows(header.height, batch.envelopes, batch.tx_ids,
                           [r.tx_id for r in batch.receipts], len(body))
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT INTO blocks (height, hash, header, txs) VALUES (?, ?, ?, ?)",
                    (header.height, header.hash, header.encode(), body),
                )
                conn.executemany(
                    "INSERT INTO receipts (height, idx, receipt) VALUES (?, ?, ?)",
                    [(header.height, i, r.encode()) for i, r in enumerate(batch.receipts)],
                )
                conn.executemany(_UPSERT_TX, tx_rows)
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


def _tx_rows(height: int, envelopes: Sequence[bytes], consumed: Sequence[bytes],
             ids: Sequence[bytes], body_size: int | None = None) -> list[tuple[object, ...]]:
    """The ``txs`` rows of one block, in block order (the order ``_UPSERT_TX`` needs).

    An envelope's position inside the block body follows from the encoding: the body is a
    MessagePack array of ``bin`` items, each a 2, 3 or 5-byte head and the bytes.
    """
    count = len(envelopes)
    cursor = 1 if count < 16 else 3 if count < 2**16 else 5
    rows = []
    for index, (envelope, tx_id) in enumerate(zip(envelopes, ids, strict=True)):
        size = len(envelope)
        cursor += 2 if size < 2**8 else 3 if size < 2**16 else 5
        rows.append((tx_id, height, index, 1 if consumed[index] else 0, cursor, size))
        cursor += size
    if body_size is not None and cursor != body_size:
        raise StoreError(f"block {height}: envelope positions do not add up to its body")
    return rows


def _signers(envelope: bytes) -> list[tuple[bytes, bytes]]:
    stx = txs.decode(envelope)
    return list(zip(stx.signer_addresses, stx.public_keys, strict=True))


def _receipt(data: bytes) -> Receipt:
    return Receipt.from_value(encoding.decode(data, max_size=MAX_BLOCK_BYTES))


def _header(data: bytes) -> BlockHeader:
    return BlockHeader.from_value(encoding.decode(data, max_size=4096))
