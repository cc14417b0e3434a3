"""The transaction index: every receipt answers by its id; only consumed ids are committed."""

from __future__ import annotations

import sqlite3

import pytest

from civicledger.core import merkle
from civicledger.core.block import BlockHeader, Receipt
from civicledger.core.tx import SignedTransaction
from civicledger.node.executor import execute_block
from civicledger.node.node import find_transaction, initialise
from civicledger.node.ordering import Batch, wall_clock_ms
from civicledger.node.sqlite_store import SqliteStore
from civicledger.node.store import CommitBatch
from civicledger.node.verifier import Verifier
from tests.node.conftest import make_genesis


@pytest.fixture
def store(tmp_path, accounts, registry):
    store = SqliteStore(tmp_path / "ledger.db")
    initialise(store, registry, make_genesis(accounts))
    yield store
    store.close()


@pytest.fixture
def verifier():
    verifier = Verifier()
    yield verifier
    verifier.close()


def block(store, registry, verifier, *stxs, time_ms=None):
    executed = execute_block(registry, store, store.head(), Batch(
        time_ms if time_ms is not None else wall_clock_ms(), "solo", stxs),
        verifier=verifier, committed=store.committed)
    store.commit(executed)
    return executed


def test_a_transaction_that_expired_in_the_queue_answers_with_its_receipt(store, accounts,
                                                                         registry, verifier):
    now = wall_clock_ms()
    stx = accounts.transfer(1, 2, 5, expires=now + 1_000).sign(accounts.keys[1])
    block(store, registry, verifier, stx, time_ms=now + 5_000)  # ordered after it expired
    record = find_transaction(store, stx.id)
    assert (record.height, record.index, record.receipt.status) == (1, 0, "expired")
    assert record.envelope == stx.envelope() and record.proof is None
    assert store.committed([stx.id]) == set()  # not consumed: replay protection ignores it


def test_a_badly_signed_id_can_still_be_committed_and_then_is_final(store, accounts, registry,
                                                                   verifier):
    good = accounts.transfer(1, 2, 5).sign(accounts.keys[1])
    forged = SignedTransaction(good.tx, good.body, good.id, (bytes(64),))  # same id: the body's hash
    block(store, registry, verifier, forged)
    assert find_transaction(store, good.id).receipt.status == "bad_signature"
    assert store.committed([good.id]) == set()
    block(store, registry, verifier, good)
    record = find_transaction(store, good.id, proof=True)
    assert (record.height, record.receipt.status) == (2, "ok")
    assert merkle.verify(record.envelope, record.proof, record.header.tx_root)
    assert store.committed([good.id]) == {good.id}
    again = block(store, registry, verifier, good, forged)  # a replay and a forgery: both refused
    assert [r.status for r in again.receipts] == ["replayed", "bad_signature"]
    assert find_transaction(store, good.id).height == 2  # the consumed row is never replaced


@pytest.mark.parametrize("count", [1, 15, 16, 17, 300])
@pytest.mark.parametrize("size", [0, 255, 256, 65_535, 65_536])
def test_an_envelope_is_read_from_its_position_in_the_block(tmp_path, count, size):
    store = SqliteStore(tmp_path / "layout.db")
    head = BlockHeader("c", 0, bytes(32), 0, "p", 0, bytes(32), bytes(32), bytes(32))
    envelopes = tuple(bytes([i % 251]) * (size + i % 3) for i in range(count))
    ids = tuple(i.to_bytes(32, "big") for i in range(count))
    store.commit(CommitBatch(head, envelopes, tuple(Receipt(i, "ok") for i in ids), {}, ids))
    assert [store.envelope(i) for i in ids] == list(envelopes)
    store.close()


def test_an_index_from_before_receipts_were_indexed_is_rebuilt_on_open(tmp_path, accounts,
                                                                        registry, verifier):
    path = tmp_path / "old.db"
    store = SqliteStore(path)
    initialise(store, registry, make_genesis(accounts))
    now = wall_clock_ms()
    ok = accounts.transfer(1, 2, 5).sign(accounts.keys[1])
    late = accounts.transfer(1, 2, 6, expires=now + 1).sign(accounts.keys[1])
    block(store, registry, verifier, ok, late, time_ms=now + 5_000)
    store.close()
    with sqlite3.connect(path) as conn:  # the index as it was: consumed ids only, no positions
        conn.execute("DROP TABLE txs")
        conn.execute("CREATE TABLE txs (id BLOB PRIMARY KEY, height INTEGER NOT NULL, "
                     "idx INTEGER NOT NULL) WITHOUT ROWID")
        conn.execute("INSERT INTO txs VALUES (?, 1, 0)", (ok.id,))
    store = SqliteStore(path)
    assert store.committed([ok.id, late.id]) == {ok.id}
    assert find_transaction(store, late.id).receipt.status == "expired"
    assert find_transaction(store, ok.id).envelope == ok.envelope()
    store.close()
