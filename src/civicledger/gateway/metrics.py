"""Prometheus metrics of one node, as served at ``/metrics``.

Commit latency is measured from a transaction's admission through this
gateway to the moment its block is durable, so it includes ordering time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from civicledger.node.node import Node
from civicledger.node.peer import PeerStatus
from civicledger.node.store import CommitBatch

disable_created_metrics()  # the *_created series only double the output

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still use on ``path``'s filesystem."""
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


class Metrics:
    def __init__(self, node: Node, data_dir: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        self._clock = time.monotonic
        self._admitted: dict[bytes, float] = {}
        self._lock = threading.Lock()
        height = Gauge("civic_block_height", "Height of the last committed block",
                       registry=self.registry)
        height.set_function(lambda: node.head.height)
        pending = Gauge("civic_pending_transactions", "Admitted transactions waiting for a block",
                        registry=self.registry)
        pending.set_function(node.orderer.pending)
        workers = Gauge("civic_signature_workers",
                        "Signature worker processes running (0: checking in threads)",
                        registry=self.registry)
        workers.set_function(lambda: node.verifier.worker_count)
        self.committed = Counter("civic_committed_transactions", "Transactions committed in blocks",
                                 ["status"], registry=self.registry)
        self.blocks = Counter("civic_blocks", "Blocks committed", registry=self.registry)
        self.latency = Histogram(
            "civic_commit_latency_seconds", "From admission at the gateway to durable commit",
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        if data_dir is not None:
            free = Gauge("civic_data_free_bytes",
                         "Bytes free on the filesystem of the node's data directory",
                         registry=self.registry)
            free.set_function(lambda: free_bytes(data_dir))
        self.refused = Counter("civic_refused_requests", "Requests refused, by error code",
                               ["code"], registry=self.registry)

    def watch_peer(self, status: Callable[[], PeerStatus]) -> None:
        """Serve a consortium peer's view: final height, lag, divergence, peers heard from."""
        gauges = {
            "civic_final_height": ("The newest block a quorum of member peers attested",
                                   lambda s: s.final_height),
            "civic_log_height": ("The newest batch in the ordering log", lambda s: s.log_height),
            "civic_log_lag": ("Batches in the log not yet committed here", lambda s: s.lag),
            "civic_diverged": ("1 if this peer's chain differs from the quorum's",
                               lambda s: int(bool(s.diverged))),
            "civic_proposing": ("1 while this peer holds the proposer lease",
                                lambda s: int(s.proposing)),
            "civic_peers_seen": ("Member peers whose attestations this peer has seen",
                                 lambda s: len(s.peers_seen)),
        }
        for name, (text, read) in gauges.items():
            Gauge(name, text, registry=self.registry).set_function(lambda read=read: read(status()))

        class PeerHeights(Collector):  # read on each scrape
            def collect(self) -> Iterable[Any]:
                family = GaugeMetricFamily("civic_peer_attested_height",
                                           "Each member peer's newest attested height", labels=["org"])
                for org, height in sorted(status().peers_seen.items()):
                    family.add_metric([org], height)
                yield family

        self.registry.register(PeerHeights())

    def admitted(self, tx_ids: Iterable[bytes]) -> None:
        now = self._clock()
        with self._lock:
            for tx_id in tx_ids:
                self._admitted[tx_id] = now

    def on_commit(self, batch: CommitBatch) -> None:
        """Count a committed block (called on the executor thread)."""
        now = self._clock()
        self.blocks.inc()
        ok = sum(1 for r in batch.receipts if r.ok)
        if ok:
            self.committed.labels("ok").inc(ok)
        if len(batch.receipts) - ok:
            self.committed.labels("rejected").inc(len(batch.receipts) - ok)
        with self._lock:
            started = [self._admitted.pop(r.tx_id, None) for r in batch.receipts]
        for t0 in started:
            if t0 is not None:
                self.latency.observe(now - t0)

    def refusal(self, code: str) -> None:
        self.refused.labels(code).inc()
