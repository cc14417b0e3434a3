"""Replay (``civic verify``) of a chain of signed transfers: python -m bench.verify [--accounts N] [--txs N]

Builds the chain through the embedded node, then replays it from genesis and
prints as its final line:
replay_tps=… blocks=… txs=…
"""

from __future__ import annotations

import argparse

from civicledger.benchmark import run_verify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--txs", type=int, default=20000)
    args = parser.parse_args()
    print(run_verify(accounts=args.accounts, count=args.txs).line())


if __name__ == "__main__":
    main()
