"""Two independent stores fed the same batches reach identical roots at every height."""

from __future__ import annotations

import random

from civicledger.node.executor import execute_block, execute_genesis
from civicledger.node.ordering import Batch
from civicledger.node.sqlite_store import SqliteStore
from civicledger.node.verifier import Verifier
from tests.node.conftest import make_genesis


def run_chain(registry, genesis, batches, path):
    store = SqliteStore(path)
    verifier = Verifier(threads=2)
    executed = execute_genesis(registry, store, genesis)
    store.commit(executed)
    headers = [executed.header]
    for batch in batches:
        store.claim_writer()
        executed = execute_block(registry, store, headers[-1], batch, verifier=verifier,
                                 committed=store.committed)
        store.commit(executed)
        headers.append(executed.header)
    verifier.close()
    store.close()
    return headers


def test_two_stores_reach_identical_roots(tmp_path, accounts, registry):
    rng = random.Random(3)
    genesis = make_genesis(accounts, time_ms=1_767_225_600_000)
    batches = []
    for height in range(1, 9):
        txs = []
        for _ in range(rng.randint(0, 40)):
            sender, recipient = rng.sample(range(len(accounts.keys)), 2)
            amount = rng.choice([1, 7, 300, 5_000])  # some fail: insufficient funds
            tx = accounts.transfer(sender, recipient, amount, expires=1_767_225_600_000 + 10**6)
            txs.append(tx.sign(accounts.keys[sender]))
        if txs and rng.random() < 0.5:
            txs.append(txs[0])  # a replay inside the block
        batches.append(Batch(1_767_225_600_000 + height * 1000, "solo", tuple(txs)))
    first = run_chain(registry, genesis, batches, tmp_path / "a.db")
    second = run_chain(registry, genesis, batches, ":memory:")
    assert first == second
    assert len({h.state_root for h in first}) == len(first)  # every block changed the state
