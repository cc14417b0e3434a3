"""Fault tests of a whole consortium run as real processes: three nats-server nodes and three
``civic peer up`` processes, under load. Each asserts that no acknowledged transaction is lost
or duplicated and that every peer holds identical headers (so identical roots) at every
height, and prints how long recovery took (printed, never asserted: machines are shared)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from civicledger.node.natsd import exited
from tests.node.consortium import wait_for
from tests.node.live_cluster import Load, check_nothing_lost, running

pytestmark = pytest.mark.slow


def progress(load: Load, count: int, timeout: float = 60) -> None:
    target = len(load.acknowledged) + count
    wait_for(lambda: len(load.acknowledged) >= target, timeout, f"{count} more acknowledgements")


def test_killing_the_stream_leader_mid_load_loses_nothing(tmp_path, accounts):
    with running(tmp_path, accounts) as cluster:
        load = Load(cluster).start()
        progress(load, 200)
        leader = cluster.stream_leader()
        killed_at = time.monotonic()
        cluster.nats.kill(leader)
        progress(load, 200, timeout=90)
        recovery = load.first_answer_after(killed_at)
        load.stop()
        print(f"\nstream leader {leader} killed: first commit after {recovery:.2f} s")
        cluster.nats.start([leader])
        cluster.wait_converged()
    assert check_nothing_lost(cluster, load) > 0


def test_a_killed_peer_restarts_and_catches_up_while_the_others_finalise(tmp_path, accounts):
    with running(tmp_path, accounts) as cluster:
        load = Load(cluster, batch=10).start()
        progress(load, 100)
        proposer_pid = int((tmp_path / "gangseo" / "proposer.pid").read_text())
        cluster.kill_peer("gangseo")
        wait_for(lambda: exited(proposer_pid), 10, "the killed peer's proposer to end with it")
        load.stop()
        load = _load_on(cluster, load, ["city", "nowon"])
        during = len(load.acknowledged)
        progress(load, 150)  # two of three still attest: blocks keep becoming final
        assert len(load.acknowledged) > during
        restarted_at = time.monotonic()
        cluster.restart_peer("gangseo")
        caught_up = wait_for(lambda: cluster.heights()["gangseo"] >= cluster.heights()["city"] - 1, 90,
                             "gangseo to catch up")
        progress(load, 100)
        load.stop()
        print(f"\ngangseo restarted and caught up in {time.monotonic() - restarted_at:.2f} s "
              f"({caught_up:.2f} s after answering)")
        cluster.wait_converged()
    assert check_nothing_lost(cluster, load) > 0


def test_killing_the_proposer_hands_proposing_on_without_a_fork(tmp_path, accounts):
    """The proposer is a process of its own beside each peer; kill -9 the leading one."""
    with running(tmp_path, accounts) as cluster:
        load = Load(cluster).start()
        progress(load, 200)
        leader = next(org for org in cluster.orgs
                      if (cluster.health(org) or {}).get("consortium", {}).get("proposing"))
        pid = int((tmp_path / leader / "proposer.pid").read_text())
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        progress(load, 200, timeout=90)
        recovery = load.first_answer_after(killed_at)

        def leading() -> list[str]:
            return [org for org in cluster.orgs if cluster.health(org)["consortium"]["proposing"]]

        wait_for(lambda: len(leading()) == 1, 10, "one proposer to lead")
        print(f"\nproposer of {leader} killed: {leading()[0]}'s proposes, first commit after "
              f"{recovery:.2f} s")
        load.stop()
        cluster.wait_converged()
    assert check_nothing_lost(cluster, load) > 0


def test_a_nats_node_stalled_for_ten_seconds_loses_nothing(tmp_path, accounts):
    with running(tmp_path, accounts) as cluster:
        load = Load(cluster).start()
        progress(load, 200)
        stalled = cluster.stream_leader()
        stopped_at = time.monotonic()
        cluster.nats.kill(stalled, signal.SIGSTOP)
        try:
            time.sleep(10)
        finally:
            cluster.nats.kill(stalled, signal.SIGCONT)
        during = [t for t in load.answered_at if stopped_at < t < stopped_at + 10]
        progress(load, 200, timeout=90)
        load.stop()
        print(f"\nNATS node {stalled} stalled 10 s: {len(during)} commits during the stall, "
              f"first after {load.first_answer_after(stopped_at):.2f} s")
        cluster.wait_converged()
    assert check_nothing_lost(cluster, load) > 0


def _load_on(cluster, previous: Load, orgs: list[str]) -> Load:
    """A new load on ``orgs`` only, keeping what the previous one had acknowledged."""
    load = Load(cluster)
    load.acknowledged.update(previous.acknowledged)
    load.answered_at.extend(previous.answered_at)
    load.orgs = orgs
    return load.start()
