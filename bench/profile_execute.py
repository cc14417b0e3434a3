"""Single-threaded phases of blocks of transfers: python -m bench.profile_execute [--txs N] [--block N]

Runs the node's own steps one after another on one thread (no pipeline, no
thread pool, no worker process), so each phase's CPU per transaction shows
without the noise of GIL hand-overs, and prints one line per phase in µs/tx:

    decode    txs.decode + check_window + check_call (admission's stateless work)
    verify    Ed25519 signature checks (libsodium; the node runs them beside the rest)
    admit     what else admission does per tx: verifier cache, replay lookup, futures
    execute   execute_block up to the roots: each transaction's contract call
    roots     envelopes, receipt encoding, tx/receipt/state roots, header
    commit    SqliteStore.commit (fsync included) and waking the waiters

``--profile PHASE`` also prints the top functions of that phase under cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

from civicledger.benchmark import bench_genesis, sign_transfers
from civicledger.contracts.catalog import registry as default_registry
from civicledger.core import merkle
from civicledger.core import tx as txs
from civicledger.core.block import BlockEnv, BlockHeader
from civicledger.core.crypto import KeyPair
from civicledger.core.state import Overlay, next_state_root
from civicledger.node.executor import process_transaction
from civicledger.node.node import Committed, initialise
from civicledger.node.ordering import wall_clock_ms
from civicledger.node.sqlite_store import SqliteStore
from civicledger.node.store import CommitBatch
from civicledger.node.verifier import Verifier, _cache_key, signatures_valid

PHASES = ("decode", "verify", "admit", "execute", "roots", "commit")


class Phases:
    """CPU seconds (process time) spent in each phase; optionally cProfile one of them."""

    def __init__(self, profiled: str | None) -> None:
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.profiled = profiled
        self.profiler = cProfile.Profile() if profiled else None

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        profiling = self.profiler is not None and phase == self.profiled
        if profiling:
            self.profiler.enable()
        started = time.process_time()
        yield
        self.seconds[phase] += time.process_time() - started
        if profiling:
            self.profiler.disable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--txs", type=int, default=8000)
    parser.add_argument("--block", type=int, default=1000, help="transactions per block")
    parser.add_argument("--profile", choices=PHASES, help="cProfile one phase")
    args = parser.parse_args()

    keys = [KeyPair.generate() for _ in range(args.accounts)]
    envelopes = sign_transfers(keys, args.txs)
    phase = Phases(args.profile)
    registry = default_registry()
    verifier = Verifier(threads=1, processes=False)
    waiters: dict[bytes, Future[Committed]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "profile.db")
        initialise(store, registry, bench_genesis(keys, 10**9))
        store.claim_writer()
        prev = store.head()
        assert prev is not None
        for start in range(0, args.txs, args.block):
            now = wall_clock_ms()
            with phase("decode"):
                batch = []
                for envelope in envelopes[start : start + args.block]:
                    stx = txs.decode(envelope)
                    txs.check_window(stx, prev.chain_id, now)
                    checked = registry.check_call(stx.tx.contract, stx.tx.method, stx.tx.args)
                    batch.append(stx.admitted(checked))
            with phase("verify"):
                assert all(signatures_valid(stx) for stx in batch)
            verifier._verified.update((_cache_key(stx), None) for stx in batch)  # verified above
            with phase("admit"):
                verifier.check(batch, remember=True)
                already = store.committed(stx.id for stx in batch)
                for stx in batch:
                    assert stx.id not in already
                    waiters[stx.id] = Future()
            env = BlockEnv(prev.chain_id, prev.height + 1, now, "solo")
            overlay = Overlay(store)
            with phase("execute"):
                valid = verifier.check(batch)
                seen = store.committed(stx.id for stx in batch)
                receipts = [process_transaction(registry, overlay, env, stx, ok, seen)[0]
                            for stx, ok in zip(batch, valid, strict=True)]
                signers: dict[bytes, bytes] = {}
                for stx in batch:
                    signers.update(zip(stx.signer_addresses, stx.public_keys, strict=True))
            with phase("roots"):
                sealed = tuple(stx.envelope() for stx in batch)
                header = BlockHeader(
                    chain_id=env.chain_id, height=env.height, prev_hash=prev.hash,
                    time_ms=env.time_ms, proposer=env.proposer, tx_count=len(sealed),
                    tx_root=merkle.root(sealed),
                    receipt_root=merkle.root([r.encode() for r in receipts]),
                    state_root=next_state_root(prev.state_root, overlay.writes),
                )
                executed = CommitBatch(header, sealed, tuple(receipts), overlay.writes,
                                       tuple(stx.id for stx in batch), tuple(signers.items()))
            assert all(r.ok for r in receipts), receipts[0]
            with phase("commit"):
                store.commit(executed)
                for index, receipt in enumerate(receipts):
                    waiters.pop(receipt.tx_id).set_result(Committed(header.height, index, receipt))
            prev = header
        store.close()
    verifier.close()

    if phase.profiler is not None:
        pstats.Stats(phase.profiler).sort_stats("tottime").print_stats(25)
    per_tx = {name: seconds * 1e6 / args.txs for name, seconds in phase.seconds.items()}
    for name in PHASES:
        print(f"{name:8s} {per_tx[name]:6.1f} us/tx")
    python = sum(v for k, v in per_tx.items() if k != "verify")
    print(f"total    {sum(per_tx.values()):6.1f} us/tx  (without verify: {python:.1f})")


if __name__ == "__main__":
    main()
