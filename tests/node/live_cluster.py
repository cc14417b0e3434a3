"""Test harness: a whole consortium as real processes (``civic cluster``'s own start-up), with a
load generator that keeps every answer it got, for the fault tests."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import nats

from civicledger.cli.cluster import launch_peer, start_cluster, stop_cluster
from civicledger.core.block import OK
from civicledger.node.jetstream import LogNames
from civicledger.node.natsd import Credentials, NatsCluster, reap
from civicledger.node.sqlite_store import SqliteStore
from tests.node.conftest import Accounts
from tests.node.consortium import ORGS, member_genesis, same_chain, wait_for


def consecutive_free_ports(count: int) -> list[int]:
    for start in range(20_000 + os.getpid() % 20_000, 60_000, 7):
        ports = list(range(start, start + count))
        try:
            for port in ports:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return ports
        except OSError:
            continue
    raise RuntimeError("no free ports")


class Load:
    """Signed transfers posted in small batches to the peers' gateways in turn, each waiting for
    finality; every transaction answered ``committed`` is kept as acknowledged."""

    def __init__(self, cluster: LiveCluster, batch: int = 20) -> None:
        self.cluster = cluster
        self.batch = batch
        self.acknowledged: dict[bytes, int] = {}
        self.answered_at: list[float] = []
        self.errors = 0
        self.orgs = list(cluster.orgs)
        """The peers whose gateways take the load."""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, workers: int = 3) -> Load:
        for n in range(workers):
            thread = threading.Thread(target=self._run, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def _run(self, worker: int) -> None:
        k = worker % len(self.orgs)
        orgs = itertools.cycle(self.orgs[k:] + self.orgs[:k])
        with httpx.Client(timeout=30) as http:
            while not self._stop.is_set():
                org = next(orgs)
                envelopes = self.cluster.envelopes(self.batch)
                body = {"envelopes": [base64.b64encode(e).decode() for e in envelopes]}
                try:
                    answer = http.post(f"{self.cluster.url(org)}/v1/transactions/batch",
                                       params={"wait": "true", "timeout_ms": 20_000}, json=body)
                except httpx.HTTPError:
                    self.errors += 1
                    time.sleep(0.1)
                    continue
                if answer.status_code != 200:
                    self.errors += 1
                    time.sleep(0.1)
                    continue
                now = time.monotonic()
                for result in answer.json()["results"]:
                    if result["state"] == "committed":
                        self.acknowledged[bytes.fromhex(result["tx_id"])] = result["height"]
                        self.answered_at.append(now)

    def first_answer_after(self, moment: float) -> float | None:
        later = [t for t in list(self.answered_at) if t > moment]
        return min(later) - moment if later else None


class LiveCluster:
    def __init__(self, root: Path, accounts: Accounts) -> None:
        self.root = root
        self.accounts = accounts
        self.orgs = list(ORGS)
        self.ports = consecutive_free_ports(len(ORGS))
        self.peers: dict[str, Any] = {}
        self.nats = NatsCluster(root / "nats")
        self.genesis = member_genesis(accounts)
        self._sent = itertools.count()
        self._lock = threading.Lock()

    def start(self) -> LiveCluster:
        self.peers = start_cluster(self.root, ports=self.ports, orgs=ORGS, genesis=self.genesis)
        return self

    def url(self, org: str) -> str:
        return self.peers[org]["url"]

    def envelopes(self, count: int) -> list[bytes]:
        n = len(self.accounts.keys)
        out = []
        for _ in range(count):
            with self._lock:
                i = next(self._sent)
            sender, recipient = i % n, (i + 1 + (i // n) % (n - 1)) % n
            tx = self.accounts.transfer(sender, recipient, 1)
            out.append(tx.sign(self.accounts.keys[sender]).envelope())
        return out

    def health(self, org: str) -> dict[str, Any] | None:
        try:
            return httpx.get(f"{self.url(org)}/v1/health", timeout=2).json()
        except httpx.HTTPError:
            return None

    def kill_peer(self, org: str, sig: int = signal.SIGKILL) -> None:
        os.kill(self.peers[org]["pid"], sig)
        reap(self.peers[org]["pid"])

    def restart_peer(self, org: str) -> None:
        self.peers[org] = launch_peer(self.root, org, self.peers[org]["port"])
        (self.root / "peers.json").write_text(json.dumps(self.peers))
        wait_for(lambda: (self.health(org) or {}).get("consortium") is not None, 60,
                 f"{org} to answer again")

    def nats_pid(self, name: str) -> int:
        return int(json.loads(self.nats.pids_file.read_text())[name])

    def stream_leader(self) -> str:
        """The NATS node leading the transaction stream (from a peer's own JetStream view)."""
        login = Credentials.load(self.root / self.orgs[0] / "nats.json")

        async def ask() -> str:
            nc = await nats.connect(servers=self.nats.urls(), user=login.user, password=login.password)
            try:
                info = await nc.jetstream().stream_info(LogNames.of(self.genesis.chain_id).tx_stream)
                return info.cluster.leader
            finally:
                await nc.close()

        return asyncio.run(ask())

    def heights(self) -> dict[str, int]:
        return {org: (self.health(org) or {}).get("height", -1) for org in self.orgs}

    def wait_converged(self, timeout: float = 90) -> int:
        def converged() -> bool:
            heights = set(self.heights().values())
            return len(heights) == 1 and -1 not in heights
        wait_for(converged, timeout, "every peer at one height")
        return next(iter(self.heights().values()))

    def stop(self) -> None:
        stop_cluster(self.root)

    def stores(self) -> Iterator[SqliteStore]:
        for org in self.orgs:
            yield SqliteStore(self.root / org / "ledger.db")


def check_nothing_lost(cluster: LiveCluster, load: Load) -> int:
    """After ``cluster.stop()``: identical headers everywhere, and every acknowledged transaction
    committed exactly once, at the height it was acknowledged at, on every peer."""
    stores = list(cluster.stores())
    try:
        top = same_chain(stores)
        for store in stores:
            ok_count: dict[bytes, int] = {}
            for height in range(1, store.head().height + 1):  # type: ignore[union-attr]
                block = store.block(height)
                assert block is not None
                for receipt in block.receipts:
                    if receipt.status == OK:
                        ok_count[receipt.tx_id] = ok_count.get(receipt.tx_id, 0) + 1
            for tx_id, height in load.acknowledged.items():
                assert ok_count.get(tx_id) == 1, f"{tx_id.hex()} committed {ok_count.get(tx_id)} times"
                assert store.locate(tx_id)[0] == height  # type: ignore[index]
        return top
    finally:
        for store in stores:
            store.close()


@contextmanager
def running(root: Path, accounts: Accounts) -> Iterator[LiveCluster]:
    cluster = LiveCluster(root, accounts).start()
    try:
        yield cluster
    finally:
        cluster.stop()
