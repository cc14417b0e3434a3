"""Export and import of a chain, online backup, and the integrity check."""

from __future__ import annotations

import io
import sqlite3
import threading

import pytest

from civicledger.core import encoding
from civicledger.core.errors import ArchiveError, InvalidBlock
from civicledger.node.archive import MAGIC, backup, check_store, export_chain, import_chain
from civicledger.node.audit import verify_chain
from civicledger.node.node import Node, initialise
from civicledger.node.ordering import SoloOrderer
from civicledger.node.sqlite_store import SqliteStore
from tests.node.conftest import make_genesis


@pytest.fixture
def db(tmp_path, accounts, registry):
    """A ledger of a few blocks, one of them holding a refused (badly signed) transaction."""
    path = tmp_path / "live" / "ledger.db"
    path.parent.mkdir()
    store = SqliteStore(path)
    initialise(store, registry, make_genesis(accounts))
    with Node(store, registry, SoloOrderer(max_wait_ms=1)) as node:
        for amount in (10, 20, 30, 40):
            stx = accounts.transfer(1 + amount % 3, 4, amount).sign(accounts.keys[1 + amount % 3])
            assert node.submit(stx.envelope()).result(timeout=10).receipt.ok
    store.close()
    return path


def exported(db) -> bytes:
    store = SqliteStore(db)
    out = io.BytesIO()
    export_chain(store, out)
    store.close()
    return out.getvalue()


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir())


def test_an_export_imports_into_the_same_chain(db, tmp_path, registry):
    target = tmp_path / "copy" / "ledger.db"
    target.parent.mkdir()
    genesis, head = import_chain(io.BytesIO(exported(db)), target, registry)
    live, copy = SqliteStore(db), SqliteStore(target)
    assert head == live.head() == copy.head() and genesis.chain_id == head.chain_id
    for table in ("state", "txs", "topics", "signers"):
        assert list(copy.rows(table)) == list(live.rows(table))
    assert verify_chain(copy, registry).ok
    live.close()
    copy.close()
    assert leftovers(target.parent) == ["ledger.db"]


def tamper(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) >= 1
    return data.replace(old, new, 1)


def test_a_tampered_export_is_refused_and_leaves_nothing(db, tmp_path, registry):
    data = exported(db)
    store = SqliteStore(db)
    receipt = store.block(2).receipts[0]
    envelope = store.block(3).envelopes[0]
    store.close()
    forged_receipt = tamper(receipt.encode(), b"ok", b"no")
    target = tmp_path / "copy" / "ledger.db"
    target.parent.mkdir()
    cases = {
        "receipt": (tamper(data, receipt.encode(), forged_receipt), InvalidBlock),
        "envelope": (tamper(data, envelope, envelope[:-1] + bytes([envelope[-1] ^ 1])), InvalidBlock),
        "cut short": (data[: len(data) - 60], ArchiveError),
        "trailer dropped": (data[: data.rindex(b"\x93\xa3end") - 8], ArchiveError),
        "not an export": (b"SQLite format 3\x00" + data, ArchiveError),
        "another version": (MAGIC + b"\x00\x00\x00\x02" + data[len(MAGIC) + 4:], ArchiveError),
    }
    for name, (bad, error) in cases.items():
        with pytest.raises(error):
            import_chain(io.BytesIO(bad), target, registry)
        assert leftovers(target.parent) == [], name


def test_import_refuses_an_existing_ledger(db, registry):
    from civicledger.core.errors import StoreError

    with pytest.raises(StoreError) as refused:
        import_chain(io.BytesIO(exported(db)), db, registry)
    assert refused.value.code == "already_initialised"


def test_a_backup_is_consistent_while_the_node_commits(db, tmp_path, accounts, registry):
    store = SqliteStore(db)
    node = Node(store, registry, SoloOrderer(max_wait_ms=1)).start()
    stop = threading.Event()

    def load():
        while not stop.is_set():
            stx = accounts.transfer(2, 3, 1).sign(accounts.keys[2])
            node.submit(stx.envelope()).result(timeout=10)

    worker = threading.Thread(target=load)
    worker.start()
    try:
        copies = [tmp_path / f"backup{i}.db" for i in range(3)]
        heights = [backup(db, copy) for copy in copies]
    finally:
        stop.set()
        worker.join()
        node.stop()
        store.close()
    for copy, height in zip(copies, heights, strict=True):
        restored = SqliteStore(copy)
        assert restored.head().height == height
        report = verify_chain(restored, registry)
        assert report.ok, (report.problem, report.counts)
        restored.close()


def test_check_passes_a_sound_store_and_names_faults(db, registry):
    assert check_store(db).ok and check_store(db).height == 4
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM topics WHERE height = 2")
    report = check_store(db)
    assert not report.ok and any("topic" in p and "block 2" in p for p in report.problems)
    with sqlite3.connect(db) as conn:
        header = conn.execute("SELECT header FROM blocks WHERE height = 3").fetchone()[0]
        value = list(encoding.decode(header, max_size=4096))
        value[3] = bytes(32)  # prev_hash
        conn.execute("UPDATE blocks SET header = ? WHERE height = 3", (encoding.encode(value),))
    assert any("block 3 does not link" in p for p in check_store(db).problems)
