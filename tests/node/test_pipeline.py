"""Block h+1 executes while block h commits: it sees h's writes and ids, and a failed
commit of h stops everything after it."""

from __future__ import annotations

import threading

import pytest

from civicledger.core.errors import NodeFault, StoreError
from civicledger.node.node import Node, initialise
from civicledger.node.ordering import SoloOrderer
from civicledger.node.sqlite_store import SqliteStore
from tests.node.conftest import make_genesis


class GatedStore(SqliteStore):
    """Holds each block's commit until the test opens the gate; can fail a chosen height."""

    def __init__(self, path, fail_at: int | None = None) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)
        self.fail_at = fail_at

    def commit(self, batch) -> None:
        if batch.header.height > 0:
            self.entered.release()
            assert self.gate.wait(timeout=10)
            if batch.header.height == self.fail_at:
                raise StoreError("disk full")
        super().commit(batch)


@pytest.fixture
def gated(tmp_path, accounts, registry):
    def make(fail_at: int | None = None) -> GatedStore:
        store = GatedStore(tmp_path / "ledger.db", fail_at)
        initialise(store, registry, make_genesis(accounts, amount=100))
        return store

    return make


def test_next_block_sees_the_block_being_committed(gated, accounts, registry):
    store = gated()
    orderer = SoloOrderer(max_wait_ms=1)
    with Node(store, registry, orderer) as node:
        first = accounts.transfer(1, 2, 100).sign(accounts.keys[1])  # all of 1's units to 2
        done_first = node.submit(first.envelope())
        assert store.entered.acquire(timeout=10)  # block 1 is executed, its commit held
        second = accounts.transfer(2, 3, 200).sign(accounts.keys[2])  # needs block 1's credit
        done_second = node.submit(second.envelope())
        orderer.submit([first])  # a replay of the block being committed, past admission
        store.gate.set()
        one, two = done_first.result(timeout=10), done_second.result(timeout=10)
        assert one.height == 1 and one.receipt.ok
        assert two.height == 2 and two.receipt.ok
        while node.head.height < 3 and not any(
            r.tx_id == first.id for r in store.block(node.head.height).receipts[1:]
        ):
            threading.Event().wait(0.01)  # the replay lands in block 2 or 3
    replays = [r.status for h in range(2, store.head().height + 1) for r in store.block(h).receipts
               if r.tx_id == first.id]
    assert replays == ["replayed"]
    store.close()


def test_a_failed_commit_commits_nothing_after_it(gated, accounts, registry):
    store = gated(fail_at=1)
    with Node(store, registry, SoloOrderer(max_wait_ms=1)) as node:
        first = node.submit(accounts.transfer(1, 2, 5).sign(accounts.keys[1]).envelope())
        assert store.entered.acquire(timeout=10)
        second = node.submit(accounts.transfer(2, 3, 5).sign(accounts.keys[2]).envelope())
        store.gate.set()
        for future in (first, second):
            with pytest.raises(NodeFault):
                future.result(timeout=10)
        assert node.fault is not None
        assert node.head.height == 0
    assert store.head().height == 0
    store.close()
