"""Signed transfers through the HTTP gateway: python -m bench.gateway [--accounts N] [--txs N]

Starts a real node (``civic up``) as its own process on a fresh ledger whose
genesis funds N accounts, pre-signs transfers here, then drives the API with
wrk where it is installed, else aiohttp in this process (never in the node's):

* the batch route: ``--batch`` envelopes per request, ``--batch-concurrency`` in flight;
* the single route: one envelope per request, ``--concurrency`` in flight.

``--client raw`` drives it with bare HTTP/1.1 keep-alive connections instead of
aiohttp, which costs a fraction of the CPU per request (both run on uvloop).
``--client wrk`` drives it with wrk (``apt-get install wrk``; ``./dev bench gateway``
installs it) and ``bench/wrk_submit.lua``, which sends each request once and
matches answers to requests by transaction id: a load generator in C, which
leaves both cores to the node. Its answers to "busy" are counted, not retried.

Every request waits for commit, so latency is submit-to-durable-commit. Prints
one line per route, each ending ``committed_tps=… p50_ms=… p99_ms=… success=…
cpu_us_per_tx=… client_cpu_us_per_tx=…``: the node's CPU time (user + system,
every thread and child process, from /proc) per submitted transaction while that route ran,
which stays steady when other work shares the machine and tx/s does not, and the
same for this load generator (it shares the machine's cores with the node).
``--route`` runs one route.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import uvloop

from civicledger.benchmark import bench_genesis, percentile, sign_transfers
from civicledger.core import tx as txs
from civicledger.core.crypto import KeyPair

CIVIC = str(Path(sys.executable).parent / "civic")
WRK_SCRIPT = Path(__file__).with_name("wrk_submit.lua")
JSON_TYPE = {"Content-Type": "application/json"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_node(data: Path, accounts: list[KeyPair]) -> tuple[subprocess.Popen, str]:
    genesis = data.parent / "genesis.json"
    genesis.write_bytes(bench_genesis(accounts, 1_000_000).to_json())
    subprocess.run([CIVIC, "--data", str(data), "init", "--genesis", str(genesis)], check=True,
                   stdout=subprocess.DEVNULL)
    port = _free_port()
    process = subprocess.Popen([CIVIC, "--data", str(data), "up", "--port", str(port)],
                               stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the node did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far, all threads, with its live children
    (the node's signature workers) and those it has reaped."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                for c in (task / "children").read_text().split()]
    total = own / os.sysconf("SC_CLK_TCK")
    for child in children:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # it has just exited
            total += _cpu_seconds(child)
    return total


QUERY = "?wait=true&timeout_ms=60000"
Post = Callable[[bytes], Awaitable[tuple[int, str | None, dict]]]
"""Send one JSON body; (status, Retry-After, decoded answer)."""


class _Connection:
    """A bare HTTP/1.1 keep-alive connection: the cheapest load generator this side of C.

    aiohttp spends ~400 µs of CPU per request here, more than half of what the node
    spends; on a 2-core machine that CPU is taken from the node being measured.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 head: bytes) -> None:
        self.reader, self.writer, self.head = reader, writer, head

    @classmethod
    async def open(cls, url: str, target: str) -> _Connection:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        head = (f"POST {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Content-Type: application/json\r\n").encode()
        return cls(reader, writer, head)

    async def post(self, body: bytes) -> tuple[int, str | None, dict]:
        self.writer.write(b"%sContent-Length: %d\r\n\r\n%s" % (self.head, len(body), body))
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
        data = await self.reader.readexactly(int(headers["content-length"]))
        return int(lines[0].split(" ", 2)[1]), headers.get("retry-after"), json.loads(data)

    def close(self) -> None:
        self.writer.close()


async def _drive(url: str, bodies: list[dict], path: str, concurrency: int, per_body: int,
                 client: str) -> tuple[int, int, float, list[float]]:
    """Post every body with ``concurrency`` in flight; (submitted, committed ok, seconds, latencies)."""
    queue = collections.deque(json.dumps(body).encode() for body in bodies)
    latencies: list[float] = []
    ok = 0

    async def worker(post: Post) -> None:
        nonlocal ok
        while queue:
            body = queue.popleft()
            while True:
                started = time.perf_counter()
                status, retry_after, data = await post(body)
                if status == 503:  # busy: retry as the answer says
                    await asyncio.sleep(float(retry_after or "1"))
                    continue
                break
            elapsed = (time.perf_counter() - started) * 1000
            results = data.get("results", [data])
            committed = [r for r in results if r.get("state") == "committed"
                         and r["receipt"]["status"] == "ok"]
            ok += len(committed)
            latencies.extend([elapsed] * len(results))

    if client == "raw":
        connections = [await _Connection.open(url, path + QUERY) for _ in range(concurrency)]
        started = time.perf_counter()
        await asyncio.gather(*(worker(c.post) for c in connections))
        seconds = time.perf_counter() - started
        for connection in connections:
            connection.close()
        return len(bodies) * per_body, ok, seconds, latencies
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(url, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def post(body: bytes) -> tuple[int, str | None, dict]:
            async with session.post(path + QUERY, data=body, headers=JSON_TYPE) as response:
                return (response.status, response.headers.get("Retry-After"),
                        json.loads(await response.read()))

        started = time.perf_counter()
        await asyncio.gather(*(worker(post) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return len(bodies) * per_body, ok, seconds, latencies


def _drive_wrk(pid: int, url: str, bodies: list[dict], path: str, concurrency: int,
               per_body: int) -> tuple[int, int, float, list[float], float, float]:
    """Post every body once through wrk; like ``_measured``, with wrk's CPU as the client's."""
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench.gateway: --client wrk needs wrk (apt-get install wrk, or ./dev bench gateway)")
    with tempfile.TemporaryDirectory(prefix="civic-wrk-") as tmp:
        requests, results = Path(tmp) / "requests", Path(tmp) / "results"
        with requests.open("w") as out:
            for body in bodies:
                first = body.get("envelope") or body["envelopes"][0]
                tx_id = txs.peek_id(base64.b64decode(first))
                assert tx_id is not None
                out.write(f"{tx_id.hex()} {per_body} {path}{QUERY} {json.dumps(body)}\n")
        cpu = _cpu_seconds(pid)
        process = subprocess.Popen(
            [wrk, "-t1", f"-c{concurrency}", "-d3600s", "--timeout", "120s", "-s", str(WRK_SCRIPT),
             url, "--", str(requests), str(results)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 3600
        while not results.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        node_cpu, client_cpu = _cpu_seconds(pid) - cpu, _cpu_seconds(process.pid)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        if not results.exists():
            sys.exit(f"bench.gateway: wrk stopped (exit {process.returncode}) before every answer came")
        head, *rows = results.read_text().splitlines()
    first_s, last_s, _answered, ok = head.split()
    latencies: list[float] = []
    for row in rows:
        seconds, count = row.split()
        latencies.extend([float(seconds) * 1000] * int(count))
    return (len(bodies) * per_body, int(ok), float(last_s) - float(first_s), latencies,
            node_cpu, client_cpu)


def _measured(pid: int, url: str, bodies: list[dict], path: str, concurrency: int,
              per_body: int, client: str) -> tuple[int, int, float, list[float], float, float]:
    """``_drive``, and the node's and this load generator's CPU seconds meanwhile."""
    if client == "wrk":
        return _drive_wrk(pid, url, bodies, path, concurrency, per_body)
    cpu, own = _cpu_seconds(pid), _cpu_seconds(os.getpid())
    run = uvloop.run(_drive(url, bodies, path, concurrency, per_body, client))
    return (*run, _cpu_seconds(pid) - cpu, _cpu_seconds(os.getpid()) - own)


def _line(route: str, submitted: int, ok: int, seconds: float, latencies: list[float],
          cpu: float, client_cpu: float) -> str:
    return (f"route={route} txs={submitted} seconds={seconds:.2f} "
            f"committed_tps={ok / seconds:.0f} p50_ms={percentile(latencies, 0.5):.1f} "
            f"p99_ms={percentile(latencies, 0.99):.1f} success={ok / max(1, submitted):.4f} "
            f"cpu_us_per_tx={cpu * 1e6 / max(1, submitted):.0f} "
            f"client_cpu_us_per_tx={client_cpu * 1e6 / max(1, submitted):.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--txs", type=int, default=20000, help="transfers per route")
    parser.add_argument("--batch", type=int, default=500, help="envelopes per batch request")
    parser.add_argument("--batch-concurrency", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=512, help="single-route requests in flight")
    parser.add_argument("--route", choices=("both", "batch", "single"), default="both")
    parser.add_argument("--client", choices=("aiohttp", "raw", "wrk"),
                        default="wrk" if shutil.which("wrk") else "aiohttp",
                        help="load generator: aiohttp, bare HTTP/1.1 (far less CPU per request), "
                             "or wrk (C; least of all; the default where it is installed)")
    args = parser.parse_args()
    keys = [KeyPair.generate() for _ in range(args.accounts)]
    envelopes = [base64.b64encode(e).decode() for e in sign_transfers(keys, 2 * args.txs)]
    batch_part, single_part = envelopes[:args.txs], envelopes[args.txs:]
    with tempfile.TemporaryDirectory(prefix="civic-bench-") as tmp:
        process, url = _start_node(Path(tmp) / "data", keys)
        lines = []
        try:
            if args.route in ("both", "batch"):
                batches = [{"envelopes": batch_part[i:i + args.batch]}
                           for i in range(0, len(batch_part), args.batch)]
                lines.append(_line("batch", *_measured(
                    process.pid, url, batches, "/v1/transactions/batch",
                    args.batch_concurrency, args.batch, args.client)))
            if args.route in ("both", "single"):
                singles = [{"envelope": e} for e in single_part]
                lines.append(_line("single", *_measured(
                    process.pid, url, singles, "/v1/transactions", args.concurrency, 1, args.client)))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    print(f"accounts={args.accounts} batch={args.batch}x{args.batch_concurrency} "
          f"single_concurrency={args.concurrency} client={args.client}")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
