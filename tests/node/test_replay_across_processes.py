"""Determinism is consensus: the same chain replayed in separate processes, each with its own
hash seed, reaches the same header (and so every root) at every height."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from civicledger.node.sqlite_store import SqliteStore

REPLAY = """
import json, sys
from civicledger.contracts.catalog import registry
from civicledger.core.tx import decode
from civicledger.node.executor import Genesis, execute_block, execute_genesis
from civicledger.node.node import GENESIS_META
from civicledger.node.ordering import Batch
from civicledger.node.sqlite_store import SqliteStore
from civicledger.node.verifier import Verifier

source = SqliteStore(sys.argv[1])
replay = SqliteStore(":memory:")
contracts = registry()
verifier = Verifier(threads=1)
executed = execute_genesis(contracts, replay, Genesis.from_json(source.get_meta(GENESIS_META)))
replay.commit(executed)
hashes = [executed.header.hash.hex()]
for height in range(1, source.head().height + 1):
    stored = source.block(height)
    batch = Batch(stored.header.time_ms, stored.header.proposer,
                  tuple(decode(e) for e in stored.envelopes))
    executed = execute_block(contracts, replay, executed.header, batch, verifier=verifier,
                             committed=replay.committed)
    replay.commit(executed)
    hashes.append(executed.header.hash.hex())
verifier.close()
print(json.dumps(hashes))
"""


@pytest.mark.slow
def test_the_demo_city_replays_to_the_same_roots_under_different_hash_seeds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    civic = [sys.executable, "-m", "civicledger", "--data", str(data)]
    subprocess.run([*civic, "init", "--demo"], check=True, capture_output=True,
                   env={**os.environ, "PYTHONHASHSEED": "0"})
    store = SqliteStore(data / "ledger.db")
    stored = [store.header(h).hash.hex() for h in range(store.head().height + 1)]  # type: ignore
    store.close()
    assert len(stored) > 50  # the demo's week exercises every service
    replays = {}
    for seed in ("1", "2", "4242"):
        run = subprocess.run([sys.executable, "-c", REPLAY, str(data / "ledger.db")], check=True,
                             capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed})
        replays[seed] = json.loads(run.stdout)
    for seed, hashes in replays.items():
        assert hashes == stored, f"PYTHONHASHSEED={seed} forked from the stored chain"
