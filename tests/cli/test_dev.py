"""Dev chains from the command line: unique demo chain ids, and a block time moved forward."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

import httpx
from click.testing import CliRunner

from civicledger.cli.main import DEMO_CHAIN_PREFIX, cli
from tests.cli.conftest import start
from tests.sdk.conftest import CIVIC

DAY_MS = 86_400_000


def test_each_demo_chain_gets_its_own_id(tmp_path):
    runner = CliRunner()
    ids = []
    for name in ("one", "two"):
        done = runner.invoke(cli, ["--data", str(tmp_path / name), "init", "--demo"])
        assert done.exit_code == 0, done.output
        ids.append(json.loads((tmp_path / name / "genesis.json").read_text())["chain_id"])
    assert ids[0] != ids[1] and all(i.startswith(DEMO_CHAIN_PREFIX) for i in ids)
    chosen = runner.invoke(cli, ["--data", str(tmp_path / "three"), "init", "--demo",
                                 "--chain-id", "civic-demo"])
    assert chosen.exit_code == 0 and "chain 'civic-demo'" in chosen.output


def civic(data, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CIVIC, "--data", str(data), *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "CIVIC_PASSPHRASE": "demo"})


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0


def test_a_dev_chain_moves_its_block_time_forward_and_keeps_it_across_a_restart(
        demo_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    process, url = start(data, tmp_path / "up.log", "--dev-clock")
    try:
        assert "dev clock on" in (tmp_path / "up.log").read_text()
        wall = time.time_ns() // 1_000_000
        moved = civic(data, "dev", "advance", "3d")
        assert moved.returncode == 0, moved.stderr
        assert json.loads(moved.stdout)["now_ms"] >= wall + 3 * DAY_MS
        assert civic(data, "dev", "advance", "soon").returncode == 2

        sent = civic(data, "tx", "token", "transfer", "--key", "minji",
                     "--arg", "currency=CIV", "--arg", "to=junho", "--arg", "amount=1")
        assert sent.returncode == 0, sent.stdout + sent.stderr
        receipt = json.loads(sent.stdout)
        assert receipt["status"] == "ok"  # signed by the chain's clock, so not expired
        block = httpx.get(f"{url}/v1/blocks/{receipt['height']}").json()
        advanced_to = block["header"]["time_ms"]
        assert advanced_to >= wall + 3 * DAY_MS
    finally:
        stop(process)

    process, url = start(data, tmp_path / "again.log", "--dev-clock")
    try:  # the clock resumes from the chain's last block time, never before it
        assert httpx.get(f"{url}/v1/chain").json()["now_ms"] >= advanced_to
    finally:
        stop(process)

    process, url = start(data, tmp_path / "plain.log")
    try:
        refused = civic(data, "dev", "advance", "1d")
        assert refused.returncode == 1 and "error [dev_clock_off]" in refused.stderr
    finally:
        stop(process)
    assert "error [node_not_running]" in civic(data, "dev", "advance", "1d").stderr
