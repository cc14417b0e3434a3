"""The benchmarks run end to end and print their figures line (figures are never asserted:
machines are shared); a small workload, so only the plumbing is under test."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = re.compile(r"committed_tps=(\d+) p50_ms=[\d.]+ p99_ms=[\d.]+ success=([\d.]+)")


def _run(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _figures(line: str) -> tuple[int, float]:
    match = FIGURES.search(line)
    assert match, line
    return int(match[1]), float(match[2])


def test_transfers_commits_every_transfer() -> None:
    *_, last = _run("bench.transfers", "--accounts", "20", "--txs", "300", "--batch", "100")
    tps, success = _figures(last)
    assert tps > 0 and success == 1.0


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (.ci/run installs it)")
def test_gateway_with_wrk_sends_each_transfer_once_and_sees_it_commit() -> None:
    lines = _run("bench.gateway", "--client", "wrk", "--accounts", "20", "--txs", "300",
                 "--batch", "50", "--batch-concurrency", "3", "--concurrency", "40")
    routes = {line.split()[0]: line for line in lines if line.startswith("route=")}
    assert set(routes) == {"route=batch", "route=single"}
    for line in routes.values():
        assert "txs=300 " in line
        tps, success = _figures(line)
        assert tps > 0 and success == 1.0


def test_calibrate_measures_the_reference_figures_and_scales_the_targets() -> None:
    lines = _run("bench.calibrate", "--seconds", "0.3")
    verify = re.fullmatch(r"verify_per_core_s=(\d+) reference=21000 ratio=([\d.]+)", lines[0])
    assert verify and int(verify[1]) > 0
    assert lines[1].startswith("trivial_rps=")
    if shutil.which("wrk"):
        assert re.fullmatch(r"trivial_rps=(\d+) reference=8000 ratio=[\d.]+", lines[1]), lines[1]
    assert re.fullmatch(r"transfers_target=8000 scaled_here=\d+ gateway_batch_target=5000 "
                        r"scaled_here=\d+ gateway_single_target=2000 scaled_here=\d+", lines[2])


def test_tx_lookup_prints_its_latencies() -> None:
    *_, last = _run("bench.tx_lookup", "--txs", "50", "--reads", "100")
    assert re.fullmatch(r"p50_ms=[\d.]+ p99_ms=[\d.]+", last), last


def test_stream_rss_commits_every_transfer_beside_stalled_readers() -> None:
    *_, last = _run("bench.stream_rss", "--txs", "600", "--warmup", "100", "--block", "100")
    match = re.fullmatch(r"rss_start_mb=[\d.]+ rss_end_mb=[\d.]+ txs=(\d+)", last)
    assert match and int(match[1]) == 600, last


def test_cluster_prints_its_figures_line_with_every_transfer_final() -> None:
    *_, last = _run("bench.cluster", "--accounts", "50", "--txs", "600", "--batch", "50",
                    "--no-failover")
    match = re.fullmatch(r"cluster_tps=(\d+) single_tps=(\d+) ratio=[\d.]+ p50_ms=[\d.]+ "
                         r"p99_ms=[\d.]+ success=([\d.]+) failover_s=nan", last)
    assert match, last
    assert int(match[1]) > 0 and int(match[2]) > 0 and float(match[3]) == 1.0
