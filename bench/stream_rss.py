"""Memory of the gateway with stalled event-stream readers: python -m bench.stream_rss

Serves the gateway over HTTP (uvicorn, in this process), opens ``--readers`` SSE
connections that never read, and commits ``--txs`` signed transfers in blocks of up to
``--block`` transactions while they stall. The resident set size is taken after a warm-up
and again at the end; with readers bounded by bytes it stays flat. ``--queue-bytes`` sets
``GatewayConfig.stream_queue_bytes`` (a huge value shows what an unbounded reader costs).

Prints, as its final line: rss_start_mb=… rss_end_mb=… txs=…
"""

from __future__ import annotations

import argparse
import gc
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from civicledger.benchmark import bench_genesis, sign_transfers
from civicledger.contracts.catalog import registry as default_registry
from civicledger.core.crypto import KeyPair
from civicledger.core.errors import CivicError
from civicledger.gateway import GatewayConfig, create_app
from civicledger.node.node import Node, initialise
from civicledger.node.ordering import SoloOrderer
from civicledger.node.sqlite_store import SqliteStore

SAMPLE_EVERY = 10_000
"""Transactions between two RSS samples."""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stalled_reader(port: int) -> socket.socket:
    """An SSE connection that asks for every event and block, then never reads."""
    conn = socket.socket()
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    conn.connect(("127.0.0.1", port))
    conn.sendall(b"GET /v1/events?blocks=true HTTP/1.1\r\nHost: bench\r\n"
                 b"Accept: text/event-stream\r\n\r\n")
    return conn


def commit_all(node: Node, envelopes: list[bytes], batch: int) -> int:
    """Submit in batches and wait for every block; returns how many committed."""
    done = 0
    for i in range(0, len(envelopes), batch):
        results = node.submit_many(envelopes[i : i + batch])
        for result in results:
            if not isinstance(result, CivicError):
                result.result(timeout=600)
                done += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=50_000)
    parser.add_argument("--warmup", type=int, default=6_000)
    parser.add_argument("--readers", type=int, default=3)
    parser.add_argument("--block", type=int, default=2_000, help="most transactions per block")
    parser.add_argument("--queue-bytes", type=int, default=GatewayConfig().stream_queue_bytes)
    args = parser.parse_args()

    keys = [KeyPair.generate() for _ in range(1000)]
    envelopes = sign_transfers(keys, args.warmup + args.txs)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "bench.db")
        registry = default_registry()
        initialise(store, registry, bench_genesis(keys, 10**9))
        node = Node(store, registry, SoloOrderer(max_txs=args.block, max_wait_ms=50)).start()
        app = create_app(node, GatewayConfig(stream_queue_bytes=args.queue_bytes))
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning", lifespan="off"))
        serving = threading.Thread(target=server.run, daemon=True)
        serving.start()
        while not server.started:
            time.sleep(0.05)
        readers = [stalled_reader(port) for _ in range(args.readers)]
        while app.state.gateway.hub.readers < args.readers:
            time.sleep(0.05)
        commit_all(node, envelopes[: args.warmup], batch=args.block)
        gc.collect()
        start = rss_mb()
        started = time.perf_counter()
        committed, samples = 0, []
        for i in range(args.warmup, len(envelopes), SAMPLE_EVERY):
            committed += commit_all(node, envelopes[i : i + SAMPLE_EVERY], batch=args.block)
            samples.append(f"{committed}:{rss_mb():.1f}")
        seconds = time.perf_counter() - started
        time.sleep(0.5)  # let the readers' loops take the last blocks
        gc.collect()
        end = rss_mb()
        still = app.state.gateway.hub.readers
        for conn in readers:
            conn.close()
        server.should_exit = True
        serving.join(timeout=10)
        node.stop()
        store.close()
    print(f"readers={args.readers} still_connected={still} blocks_of={args.block} "
          f"queue_bytes={args.queue_bytes} seconds={seconds:.1f}")
    print(f"rss_mb_after_txs={','.join(samples)}")
    print(f"rss_start_mb={start:.1f} rss_end_mb={end:.1f} txs={committed}")


if __name__ == "__main__":
    main()
