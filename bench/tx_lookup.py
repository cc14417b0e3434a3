"""GET /v1/transactions/{id} in a block of many transactions: python -m bench.tx_lookup [--txs N] [--reads N]

Commits one block of ``--txs`` signed transfers into a scratch SQLite store, then
reads random transactions of it back as the route does (``Node.transaction``:
index lookup, envelope, receipt, header, block hash) and, apart, as the /proof
route does (with the Merkle proof, which needs the whole block). Prints
p50_ms=… p99_ms=… (the GET's work) and proof_p50_ms=… proof_p99_ms=…
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from civicledger.contracts.catalog import registry as default_registry
from civicledger.core.address import address_of, to_text
from civicledger.core.crypto import KeyPair
from civicledger.core.tx import Transaction
from civicledger.node.executor import Genesis, execute_block
from civicledger.node.node import find_transaction, initialise
from civicledger.node.ordering import Batch, wall_clock_ms
from civicledger.node.sqlite_store import SqliteStore
from civicledger.node.verifier import Verifier


def _block(store: SqliteStore, count: int) -> list[bytes]:
    registry = default_registry()
    keys = [KeyPair.generate() for _ in range(100)]
    admin = to_text(address_of(keys[0].public_key))
    now = wall_clock_ms()
    initialise(store, registry, Genesis("bench", now, {
        "governance": {"orgs": [{"id": "city", "name": "City", "admins": [admin],
                                 "roles": {admin: ["issuer"]}}]},
        "token": {"currencies": [{"symbol": "CIV", "name": "Civic", "issuer": "city", "decimals": 0,
                                  "cap": None, "validity_ms": None, "max_supply": None}],
                  "balances": [{"symbol": "CIV", "account": to_text(address_of(k.public_key)),
                                "amount": 10**9} for k in keys]},
    }))
    rng = random.Random(7)
    stxs = []
    for _ in range(count):
        sender, recipient = rng.sample(keys, 2)
        stxs.append(Transaction("bench", "token", "transfer", {
            "currency": "CIV", "to": address_of(recipient.public_key), "amount": 1},
            sender.public_key, rng.randbytes(16), now + 600_000).sign(sender))
    verifier = Verifier()
    store.commit(execute_block(registry, store, store.head(), Batch(now + 1, "bench", tuple(stxs)),
                               verifier=verifier, committed=store.committed))
    verifier.close()
    return [stx.id for stx in stxs]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        store = SqliteStore(Path(scratch) / "ledger.db")
        ids = _block(store, args.txs)
        rng = random.Random(1)
        timings: dict[bool, list[float]] = {False: [], True: []}
        for proof in (False, True):
            for _ in range(args.reads if not proof else max(100, args.reads // 10)):
                tx_id = rng.choice(ids)
                started = time.perf_counter()
                record = find_transaction(store, tx_id, proof=proof)
                _ = record.header.hash  # the route answers with the block hash
                timings[proof].append((time.perf_counter() - started) * 1000)
        store.close()
    p50, p99 = _percentiles(timings[False])
    proof_p50, proof_p99 = _percentiles(timings[True])
    print(f"txs_in_block={args.txs} proof_p50_ms={proof_p50:.3f} proof_p99_ms={proof_p99:.3f}")
    print(f"p50_ms={p50:.3f} p99_ms={p99:.3f}")


if __name__ == "__main__":
    main()
