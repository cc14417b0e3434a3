"""Single-threaded phases of a block of transfers: python -m bench.profile_execute [--txs N] [--block N]

Runs the node's own steps one after another on one thread (no pipeline, no
thread pool), so each phase's CPU per transaction shows without the noise of
the GIL hand-overs, and prints one line per phase in µs/tx:

    decode    txs.decode + check_window + check_call (admission's stateless work)
    verify    Ed25519 signature checks (libsodium; the node runs them on every core)
    admit     what else admission does per tx: verifier cache, replay lookup, futures
    execute   execute_block minus the roots: each transaction's contract call
    roots     envelopes, receipt encoding, tx/receipt/state roots, header
    commit    SqliteStore.commit (fsync included) and waking the waiters

``--profile PHASE`` prints the top functions of that phase under cProfile instead.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future
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
from civicledger.node.verifier import Verifier, signatures_valid

PHASES = ("decode", "verify", "admit", "execute", "roots", "commit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--txs", type=int, default=8000)
    parser.add_argument("--block", type=int, default=1000, help="transactions per block")
    parser.add_argument("--profile", choices=PHASES, help="cProfile one phase")
    args = parser.parse_args()

    keys = [KeyPair.generate() for _ in range(args.accounts)]
    envelopes = sign_transfers(keys, args.txs)
    totals = dict.fromkeys(PHASES, 0.0)
    profiler = cProfile.Profile() if args.profile else None

    def timed(phase: str, work: Callable[[], object]) -> object:
        if profiler is not None and phase == args.profile:
            profiler.enable()
        started = time.process_time()
        result = work()
        totals[phase] += time.process_time() - started
        if profiler is not None and phase == args.profile:
            profiler.disable()
        return result

    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "profile.db")
        registry = default_registry()
        initialise(store, registry, bench_genesis(keys, 10**9))
        store.claim_writer()
        verifier = Verifier(threads=1)
        waiters: dict[bytes, Future[Committed]] = {}
        prev = store.head()
        assert prev is not None
        for start in range(0, args.txs, args.block):
            chunk = envelopes[start : start + args.block]
            now = wall_clock_ms()

            def decode(chunk: list[bytes] = chunk, now: int = now) -> list[txs.SignedTransaction]:
                out = []
                for envelope in chunk:
                    stx = txs.decode(envelope)
                    txs.check_window(stx, prev.chain_id, now)
                    out.append(stx.admitted(registry.check_call(stx.tx.contract, stx.tx.method,
                                                                stx.tx.args)))
                return out

            batch = timed("decode", decode)
            assert all(timed("verify", lambda b=batch: [signatures_valid(s) for s in b]))

            def admit(batch: list[txs.SignedTransaction] = batch) -> None:
                verifier.check(batch, remember=True)  # verdicts cached: the signatures are above
                already = store.committed(stx.id for stx in batch)
                for stx in batch:
                    assert stx.id not in already
                    waiters[stx.id] = Future()

            # The signature work itself was timed above; seed the cache so admit times the rest.
            verifier._verified.update((s.id + b"".join(s.signatures), None) for s in batch)
            timed("admit", admit)

            env = BlockEnv(prev.chain_id, prev.height + 1, now, "solo")
            overlay = Overlay(store)

            def execute(batch: list[txs.SignedTransaction] = batch, env: BlockEnv = env,
                        overlay: Overlay = overlay) -> list:
                valid = verifier.check(batch)
                seen = store.committed(stx.id for stx in batch)
                return [process_transaction(registry, overlay, env, stx, ok, seen)[0]
                        for stx, ok in zip(batch, valid, strict=True)]

            receipts = timed("execute", execute)

            def roots(batch: list[txs.SignedTransaction] = batch, env: BlockEnv = env,
                      overlay: Overlay = overlay, receipts: list = receipts) -> CommitBatch:
                envs = tuple(stx.envelope() for stx in batch)
                header = BlockHeader(
                    chain_id=env.chain_id, height=env.height, prev_hash=prev.hash,
                    time_ms=env.time_ms, proposer=env.proposer, tx_count=len(envs),
                    tx_root=merkle.root(envs),
                    receipt_root=merkle.root([r.encode() for r in receipts]),
                    state_root=next_state_root(prev.state_root, overlay.writes),
                )
                return CommitBatch(header, envs, tuple(receipts), overlay.writes,
                                   tuple(stx.id for stx in batch))

            executed = timed("roots", roots)
            assert all(r.ok for r in executed.receipts), executed.receipts[0]

            def commit(executed: CommitBatch = executed) -> None:
                store.commit(executed)
                for index, receipt in enumerate(executed.receipts):
                    waiters.pop(receipt.tx_id).set_result(
                        Committed(executed.header.height, index, receipt))

            timed("commit", commit)
            prev = executed.header
        store.close()
        verifier.close()

    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    per_tx = {phase: seconds * 1e6 / args.txs for phase, seconds in totals.items()}
    for phase in PHASES:
        print(f"{phase:8s} {per_tx[phase]:6.1f} us/tx")
    python = sum(v for k, v in per_tx.items() if k != "verify")
    print(f"total    {sum(per_tx.values()):6.1f} us/tx  (without verify: {python:.1f})")


if __name__ == "__main__":
    main()
