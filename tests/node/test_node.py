"""Integration: a real node on a real SQLite file, from submission to durable commit."""

from __future__ import annotations

import sqlite3

import pytest

from civicledger.core import merkle
from civicledger.core.block import Receipt
from civicledger.core.errors import (
    BadSignature,
    Busy,
    EncodingError,
    Expired,
    Replayed,
    UnknownCall,
)
from civicledger.core.tx import SignedTransaction, Transaction
from civicledger.node.audit import verify_chain
from civicledger.node.executor import execute_block
from civicledger.node.node import Node, find_transaction, initialise
from civicledger.node.ordering import Batch, SoloOrderer, wall_clock_ms
from civicledger.node.sqlite_store import SqliteStore
from civicledger.node.verifier import Verifier
from tests.node.conftest import CHAIN, make_genesis


@pytest.fixture
def db(tmp_path, accounts, registry):
    """The path of a ledger holding only the genesis block."""
    path = tmp_path / "ledger.db"
    store = SqliteStore(path)
    initialise(store, registry, make_genesis(accounts))
    store.close()
    return path


@pytest.fixture
def store(db):
    store = SqliteStore(db)
    yield store
    store.close()


@pytest.fixture
def node(store, registry):
    node = Node(store, registry, SoloOrderer(max_wait_ms=5)).start()
    yield node
    node.stop()


def send(node, accounts, sender, recipient, amount):
    stx = accounts.transfer(sender, recipient, amount).sign(accounts.keys[sender])
    return node.submit(stx.envelope()).result(timeout=10)


def balance(node, accounts, i):
    return node.query("token", "balance", {"currency": "CIV", "account": accounts.address(i)})[
        "spendable"
    ]


def test_transfer_commits_and_is_provable(node, accounts):
    stx = accounts.transfer(1, 2, 250).sign(accounts.keys[1])
    committed = node.submit(stx.envelope()).result(timeout=10)
    assert committed.receipt.ok
    assert balance(node, accounts, 1) == 750
    assert balance(node, accounts, 2) == 1250
    record = find_transaction(node.store, stx.id, proof=True)
    assert record.receipt == committed.receipt
    assert merkle.verify(record.envelope, record.proof, record.header.tx_root)
    assert not merkle.verify(record.envelope + b"x", record.proof, record.header.tx_root)


def test_one_account_many_concurrent_transactions(node, accounts):
    envelopes = [accounts.transfer(1, 2, 1).sign(accounts.keys[1]).envelope() for _ in range(300)]
    futures = node.submit_many(envelopes)
    assert all(f.result(timeout=30).receipt.ok for f in futures)
    assert balance(node, accounts, 1) == 700


def test_failed_transaction_gets_receipt_and_changes_nothing(node, accounts):
    stx = accounts.transfer(1, 2, 5_000).sign(accounts.keys[1])
    committed = node.submit(stx.envelope()).result(timeout=10)
    assert committed.receipt.status == "insufficient_funds"
    assert balance(node, accounts, 1) == 1000
    assert balance(node, accounts, 2) == 1000


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda a: a.transfer(1, 2, 1).sign(a.keys[2]).envelope(), BadSignature),
        (lambda a: a.transfer(1, 2, 1, chain="other").sign(a.keys[1]).envelope(), Expired.__base__),
        (lambda a: a.transfer(1, 2, 1, expires=wall_clock_ms() - 1).sign(a.keys[1]).envelope(),
         Expired),
        (lambda a: b"\x93garbage", EncodingError),
        (lambda a: Transaction(CHAIN, "token", "steal", {}, a.keys[1].public_key, b"n" * 16,
                               wall_clock_ms() + 1000).sign(a.keys[1]).envelope(), UnknownCall),
    ],
    ids=["bad-signature", "wrong-chain", "expired", "malformed", "unknown-method"],
)
def test_admission_refuses_stateless_faults(node, accounts, make, error):
    height = node.head.height
    with pytest.raises(error):
        node.submit(make(accounts))
    assert node.head.height == height
    assert balance(node, accounts, 1) == 1000


def test_replay_is_refused(node, accounts):
    envelope = accounts.transfer(1, 2, 10).sign(accounts.keys[1]).envelope()
    node.submit(envelope).result(timeout=10)
    with pytest.raises(Replayed):
        node.submit(envelope)
    assert balance(node, accounts, 1) == 990


def test_full_queue_answers_busy(store, accounts, registry):
    node = Node(store, registry, SoloOrderer(max_pending=2))  # not started: nothing drains
    envelopes = [accounts.transfer(1, 2, 1).sign(accounts.keys[1]).envelope() for _ in range(3)]
    results = node.submit_many(envelopes)
    assert all(isinstance(r, Busy) for r in results)
    node.submit_many(envelopes[:2])
    with pytest.raises(Busy):
        node.submit(envelopes[2])


def test_restart_resumes_and_verify_passes(db, accounts, registry):
    store = SqliteStore(db)
    with Node(store, registry, SoloOrderer(max_wait_ms=5)) as node:
        for i in range(5):
            send(node, accounts, 1, 3, 10 + i)
        head = node.head
    store.close()
    store = SqliteStore(db)
    assert store.head() == head
    with Node(store, registry, SoloOrderer(max_wait_ms=5)) as node:
        send(node, accounts, 3, 1, 1)
        assert node.head.height == head.height + 1
    report = verify_chain(store, registry)
    assert report.ok, report.problem
    assert report.transactions == 6
    store.close()


def test_verify_detects_tampering(db, store, accounts, registry):
    with Node(store, registry, SoloOrderer(max_wait_ms=5)) as node:
        send(node, accounts, 1, 2, 10)
    # Someone edits a stored receipt directly in the database: the replay must notice.
    receipt = store.block(1).receipts[0]
    forged = Receipt(receipt.tx_id, "forged", receipt.message, receipt.events, receipt.result)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE receipts SET receipt = ? WHERE height = 1 AND idx = 0",
                     (forged.encode(),))
    report = verify_chain(store, registry)
    assert not report.ok
    assert report.height == 1


def test_account_history_is_newest_first_and_pages(node, accounts):
    for amount in (5, 6, 7):
        send(node, accounts, 1, 2, amount)
    send(node, accounts, 3, 4, 1)  # concerns neither 1 nor 2
    entries = node.history(accounts.address(2))
    amounts = [e.events[0].data["amount"] for e in entries]
    assert amounts == [7, 6, 5]
    assert all(e.events[0].name == "Transferred" and e.receipt.ok for e in entries)
    older = node.history(accounts.address(2), before=(entries[0].height, entries[0].index), limit=1)
    assert [e.events[0].data["amount"] for e in older] == [6]
    assert node.history(accounts.address(5)) == []


def test_history_refuses_an_out_of_range_limit(node, accounts):
    for limit in (0, 501):
        with pytest.raises(UnknownCall) as refused:
            node.history(accounts.address(1), limit=limit)
        assert refused.value.code == "invalid_argument"


def test_admission_hands_its_checked_args_to_the_executor(tmp_path, accounts, registry) -> None:
    from civicledger.core.tx import decode as decode_tx

    store = SqliteStore(tmp_path / "n.db")
    initialise(store, registry, make_genesis(accounts))
    seen = []
    original = registry.apply

    def spy(*args, **kwargs):
        seen.append(kwargs.get("checked"))
        return original(*args, **kwargs)

    registry.apply = spy
    stx = accounts.transfer(1, 2, 5).sign(accounts.keys[1])
    with Node(store, registry, SoloOrderer(max_wait_ms=1)) as node:
        assert node.submit(stx.envelope()).result(timeout=10).receipt.ok
    assert seen == [{"currency": "CIV", "to": accounts.address(2), "amount": 5, "memo": ""}]
    assert decode_tx(stx.envelope()).checked_args is None  # a decoded block's args are checked anew
    store.close()


def test_the_node_learns_each_signers_key_and_only_from_valid_signatures(store, accounts, registry):
    transfer = accounts.transfer(1, 2, 5)
    cosigned = Transaction(transfer.chain_id, transfer.contract, transfer.method, transfer.args,
                           transfer.signer, transfer.nonce, transfer.expires,
                           (accounts.keys[4].public_key,)).sign(accounts.keys[1], accounts.keys[4])
    good = accounts.transfer(2, 1, 1).sign(accounts.keys[2])
    forged = SignedTransaction(good.tx, good.body, good.id, (bytes(64),))  # not account 2's signature
    forged_by_3 = accounts.transfer(3, 1, 1).sign(accounts.keys[2])  # signed with another's key
    executed = execute_block(registry, store, store.head(), Batch(wall_clock_ms(), "solo", (
        cosigned, forged_by_3, forged)), verifier=Verifier(), committed=store.committed)
    assert dict(executed.signers) == {accounts.address(1): accounts.keys[1].public_key,
                                      accounts.address(4): accounts.keys[4].public_key}
    store.commit(executed)
    assert store.public_key(accounts.address(4)) == accounts.keys[4].public_key
    assert store.public_key(accounts.address(3)) is None and store.public_key(accounts.address(2)) is None


def test_a_chain_from_before_the_signers_index_is_indexed_when_opened(db, accounts, registry):
    store = SqliteStore(db)
    with Node(store, registry, SoloOrderer(max_wait_ms=5)) as node:
        send(node, accounts, 1, 3, 10)
        send(node, accounts, 2, 3, 10)
        assert node.public_key(accounts.address(2)) == accounts.keys[2].public_key
    store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE signers")  # as the file was before the index existed
    store = SqliteStore(db)
    assert store.public_key(accounts.address(1)) == accounts.keys[1].public_key
    assert store.public_key(accounts.address(2)) == accounts.keys[2].public_key
    assert store.public_key(accounts.address(3)) is None, "3 only received"
    store.close()
