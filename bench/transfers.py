"""Signed token transfers through the embedded node: python -m bench.transfers [--accounts N] [--txs N]

Prints a summary, then as its final line:
committed_tps=… p50_ms=… p99_ms=… success=…
"""

from __future__ import annotations

import argparse

from civicledger.benchmark import run_transfers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--txs", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500, help="envelopes per submit_many call")
    args = parser.parse_args()
    result = run_transfers(accounts=args.accounts, count=args.txs, batch=args.batch)
    print(f"accounts={args.accounts} txs={result.submitted} blocks={result.blocks} "
          f"seconds={result.seconds:.2f} bytes_per_tx={result.db_bytes / max(1, result.submitted):.0f} "
          f"{result.cpu_line()}")
    print(result.line())


if __name__ == "__main__":
    main()
