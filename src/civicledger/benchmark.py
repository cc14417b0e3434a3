"""Workloads for ``bench/``: measured throughput and latency, never asserted in tests.

``run_transfers`` pre-signs token transfers among many accounts, submits them
through the node's in-process submission path in batches (as the gateway's
batch route will), and measures from submission to durable commit.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from civicledger.contracts.catalog import registry as default_registry
from civicledger.core.address import address_of, to_text
from civicledger.core.crypto import KeyPair
from civicledger.core.errors import CivicError
from civicledger.core.tx import Transaction
from civicledger.node.executor import Genesis
from civicledger.node.node import Committed, Node, initialise
from civicledger.node.ordering import SoloOrderer, wall_clock_ms
from civicledger.node.sqlite_store import SqliteStore

CHAIN = "bench"


@dataclass(frozen=True)
class Result:
    submitted: int
    committed_ok: int
    seconds: float
    p50_ms: float
    p99_ms: float
    blocks: int
    db_bytes: int
    cpu_seconds: float = 0.0
    """CPU time of the whole process (every thread) from first submission to last commit,
    plus that of the node's signature worker processes."""

    @property
    def tps(self) -> float:
        return self.committed_ok / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"committed_tps={self.tps:.0f} p50_ms={self.p50_ms:.1f} p99_ms={self.p99_ms:.1f} "
            f"success={self.committed_ok / max(1, self.submitted):.4f}"
        )

    def cpu_line(self) -> str:
        """CPU per transaction: steadier than tx/s on a machine shared with other work."""
        return f"cpu_us_per_tx={self.cpu_seconds * 1e6 / max(1, self.submitted):.0f}"


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_genesis(keys: list[KeyPair], amount: int) -> Genesis:
    admin = to_text(address_of(keys[0].public_key))
    return Genesis(CHAIN, wall_clock_ms(), {
        "governance": {"orgs": [{"id": "city", "name": "City", "admins": [admin],
                                 "roles": {admin: ["issuer"]}}]},
        "token": {
            "currencies": [{"symbol": "CIV", "name": "Civic", "issuer": "city", "decimals": 0,
                            "cap": None, "validity_ms": None, "max_supply": None}],
            "balances": [{"symbol": "CIV", "account": to_text(address_of(k.public_key)),
                          "amount": amount} for k in keys],
        },
    })


def sign_transfers(keys: list[KeyPair], count: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    expires = wall_clock_ms() + 3_600_000
    out = []
    for _ in range(count):
        sender, recipient = rng.sample(keys, 2)
        tx = Transaction(CHAIN, "token", "transfer",
                         {"currency": "CIV", "to": address_of(recipient.public_key), "amount": 1},
                         sender.public_key, rng.randbytes(16), expires)
        out.append(tx.sign(sender).envelope())
    return out


def run_transfers(*, accounts: int = 1000, count: int = 20000, batch: int = 500,
                  directory: str | None = None, keep: str | Path | None = None) -> Result:
    """Run the workload on a scratch node; ``keep``: also copy the chain's file there."""
    keys = [KeyPair.generate() for _ in range(max(2, accounts))]
    envelopes = sign_transfers(keys, count)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = Path(tmp) / "bench.db"
        store = SqliteStore(path)
        registry = default_registry()
        initialise(store, registry, bench_genesis(keys, 10**9))
        node = Node(store, registry, SoloOrderer(max_txs=4000, max_wait_ms=20))
        latencies: list[float] = []
        ok = 0
        done = threading.Event()
        remaining = [count]
        lock = threading.Lock()
        last_commit = [0.0]

        def finished(submitted_at: float):
            def callback(future):
                nonlocal ok
                now = time.perf_counter()
                with lock:
                    try:
                        committed: Committed = future.result()
                        if committed.receipt.ok:
                            ok += 1
                            latencies.append((now - submitted_at) * 1000)
                    except CivicError:
                        pass
                    last_commit[0] = now
                    remaining[0] -= 1
                    if remaining[0] == 0:
                        done.set()
            return callback

        node.start()
        started = time.perf_counter()
        cpu_started = time.process_time()
        children_started = _children_cpu()
        for i in range(0, count, batch):
            at = time.perf_counter()
            for result in node.submit_many(envelopes[i : i + batch]):
                if isinstance(result, CivicError):
                    with lock:
                        remaining[0] -= 1
                        if remaining[0] == 0:
                            done.set()
                else:
                    result.add_done_callback(finished(at))
        done.wait(timeout=600)
        cpu_seconds = time.process_time() - cpu_started
        seconds = last_commit[0] - started
        blocks = node.head.height
        node.stop()  # a child's CPU time is known once it has exited
        cpu_seconds += _children_cpu() - children_started
        store.close()
        size = sum(os.path.getsize(p) for p in Path(tmp).iterdir())
        if keep is not None:
            shutil.copyfile(path, keep)
    return Result(count, ok, seconds, percentile(latencies, 0.5), percentile(latencies, 0.99),
                  blocks, size, cpu_seconds)


@dataclass(frozen=True)
class ReplayResult:
    transactions: int
    blocks: int
    seconds: float

    @property
    def tps(self) -> float:
        return self.transactions / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return f"replay_tps={self.tps:.0f} blocks={self.blocks} txs={self.transactions}"


def run_verify(*, accounts: int = 1000, count: int = 20000, directory: str | None = None) -> ReplayResult:
    """Build a chain of ``count`` transfers, then time ``verify_chain`` over it (as ``civic verify``)."""
    from civicledger.node.audit import verify_chain

    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = Path(tmp) / "chain.db"
        run_transfers(accounts=accounts, count=count, directory=tmp, keep=path)
        store = SqliteStore(path, readonly=True)
        try:
            started = time.perf_counter()
            report = verify_chain(store, default_registry())
            seconds = time.perf_counter() - started
        finally:
            store.close()
    if not report.ok:
        raise RuntimeError(f"replay failed at height {report.height}: {report.problem}")
    return ReplayResult(report.transactions, report.height, seconds)
