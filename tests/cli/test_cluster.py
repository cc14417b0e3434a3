"""``civic cluster up`` / ``down`` as a newcomer runs them, and a light client's check of finality
through the SDK: k member signatures, verified here, on the header that includes a transfer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from civicledger.node.natsd import exited
from civicledger.sdk.client import Client
from civicledger.sdk.errors import ProofError
from civicledger.sdk.wallet import Wallet
from tests.node.consortium import wait_for
from tests.node.live_cluster import consecutive_free_ports

pytestmark = pytest.mark.slow


def civic(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "civicledger", *args], capture_output=True, text=True,
                          timeout=240, env={**os.environ, "CIVIC_PASSPHRASE": "demo"}, check=False)


def recorded_pids(root: Path) -> list[int]:
    peers = json.loads((root / "peers.json").read_text())
    nats = json.loads((root / "nats" / "pids.json").read_text())
    return [entry["pid"] for entry in peers.values()] + list(nats.values())


def test_cluster_up_serves_three_members_that_agree_and_down_stops_exactly_them(tmp_path: Path):
    root = tmp_path / "cluster"
    first = consecutive_free_ports(3)[0]
    up = civic("cluster", "up", "--root", str(root), "--port", str(first))
    assert up.returncode == 0, up.stderr
    urls = [f"http://127.0.0.1:{first + i}" for i in range(3)]
    try:
        pids = recorded_pids(root)
        assert len(pids) == 6
        health = [httpx.get(f"{url}/v1/health").json() for url in urls]
        assert [h["consortium"]["org"] for h in health] == ["seoul", "nowon", "gangseo"]
        assert {h["height"] for h in health} == {health[0]["height"]} and health[0]["height"] > 50

        minji = Wallet.load(root / "nowon" / "keys" / "minji.json", "demo")
        junho = Wallet.load(root / "nowon" / "keys" / "junho.json", "demo")
        with Client(urls[1]) as nowon, Client(urls[2]) as gangseo:
            outcome = nowon.call(minji, "token", "transfer", currency="CIV", to=junho.address_text,
                                 amount=7)
            assert outcome.ok
            wait_for(lambda: httpx.get(f"{urls[2]}/v1/health").json()["final_height"] >= outcome.height,
                     30, "gangseo to commit the block and hold the others' signatures")
            proof = gangseo.verify_inclusion(outcome.tx_id)  # another member holds it too
            attested = gangseo.verify_attested(proof.header)
            assert attested.final and len(attested.signers) >= 2
            assert set(attested.signers) <= {"seoul", "nowon", "gangseo"}
            strangers = {org: Wallet.create().public_key for org in ("seoul", "nowon", "gangseo")}
            with pytest.raises(ProofError) as refused:
                gangseo.verify_attested(proof.header, peers=strangers)
            assert refused.value.code == "not_final"
        again = civic("cluster", "up", "--root", str(root), "--port", str(first))
        assert again.returncode != 0 and "cluster_running" in again.stderr
    finally:
        down = civic("cluster", "down", "--root", str(root))
    assert down.returncode == 0 and "stopped 6 processes" in down.stdout
    assert all(exited(pid) for pid in pids)
    assert not (root / "peers.json").exists()
    assert (root / "seoul" / "ledger.db").exists()  # the data stays

    restarted = civic("cluster", "up", "--root", str(root), "--port", str(first))
    try:
        assert restarted.returncode == 0, restarted.stderr
        heights = {httpx.get(f"{url}/v1/health").json()["height"] for url in urls}
        assert heights == {health[0]["height"] + 1}  # the transfer's block, kept by every member
    finally:
        civic("cluster", "down", "--root", str(root))


def test_peer_up_refuses_clearly_without_a_ledger_or_a_login(tmp_path: Path):
    missing = civic("--data", str(tmp_path / "empty"), "peer", "up", "--org", "nowon",
                    "--nats", "nats://127.0.0.1:1")
    assert missing.returncode == 4 and "not_initialised" in missing.stderr
    assert "Traceback" not in missing.stderr
