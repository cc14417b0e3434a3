"""How fast this machine is, by the issues' own yardsticks: python -m bench.calibrate

The throughput targets for the node and the gateway were set beside two reference
figures for "this 2-core machine": libsodium verifies about 21,000 Ed25519
signatures per second per core, and a trivial FastAPI+uvicorn endpoint serves
about 8,000 requests per second. This measures both here, the same way:

* ``verify_per_core_s``: ``crypto_sign_open`` (what the node calls) in a loop on one core;
* ``trivial_rps``: a one-line FastAPI endpoint under uvicorn (uvloop, httptools),
  driven by wrk with 64 connections for ``--seconds`` (skipped without wrk).

and prints each with its ratio to the reference, then the targets scaled: the
node's by the signature ratio, the gateway's by the smaller of the two. That is
what the same software would be asked to do had the targets been set on this
machine. A figure, not a verdict: the closing notes give both.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import nacl.bindings
import nacl.signing
from fastapi import FastAPI

REFERENCE_VERIFY_PER_CORE = 21_000
REFERENCE_TRIVIAL_RPS = 8_000
TARGETS = {"transfers": 8_000, "gateway_batch": 5_000, "gateway_single": 2_000}

trivial = FastAPI()


@trivial.get("/")
async def root() -> dict[str, bool]:
    return {"ok": True}


def verify_per_core(seconds: float) -> float:
    """Ed25519 verifications per second on this thread."""
    key = nacl.signing.SigningKey.generate()
    message = os.urandom(40)
    signed = key.sign(message)
    public = bytes(key.verify_key)
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(200):
            nacl.bindings.crypto_sign_open(bytes(signed), public)
        count += 200
    return count / elapsed


def trivial_rps(seconds: float) -> float | None:
    """Requests per second of the trivial endpoint under wrk; None without wrk."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.calibrate:trivial", "--host", "127.0.0.1",
         "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
         "--log-level", "warning"])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the trivial endpoint did not start") from None
                time.sleep(0.1)
        out = subprocess.run([wrk, "-t1", "-c64", f"-d{max(1, round(seconds))}s",
                              f"http://127.0.0.1:{port}/"],
                             capture_output=True, text=True, check=True).stdout
    finally:
        server.terminate()
        server.wait(timeout=10)
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    return float(match[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    args = parser.parse_args()
    verify = verify_per_core(args.seconds)
    rps = trivial_rps(args.seconds)
    verify_ratio = verify / REFERENCE_VERIFY_PER_CORE
    print(f"verify_per_core_s={verify:.0f} reference={REFERENCE_VERIFY_PER_CORE} "
          f"ratio={verify_ratio:.2f}")
    if rps is None:
        print("trivial_rps=skipped (install wrk: ./dev bench gateway does)")
        http_ratio = verify_ratio
    else:
        http_ratio = rps / REFERENCE_TRIVIAL_RPS
        print(f"trivial_rps={rps:.0f} reference={REFERENCE_TRIVIAL_RPS} ratio={http_ratio:.2f}")
    scaled = {"transfers": TARGETS["transfers"] * verify_ratio,
              "gateway_batch": TARGETS["gateway_batch"] * min(verify_ratio, http_ratio),
              "gateway_single": TARGETS["gateway_single"] * min(verify_ratio, http_ratio)}
    print(" ".join(f"{name}_target={TARGETS[name]} scaled_here={value:.0f}"
                   for name, value in scaled.items()))


if __name__ == "__main__":
    main()
