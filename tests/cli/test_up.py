"""``civic up`` as a real process: stopped by a signal under load, restarted, and on a full disk."""

from __future__ import annotations

import random
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from civicledger.cli.demo import DEMO_PASSPHRASE
from civicledger.cli.main import _publish
from civicledger.cli.workspace import Workspace
from civicledger.core.errors import NodeFault
from civicledger.sdk import Client, ClientError, Wallet
from tests.cli.conftest import start
from tests.sdk.conftest import CIVIC, free_port
from tests.tmpfs import fill, small_filesystem

SENDERS = ("minji", "junho", "seoyeon", "dohyun")
BATCH = 10
MAX_ROUNDS = 300
"""Batches each sender sends at most: the load stops by itself."""


class Load:
    """Signed transfers in batches from several senders at once, until the gateway goes away."""

    def __init__(self, url: str, data: Path) -> None:
        ws = Workspace(data)
        self.url = url
        self.wallets = {n: Wallet.load(ws.key_path(n), DEMO_PASSPHRASE) for n in SENDERS}
        self.acknowledged: list[str] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._send, args=(n,)) for n in SENDERS]
        self.threads.append(threading.Thread(target=self._follow))

    def _follow(self) -> None:
        """A live event stream stays open through the stop: it must not hold the node up."""
        with Client(self.url, timeout=30) as client:
            try:
                for _ in client.events(contract="token", timeout=30):
                    pass
            except ClientError:
                pass

    def _send(self, name: str) -> None:
        wallet = self.wallets[name]
        others = [w.address_text for n, w in self.wallets.items() if n != name]
        with Client(self.url, timeout=30) as client:
            for _ in range(MAX_ROUNDS):
                batch = [client.build(wallet, "token", "transfer",
                                      {"currency": "CIV", "to": random.choice(others), "amount": 1})
                         for _ in range(BATCH)]
                try:
                    outcomes = client.submit_many(batch, wait=True, timeout_ms=20_000)
                except ClientError:
                    return  # the gateway stopped admitting
                with self.lock:
                    self.acknowledged.extend(o.tx_id for o in outcomes if o.committed)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 60
        while len(self.acknowledged) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.acknowledged) >= count, "the load did not get going"

    def join(self) -> None:
        for thread in self.threads:
            thread.join(60)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_under_load_stops_the_node_cleanly_and_loses_nothing_acknowledged(
        demo_data, tmp_path, sig):
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    log = tmp_path / "up.log"
    process, url = start(data, log)
    try:
        load = Load(url, data)
        load.start()
        load.wait_for(200)
        signalled = time.monotonic()
        process.send_signal(sig)
        code = process.wait(timeout=60)
        took = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    load.join()
    output = log.read_text()
    print(f"\n{sig.name} to exit under load: {took:.2f} s "
          f"({len(load.acknowledged)} transactions acknowledged as committed, "
          f"a live event stream open)")
    assert code == 0, output
    assert f"node stopped ({sig.name})" in output
    assert "Traceback" not in output
    assert not Workspace(data).gateway_url.exists()

    again, url = start(data, tmp_path / "again.log")
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            states = {http.get(f"/v1/transactions/{tx_id}").json().get("state")
                      for tx_id in load.acknowledged}
        assert states == {"committed"}
    finally:
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=60) == 0


def test_a_start_on_a_full_disk_says_so_and_exits_with_the_node_fault_code(demo_data, tmp_path):
    with small_filesystem(tmp_path / "disk") as disk:
        data = disk / "data"
        shutil.copytree(demo_data, data)
        fill(disk)
        done = subprocess.run([CIVIC, "--data", str(data), "up", "--port", str(free_port())],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 4, done.stdout + done.stderr
        assert "error [disk_full]: the disk of" in done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        assert not Workspace(data).gateway_url.exists()


def test_the_gateway_address_is_written_whole_or_not_at_all(tmp_path):
    with small_filesystem(tmp_path / "disk") as disk:
        fill(disk)
        target = disk / "gateway.url"
        with pytest.raises(NodeFault) as refused:
            _publish(target, "http://127.0.0.1:8700\n")
        assert refused.value.code == "disk_full"
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]  # no empty file left


def test_a_port_in_use_is_a_node_fault_with_a_clear_message(demo_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([CIVIC, "--data", str(data), "up", "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 4, done.stdout + done.stderr
    assert f"error [listen_failed]: the gateway cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "node up" not in done.stdout  # nothing was announced, nor written for other commands
    assert not Workspace(data).gateway_url.exists()
