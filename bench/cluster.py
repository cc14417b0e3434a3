"""A 3-peer consortium against a single node, in one run: python -m bench.cluster [--txs N]

Starts three nats-server nodes and three ``civic peer up`` processes (Seoul, Nowon,
Gangseo) on this machine with ``civic cluster``'s own start-up, on a fresh chain that
funds ``--accounts`` accounts, then:

1. **throughput**: pre-signed transfers go through the three gateways' batch route at
   once (wrk where installed, else aiohttp), every request waiting for finality at 2 of
   3 attestations, so latency is submission to final;
2. **failover**: under a light load, the NATS node leading the transaction stream is
   killed (SIGKILL); ``failover_s`` runs from the kill to the first finality answered
   for a transaction submitted after it;
3. **single node**: ``bench.transfers`` on the same machine, for the ratio.

Every peer re-verifies and re-executes every transaction on the same two cores, so the
target is a ratio within one run. Final line:
cluster_tps=… single_tps=… ratio=… p50_ms=… p99_ms=… success=… failover_s=…
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import nats

from bench.gateway import _cpu_seconds, _drive, _drive_wrk
from civicledger.benchmark import bench_genesis, percentile, run_transfers, sign_transfers
from civicledger.cli.cluster import PEER_ORGS, start_cluster, stop_cluster
from civicledger.core.crypto import KeyPair
from civicledger.node.executor import Genesis
from civicledger.node.jetstream import LogNames
from civicledger.node.natsd import Credentials, NatsCluster, free_ports

BATCH_PATH = "/v1/transactions/batch"


def cluster_genesis(keys: list[KeyPair]) -> Genesis:
    """``bench_genesis`` with the three peer-running organisations as members."""
    base = bench_genesis(keys, 10**9)
    governance = dict(base.contracts["governance"])
    city = governance["orgs"][0]
    governance["orgs"] = [{**city, "id": PEER_ORGS[0]}] + [
        {"id": org, "name": org, "admins": city["admins"], "roles": {}} for org in PEER_ORGS[1:]]
    token = dict(base.contracts["token"])
    token["currencies"] = [{**c, "issuer": PEER_ORGS[0]} for c in token["currencies"]]
    return Genesis(base.chain_id, base.time_ms, {**base.contracts, "governance": governance,
                                                  "token": token})


def throughput(peers: dict, envelopes: list[bytes], batch: int, concurrency: int,
               client: str) -> tuple[int, int, float, list[float]]:
    """Drive the three gateways at once, each with a third of the transfers."""
    texts = [base64.b64encode(e).decode() for e in envelopes]
    shares = [texts[i::len(peers)] for i in range(len(peers))]
    shares = [share[:len(share) // batch * batch] or share for share in shares]  # whole requests
    results: list[tuple[int, int, float, list[float]]] = []
    lock = threading.Lock()

    def drive(entry: dict, share: list[str]) -> None:
        bodies = [{"envelopes": share[i:i + batch]} for i in range(0, len(share), batch)]
        if client == "wrk":
            submitted, ok, seconds, latencies, _, _ = _drive_wrk(
                entry["pid"], entry["url"], bodies, BATCH_PATH, concurrency, batch)
        else:
            submitted, ok, seconds, latencies = asyncio.run(
                _drive(entry["url"], bodies, BATCH_PATH, concurrency, batch, client))
        with lock:
            results.append((submitted, ok, seconds, latencies))

    threads = [threading.Thread(target=drive, args=(entry, share))
               for entry, share in zip(peers.values(), shares, strict=True)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    submitted = sum(r[0] for r in results)
    ok = sum(r[1] for r in results)
    seconds = max(max(r[2] for r in results), 1e-9) if results else wall
    return submitted, ok, seconds, [lat for r in results for lat in r[3]]


def warm_up(peers: dict, envelopes: list[bytes]) -> None:
    """One committed transfer through each gateway before measuring: the proposer holds its
    lease and every peer has followed the log once."""
    with httpx.Client(timeout=60) as http:
        for entry, envelope in zip(peers.values(), envelopes, strict=False):
            body = {"envelopes": [base64.b64encode(envelope).decode()]}
            http.post(f"{entry['url']}{BATCH_PATH}", params={"wait": "true"}, json=body)


def failover(root: Path, peers: dict, keys: list[KeyPair], chain_id: str) -> float:
    """Kill the transaction stream's leader under a light load; seconds to the first finality
    of a transaction submitted after the kill."""
    cluster = NatsCluster(root / "nats")
    login = Credentials.load(root / PEER_ORGS[0] / "nats.json")

    async def leader() -> str:
        nc = await nats.connect(servers=cluster.urls(), user=login.user, password=login.password)
        try:
            info = await nc.jetstream().stream_info(LogNames.of(chain_id).tx_stream)
            return str(info.cluster.leader)
        finally:
            await nc.close()

    envelopes = iter(sign_transfers(keys, 5_000, seed=11))
    taking = threading.Lock()
    killed_at: list[float] = []
    first: list[float] = []
    stop = threading.Event()

    def probe(url: str) -> None:
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                with taking:
                    body = {"envelopes": [base64.b64encode(next(envelopes)).decode() for _ in range(5)]}
                sent = time.monotonic()
                try:
                    answer = http.post(f"{url}{BATCH_PATH}", params={"wait": "true"}, json=body)
                    states = [r["state"] for r in answer.json().get("results", [])]
                except (httpx.HTTPError, ValueError):
                    time.sleep(0.05)
                    continue
                if killed_at and sent > killed_at[0] and "committed" in states:
                    first.append(time.monotonic() - killed_at[0])
                    return

    workers = [threading.Thread(target=probe, args=(e["url"],), daemon=True) for e in peers.values()]
    for worker in workers:
        worker.start()
    time.sleep(2)
    name = asyncio.run(leader())
    killed_at.append(time.monotonic())
    cluster.kill(name, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while not first and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    for worker in workers:
        worker.join(35)
    return min(first) if first else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--txs", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=100, help="envelopes per request")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight per gateway")
    parser.add_argument("--block-ms", type=int, default=20)
    parser.add_argument("--client", choices=("aiohttp", "raw", "wrk"),
                        default="wrk" if shutil.which("wrk") else "aiohttp")
    parser.add_argument("--no-failover", action="store_true", help="skip the failover phase")
    args = parser.parse_args()
    keys = [KeyPair.generate() for _ in range(max(2, args.accounts))]
    genesis = cluster_genesis(keys)
    envelopes = sign_transfers(keys, args.txs + len(PEER_ORGS))
    warming, envelopes = envelopes[:len(PEER_ORGS)], envelopes[len(PEER_ORGS):]
    with tempfile.TemporaryDirectory(prefix="civic-cluster-bench-") as tmp:
        root = Path(tmp) / "cluster"
        ports = free_ports(len(PEER_ORGS))
        peers = start_cluster(root, ports=ports, block_ms=args.block_ms, genesis=genesis)
        try:
            pids = [e["pid"] for e in peers.values()] + list(
                json.loads((root / "nats" / "pids.json").read_text()).values())
            warm_up(peers, warming)
            cpu = [_cpu_seconds(pid) for pid in pids]
            submitted, ok, seconds, latencies = throughput(peers, envelopes, args.batch,
                                                           args.concurrency, args.client)
            cpu = [_cpu_seconds(pid) - before for pid, before in zip(pids, cpu, strict=True)]
            failover_s = float("nan") if args.no_failover else failover(root, peers, keys,
                                                                         genesis.chain_id)
        finally:
            stop_cluster(root)
    single = run_transfers(accounts=args.accounts, count=args.txs)
    cluster_tps = ok / seconds
    print(f"accounts={args.accounts} txs={submitted} peers={len(PEER_ORGS)} client={args.client} "
          f"batch={args.batch}x{args.concurrency}x{len(PEER_ORGS)} cluster_seconds={seconds:.2f} "
          f"single_seconds={single.seconds:.2f} peer_cpu_us_per_tx="
          f"{','.join(f'{c * 1e6 / max(1, submitted):.0f}' for c in cpu[:3])} nats_cpu_us_per_tx="
          f"{','.join(f'{c * 1e6 / max(1, submitted):.0f}' for c in cpu[3:])}", file=sys.stderr)
    print(f"cluster_tps={cluster_tps:.0f} single_tps={single.tps:.0f} "
          f"ratio={cluster_tps / max(single.tps, 1e-9):.2f} p50_ms={percentile(latencies, 0.5):.1f} "
          f"p99_ms={percentile(latencies, 0.99):.1f} success={ok / max(1, submitted):.4f} "
          f"failover_s={failover_s:.2f}")


if __name__ == "__main__":
    main()
