"""How long ``civic up`` takes to stop under load, and that it loses nothing it acknowledged:
python -m bench.shutdown [--runs N] [--load-s S] [--concurrency C] [--batch B]

Starts a real node (``civic up``) on a fresh ledger, drives it with batches of pre-signed
transfers (each request waits for commit) from C threads, sends SIGTERM after S seconds of
load and measures the time from the signal to the process's exit. Then it opens the store
and checks that every transaction the gateway acknowledged as committed is in the chain.
Prints one line per run: ``stop_s=… exit=… acknowledged=… lost=… load_tps=…``.
"""

from __future__ import annotations

import argparse
import base64
import signal
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.gateway import _start_node
from civicledger.benchmark import sign_transfers
from civicledger.core import tx as txs
from civicledger.core.crypto import KeyPair
from civicledger.node.sqlite_store import SqliteStore


def run_once(accounts: int, load_s: float, concurrency: int, batch: int) -> str:
    keys = [KeyPair.generate() for _ in range(accounts)]
    envelopes = sign_transfers(keys, 200_000, seed=int(time.time()))
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        process, url = _start_node(data, keys)
        acknowledged: list[bytes] = []
        lock = threading.Lock()
        cursor = iter(range(0, len(envelopes), batch))
        stop = threading.Event()

        def drive() -> None:
            with httpx.Client(base_url=url, timeout=60) as http:
                while not stop.is_set():
                    with lock:
                        start = next(cursor, None)
                    if start is None:
                        return
                    chunk = envelopes[start:start + batch]
                    body = {"envelopes": [base64.b64encode(e).decode() for e in chunk]}
                    try:
                        answer = http.post("/v1/transactions/batch?wait=true", json=body)
                    except httpx.HTTPError:
                        return  # the gateway stopped admitting
                    if answer.status_code != 200:
                        continue
                    done = [txs.peek_id(e) for e, r in zip(chunk, answer.json()["results"],
                                                           strict=True) if r["state"] == "committed"]
                    with lock:
                        acknowledged.extend(i for i in done if i is not None)

        threads = [threading.Thread(target=drive) for _ in range(concurrency)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(load_s)
        with lock:
            before_signal = len(acknowledged)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=120)
        took = time.monotonic() - signalled
        stop.set()
        for thread in threads:
            thread.join(60)
        store = SqliteStore(data / "ledger.db", readonly=True)
        try:
            found = store.committed(acknowledged)
        finally:
            store.close()
        lost = len(set(acknowledged) - found)
        return (f"stop_s={took:.2f} exit={code} acknowledged={len(acknowledged)} lost={lost} "
                f"load_tps={before_signal / (signalled - started):.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--load-s", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    for _ in range(args.runs):
        print(run_once(args.accounts, args.load_s, args.concurrency, args.batch), flush=True)


if __name__ == "__main__":
    main()
