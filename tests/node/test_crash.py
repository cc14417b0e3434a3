"""Crash safety: SIGKILL a loaded node at random moments; nothing acknowledged is lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from civicledger.core.address import address_of, to_text
from civicledger.node.audit import verify_chain
from civicledger.node.executor import Genesis
from civicledger.node.node import initialise
from civicledger.node.ordering import wall_clock_ms
from civicledger.node.sqlite_store import SqliteStore
from tests.node.crash_load import CHAIN, keys

ROOT = Path(__file__).resolve().parents[2]


def genesis() -> Genesis:
    accounts = keys()
    admin = to_text(address_of(accounts[0].public_key))
    return Genesis(CHAIN, wall_clock_ms(), {
        "governance": {"orgs": [{"id": "city", "name": "City", "admins": [admin]}]},
        "token": {
            "currencies": [{"symbol": "CIV", "name": "Civic", "issuer": "city", "decimals": 0}],
            "balances": [{"symbol": "CIV", "account": to_text(address_of(k.public_key)),
                          "amount": 10**9} for k in accounts],
        },
    })


def run_and_kill(db: Path, seconds: float) -> list[bytes]:
    """Run the loaded node for ``seconds``, SIGKILL it, return the ids it acknowledged."""
    acked: list[bytes] = []
    with (
        open(db.with_suffix(".stderr"), "a") as errors,
        subprocess.Popen(
            [sys.executable, "-m", "tests.node.crash_load", str(db)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True,
        ) as process,
    ):

        def read() -> None:
            for line in process.stdout:
                if line.startswith("ACK "):
                    acked.append(bytes.fromhex(line[4:].strip()))

        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(seconds)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        reader.join()
    return acked


@pytest.mark.slow
def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path, registry):
    db = tmp_path / "ledger.db"
    store = SqliteStore(db)
    initialise(store, registry, genesis())
    store.close()
    rng = random.Random(11)
    acked: list[bytes] = []
    for _ in range(4):
        acked += run_and_kill(db, rng.uniform(1.5, 3.5))
    assert acked, "the node acknowledged nothing; the test proved nothing"
    store = SqliteStore(db)
    missing = [tx_id.hex() for tx_id in acked if store.locate(tx_id) is None]
    assert not missing, f"{len(missing)} acknowledged transactions were lost"
    report = verify_chain(store, registry)
    assert report.ok, report.problem
    assert report.transactions >= len(acked)
    store.close()
