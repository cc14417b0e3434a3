"""Re-executing stored blocks (apply_block) and auditing a live store against its replay."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from civicledger.core import encoding
from civicledger.core.block import Receipt
from civicledger.core.errors import InvalidBlock, StoreError
from civicledger.node.audit import verify_chain
from civicledger.node.executor import apply_block
from civicledger.node.node import Node, initialise
from civicledger.node.ordering import SoloOrderer
from civicledger.node.sqlite_store import SqliteStore
from civicledger.node.store import StoredBlock
from civicledger.node.verifier import Verifier
from tests.node.conftest import make_genesis


@pytest.fixture
def db(tmp_path, accounts, registry):
    """A ledger with three blocks of transfers (one transaction each)."""
    path = tmp_path / "ledger.db"
    store = SqliteStore(path)
    initialise(store, registry, make_genesis(accounts))
    with Node(store, registry, SoloOrderer(max_wait_ms=1)) as node:
        for amount in (10, 20, 30):
            stx = accounts.transfer(1, 2, amount).sign(accounts.keys[1])
            assert node.submit(stx.envelope()).result(timeout=10).receipt.ok
    store.close()
    return path


@pytest.fixture
def verifier():
    verifier = Verifier()
    yield verifier
    verifier.close()


@pytest.fixture
def store(db):
    store = SqliteStore(db, check=False)
    yield store
    store.close()


def replay_state(store, registry, height):
    """A scratch store holding ``store``'s chain up to ``height`` (re-executed)."""
    scratch = SqliteStore(":memory:")
    initialise(scratch, registry, make_genesis_of(store))
    verifier = Verifier()
    for h in range(1, height + 1):
        scratch.commit(apply_block(registry, scratch, scratch.head(), store.block(h),
                                   verifier=verifier, committed=scratch.committed))
    verifier.close()
    return scratch


def make_genesis_of(store):
    from civicledger.node.executor import Genesis
    from civicledger.node.node import GENESIS_META

    return Genesis.from_json(store.get_meta(GENESIS_META))


# -- apply_block -----------------------------------------------------------------------------


def test_apply_block_reproduces_a_stored_block(store, registry, verifier):
    scratch = replay_state(store, registry, 2)
    stored = store.block(3)
    executed = apply_block(registry, scratch, scratch.head(), stored, verifier=verifier,
                           committed=scratch.committed)
    assert executed.header == stored.header
    assert executed.envelopes == stored.envelopes
    assert [r.encode() for r in executed.receipts] == [r.encode() for r in stored.receipts]
    scratch.close()


@pytest.mark.parametrize("field", ["chain_id", "height", "prev_hash", "tx_count", "tx_root",
                                   "receipt_root", "state_root"])
def test_apply_block_names_the_header_field_that_differs(store, registry, verifier, field):
    scratch = replay_state(store, registry, 2)
    stored = store.block(3)
    old = getattr(stored.header, field)
    new = old + 1 if isinstance(old, int) else old + "x" if isinstance(old, str) else bytes(32)
    tampered = StoredBlock(dataclasses.replace(stored.header, **{field: new}), stored.envelopes,
                           stored.receipts)
    with pytest.raises(InvalidBlock) as refused:
        apply_block(registry, scratch, scratch.head(), tampered, verifier=verifier,
                    committed=scratch.committed)
    # (time and proposer are the block's inputs; a changed one shows in the next prev_hash)
    assert refused.value.field == field
    assert refused.value.height == 3 and refused.value.code == "invalid_block"
    assert f"block 3: {refused.value.field} differs" in refused.value.message
    scratch.close()


def test_apply_block_names_a_receipt_and_an_envelope_that_differ(store, registry, verifier):
    scratch = replay_state(store, registry, 2)
    stored = store.block(3)
    r = stored.receipts[0]
    forged = StoredBlock(stored.header, stored.envelopes,
                         (Receipt(r.tx_id, "forged", r.message, r.events, r.result),))
    garbled = StoredBlock(stored.header, (b"\x01" + stored.envelopes[0],), stored.receipts)
    with pytest.raises(InvalidBlock) as refused:
        apply_block(registry, scratch, scratch.head(), forged, verifier=verifier,
                    committed=scratch.committed)
    assert refused.value.field == "receipt[0]"
    assert "stored 'forged', re-executed 'ok'" in refused.value.message
    with pytest.raises(InvalidBlock) as refused:
        apply_block(registry, scratch, scratch.head(), garbled, verifier=verifier,
                    committed=scratch.committed)
    assert refused.value.field == "envelope[0]"
    scratch.close()


# -- the live store against the replay -----------------------------------------------------


def test_a_clean_store_verifies(store, registry):
    report = verify_chain(store, registry)
    assert report.ok and not report.problem and report.counts == {}
    assert (report.height, report.transactions) == (3, 3)


def test_an_inflated_balance_in_the_state_table_is_reported(db, store, registry):
    with sqlite3.connect(db) as conn:
        key, value = conn.execute(
            "SELECT key, value FROM state WHERE instr(key, 'balance') ORDER BY key").fetchone()
        inflated = encoding.encode(encoding.decode(value, max_size=64) + 10**12)
        conn.execute("UPDATE state SET value = ? WHERE key = ?", (inflated, key))
    report = verify_chain(store, registry)
    assert not report.ok and not report.problem  # the chain itself is fine
    assert report.counts == {"state": 1}
    (difference,) = report.differences
    assert (difference.table, difference.key) == ("state", key)
    assert (difference.live, difference.replayed) == (inflated, value)
    repaired = verify_chain(store, registry, repair_indexes=True)  # state is never repaired
    assert not repaired.ok and not repaired.repaired
    assert store.get(key) == inflated


def test_a_deleted_index_row_is_reported_and_repaired(db, store, accounts, registry):
    first = store.block(1).receipts[0].tx_id
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM txs WHERE id = ?", (first,))
        conn.execute("DELETE FROM topics WHERE height = 2")
    assert store.committed([first]) == set()  # what a double spend would rely on
    report = verify_chain(store, registry)
    assert not report.ok
    assert report.counts["txs"] == 1 and report.counts["topics"] >= 1
    missing = next(d for d in report.differences if d.table == "txs")
    assert missing.key == first and missing.live is None and missing.replayed[:3] == (1, 0, 1)
    repaired = verify_chain(store, registry, repair_indexes=True)
    assert repaired.ok and repaired.repaired
    assert store.committed([first]) == {first}
    assert verify_chain(store, registry).counts == {}


def test_a_node_refuses_a_store_whose_newest_block_is_not_indexed(db, accounts, registry):
    store = SqliteStore(db)
    newest = store.block(3).receipts[0].tx_id
    envelope = store.envelope(newest)
    store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM txs WHERE id = ?", (newest,))
    with pytest.raises(StoreError) as refused:
        SqliteStore(db)
    assert refused.value.code == "index_damaged"
    assert "civic verify --repair-indexes" in refused.value.message
    store = SqliteStore(db, check=False)
    assert verify_chain(store, registry, repair_indexes=True).ok
    store.close()
    store = SqliteStore(db)  # opens again; the committed envelope stays committed
    with Node(store, registry, SoloOrderer(max_wait_ms=1)) as node:
        with pytest.raises(Exception) as replayed:
            node.submit(envelope).result(timeout=10)
        assert getattr(replayed.value, "code", None) == "replayed"
    store.close()
