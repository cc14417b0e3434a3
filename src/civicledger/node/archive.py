"""Export, import, backup and check: what an operator does with a ledger besides running it.

Export file (version 1)::

    magic "CIVICLEDGER-EXPORT" 0x00, version (4 bytes, big-endian)
    record*   each: length (8 bytes, big-endian) then that many bytes of canonical encoding
      ["genesis", genesis document (JSON bytes), head height]
      ["block", encoded header, [envelope, ...], [encoded receipt, ...]]   heights 0 .. head
      ["end", number of blocks, head hash]

The trailer makes a file cut short at a record boundary refusable: every block is
checked anyway, but a shorter, valid chain would otherwise import silently.

Import goes into an *empty* data directory and builds the store in a scratch file
beside its final name, replaying every block through ``executor.apply_block`` as it
goes (so every signature, receipt and root is checked, and state and indexes are the
replay's own). Only a file that checked out to its trailer is synced and renamed into
place, in one step: a tampered, truncated or foreign file leaves nothing behind — no
ledger file, no partial chain.

Backup copies a live store with SQLite's online backup API in one step, inside one
read transaction: a consistent snapshot as of one committed block, taken beside a
running node (WAL lets it keep committing). A step-wise copy would restart every time
the node commits, so it is not used.

Check is the quick look (no replay): SQLite's integrity check, the header chain's
linkage, and a spot check of the indexes in a few blocks spread over the chain.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from civicledger.contracts.framework import Registry
from civicledger.core import encoding
from civicledger.core.block import MAX_BLOCK_BYTES, BlockHeader, Receipt
from civicledger.core.errors import ArchiveError, CivicError, InvalidBlock, StoreError
from civicledger.core.tx import decode as decode_tx
from civicledger.node.executor import Genesis, apply_block, execute_genesis
from civicledger.node.node import GENESIS_META
from civicledger.node.sqlite_store import SqliteStore
from civicledger.node.store import Store, StoredBlock
from civicledger.node.verifier import Verifier

MAGIC = b"CIVICLEDGER-EXPORT\x00"
VERSION = 1
MAX_RECORD = 2 * MAX_BLOCK_BYTES + 4096
"""Largest record read back: a block's envelopes and its receipts, each bounded as a store's."""
SPOT_BLOCKS = 16
"""Blocks whose index rows ``check`` looks at (spread over the chain, the newest included)."""

Progress = Callable[[int, int], None]
"""Called with (done, total) as long work advances."""


def _nothing(done: int, total: int) -> None:
    return None


# -- export ------------------------------------------------------------------------------


def export_chain(store: Store, out: BinaryIO, progress: Progress = _nothing) -> int:
    """Write ``store``'s chain (as of one committed head) to ``out``; the head's height."""
    with store.reading():
        head = store.head()
        genesis = store.get_meta(GENESIS_META)
        if head is None or genesis is None:
            raise StoreError("the store holds no chain", code="no_chain")
        out.write(MAGIC + struct.pack(">I", VERSION))
        _write(out, ["genesis", genesis, head.height])
        for height in range(head.height + 1):
            block = store.block(height)
            if block is None:
                raise StoreError(f"block {height} is missing from the store")
            _write(out, ["block", block.header.encode(), list(block.envelopes),
                         [r.encode() for r in block.receipts]])
            progress(height, head.height)
        _write(out, ["end", head.height + 1, head.hash])
    return head.height


def _write(out: BinaryIO, value: object) -> None:
    data = encoding.encode(value)
    out.write(struct.pack(">Q", len(data)) + data)


# -- import ------------------------------------------------------------------------------


def import_chain(source: BinaryIO, db: Path, registry: Registry, *,
                 progress: Progress = _nothing) -> tuple[Genesis, BlockHeader]:
    """Build the ledger file ``db`` (which must not exist) from an export, checking each block.

    Returns the genesis document and the head. On any fault raises (``ArchiveError`` for
    the file's form, ``InvalidBlock`` for a block that does not re-execute) and leaves no
    ``db`` behind.
    """
    if db.exists():
        raise StoreError(f"{db} exists already: import only into an empty data directory",
                         code="already_initialised")
    scratch = db.with_name(db.name + ".importing")
    _remove(scratch)
    store = SqliteStore(scratch, durable=False)
    verifier = Verifier()
    try:
        genesis, head = _replay(_records(source), store, registry, verifier, progress)
        store.close()
        if any(Path(str(scratch) + suffix).exists() for suffix in ("-wal", "-shm")):
            raise StoreError(f"{scratch} did not close cleanly")
        _sync(scratch)
        os.replace(scratch, db)
        _sync(db.parent)
        return genesis, head
    except BaseException:
        store.close()
        _remove(scratch)
        raise
    finally:
        verifier.close()


def _replay(records: Iterator[tuple[object, ...]], store: SqliteStore, registry: Registry,
            verifier: Verifier, progress: Progress) -> tuple[Genesis, BlockHeader]:
    first = next(records, None)
    if first is None or len(first) != 3 or first[0] != "genesis" or type(first[1]) is not bytes \
            or type(first[2]) is not int:
        raise ArchiveError("the file does not start with its genesis document")
    genesis = Genesis.from_json(first[1])
    top = first[2]
    executed = execute_genesis(registry, store, genesis)
    prev: BlockHeader | None = None
    for record in records:
        if record[0] == "end":
            if prev is None or len(record) != 3 or record[1:] != (prev.height + 1, prev.hash):
                raise ArchiveError("the file's trailer does not match its blocks")
            if next(records, None) is not None:
                raise ArchiveError("the file goes on after its trailer")
            return genesis, prev
        stored = _block(record)
        if prev is None:  # block 0: the genesis document's own block
            if stored.header != executed.header or stored.envelopes or stored.receipts:
                raise InvalidBlock("block 0 does not match the genesis document", height=0,
                                   field="genesis")
            store.put_meta(GENESIS_META, genesis.to_json())
        else:
            executed = apply_block(registry, store, prev, stored, verifier=verifier,
                                   committed=store.committed)
        store.commit(executed)
        prev = executed.header
        progress(prev.height, max(top, prev.height))
    raise ArchiveError("the file ends without its trailer (cut short?)")


def _block(record: tuple[object, ...]) -> StoredBlock:
    try:
        kind, header, envelopes, receipts = record
        if kind != "block" or type(header) is not bytes or type(envelopes) is not tuple \
                or type(receipts) is not tuple \
                or any(type(item) is not bytes for item in (*envelopes, *receipts)):
            raise ValueError("not [\"block\", header, [envelope...], [receipt...]] of bytes")
        return StoredBlock(
            BlockHeader.from_value(encoding.decode(header, max_size=4096)),
            envelopes,
            tuple(Receipt.from_value(encoding.decode(r, max_size=MAX_BLOCK_BYTES)) for r in receipts),
        )
    except (CivicError, ValueError, TypeError) as exc:
        raise ArchiveError(f"a block record is not readable: {exc}") from None


def _records(source: BinaryIO) -> Iterator[tuple[object, ...]]:
    head = source.read(len(MAGIC) + 4)
    if len(head) < len(MAGIC) + 4 or head[: len(MAGIC)] != MAGIC:
        raise ArchiveError("not a CivicLedger export file")
    (version,) = struct.unpack(">I", head[len(MAGIC):])
    if version != VERSION:
        raise ArchiveError(f"export file version {version}; this node reads version {VERSION}")
    while True:
        prefix = source.read(8)
        if not prefix:
            return
        if len(prefix) < 8:
            raise ArchiveError("the file is cut short inside a record's length")
        (size,) = struct.unpack(">Q", prefix)
        if size > MAX_RECORD:
            raise ArchiveError(f"a record claims {size} bytes, more than {MAX_RECORD}")
        data = source.read(size)
        if len(data) < size:
            raise ArchiveError("the file is cut short inside a record")
        try:
            value = encoding.decode(data, max_size=MAX_RECORD)
        except CivicError as error:
            raise ArchiveError(f"a record is not canonical: {error.message}") from None
        if type(value) is not tuple or not value or type(value[0]) is not str:
            raise ArchiveError("a record is not a tagged array")
        yield value


# -- backup ------------------------------------------------------------------------------


def backup(db: Path, dest: Path) -> int:
    """Copy the ledger file ``db`` to ``dest`` (which must not exist) as one consistent
    snapshot, whether or not a node runs on it; the copy's head height.

    The copy is made under a scratch name, integrity-checked, synced, then renamed.
    """
    if dest.exists():
        raise StoreError(f"{dest} exists already; back up to a new path", code="exists_already")
    scratch = dest.with_name(dest.name + ".partial")
    _remove(scratch)
    try:
        source = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            source.execute("PRAGMA busy_timeout=10000")
            target = sqlite3.connect(scratch)
            try:
                source.backup(target)  # one step: one read transaction, one committed head
                (verdict,) = target.execute("PRAGMA quick_check").fetchone()
                if verdict != "ok":
                    raise StoreError(f"the copy does not check out: {verdict}")
                row = target.execute("SELECT MAX(height) FROM blocks").fetchone()
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                target.close()
        finally:
            source.close()
        _sync(scratch)
        os.replace(scratch, dest)
        _sync(dest.parent)
    except sqlite3.Error as exc:
        _remove(scratch)
        raise StoreError(f"backup of {db} failed: {exc}") from exc
    except BaseException:
        _remove(scratch)
        raise
    return -1 if row is None or row[0] is None else int(row[0])


# -- check -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckReport:
    height: int
    """The head's height (-1 for an empty store)."""
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_store(db: Path, *, progress: Progress = _nothing, limit: int = 50) -> CheckReport:
    """SQLite's integrity check, the header chain's linkage, and an index spot check.

    Reads only (it runs beside a node); a replay of every block is ``civic verify``.
    """
    problems: list[str] = []
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        conn.execute("PRAGMA busy_timeout=10000")
        try:
            problems += [row[0] for row in conn.execute(f"PRAGMA integrity_check({limit})")
                         if row[0] != "ok"]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return CheckReport(-1, (f"the file cannot be read: {exc}",))
    store = SqliteStore(db, readonly=True, check=False)
    try:
        with store.reading():
            head = store.head()
            height = -1 if head is None else head.height
            problems += _linkage(store, height, progress)
            problems += _spot_check(store, height)
    except CivicError as error:
        problems.append(f"{error.code}: {error.message}")
    finally:
        store.close()
    return CheckReport(height, tuple(problems[:limit]))


def _linkage(store: SqliteStore, top: int, progress: Progress) -> list[str]:
    problems: list[str] = []
    prev: BlockHeader | None = None
    for height in range(top + 1):
        header = store.header(height)
        if header is None:
            problems.append(f"block {height} is missing")
        elif header.height != height:
            problems.append(f"block {height}'s header says height {header.height}")
        elif prev is not None and header.prev_hash != prev.hash:
            problems.append(f"block {height} does not link to block {height - 1}")
        elif store.height_of_hash(header.hash) != height:
            problems.append(f"block {height}'s stored hash is not its header's")
        elif prev is not None and header.chain_id != prev.chain_id:
            problems.append(f"block {height} is for chain {header.chain_id!r}")
        prev = header
        if len(problems) >= 50:
            break
        if height % 256 == 0 or height == top:
            progress(height, top)
    return problems


def _spot_check(store: SqliteStore, top: int) -> list[str]:
    """In a few blocks spread over the chain: each transaction is indexed, its envelope reads
    back from its position with its id, and each event's topics are indexed."""
    problems: list[str] = []
    if top < 1:
        return problems
    picks = sorted({max(1, top * i // SPOT_BLOCKS) for i in range(1, SPOT_BLOCKS + 1)})
    for height in picks:
        block = store.block(height)
        if block is None:
            continue  # reported by the linkage check
        if len(block.receipts) != len(block.envelopes):
            problems.append(f"block {height}: {len(block.receipts)} receipts for "
                            f"{len(block.envelopes)} transactions")
            continue
        for index, receipt in enumerate(block.receipts):
            where = store.locate(receipt.tx_id)
            if where is None:
                problems.append(f"block {height}: transaction {index} is not in the txs index")
                continue
            if where == (height, index):
                envelope = store.envelope(receipt.tx_id)
                if envelope is None or envelope != block.envelopes[index] \
                        or decode_tx(envelope).id != receipt.tx_id:
                    problems.append(f"block {height}: the index reads transaction {index} wrongly")
            for event in receipt.events:
                for topic in event.topics:
                    hits = store.topic_hits(topic, before=(height, index + 1), limit=1)
                    if not hits or (hits[0].height, hits[0].index) != (height, index):
                        problems.append(f"block {height}: transaction {index}'s topic "
                                        f"{topic.hex()} is not indexed")
    return problems


# -- files -------------------------------------------------------------------------------


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
