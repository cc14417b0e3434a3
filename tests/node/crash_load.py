"""A node process under load, for the crash test: python -m tests.node.crash_load DB

Opens (or resumes) the ledger at DB, submits transfers in a loop and prints
``ACK <tx id>`` for each one only after its block is durably committed.
"""

from __future__ import annotations

import hashlib
import os
import sys

from civicledger.contracts.catalog import registry as default_registry
from civicledger.core.address import address_of
from civicledger.core.crypto import KeyPair
from civicledger.core.tx import Transaction
from civicledger.node.node import Node
from civicledger.node.ordering import SoloOrderer, wall_clock_ms
from civicledger.node.sqlite_store import SqliteStore

CHAIN = "crash-test"
ACCOUNTS = 8


def keys() -> list[KeyPair]:
    return [KeyPair.from_seed(hashlib.sha256(b"crash%d" % i).digest()) for i in range(ACCOUNTS)]


def main() -> None:
    store = SqliteStore(sys.argv[1])
    node = Node(store, default_registry(), SoloOrderer(max_txs=200, max_wait_ms=5)).start()
    accounts = keys()
    n = 0
    while True:
        batch = []
        for _ in range(50):
            sender, recipient = accounts[n % ACCOUNTS], accounts[(n + 1) % ACCOUNTS]
            n += 1
            tx = Transaction(CHAIN, "token", "transfer",
                             {"currency": "CIV", "to": address_of(recipient.public_key), "amount": 1},
                             sender.public_key, os.urandom(16), wall_clock_ms() + 600_000)
            batch.append(tx.sign(sender))
        futures = node.submit_many([stx.envelope() for stx in batch])
        for stx, future in zip(batch, futures, strict=True):
            future.result(timeout=60)
            sys.stdout.write(f"ACK {stx.id.hex()}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
