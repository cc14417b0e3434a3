"""Real ``civic`` processes on a demo ledger made once per module."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.sdk.conftest import CIVIC, free_port, wait_ready


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory) -> Path:
    """A demo ledger, initialised once and copied by each test."""
    data = tmp_path_factory.mktemp("template") / "data"
    done = subprocess.run([CIVIC, "--data", str(data), "init", "--demo"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return data


def start(data: Path, log: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [CIVIC, "--data", str(data), "up", "--host", "127.0.0.1", "--port", str(port), *extra],
            stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process, log)
    return process, url
