"""Fault tests of a whole consortium run as real processes: three nats-server nodes and three
``civic peer up`` processes, under load. Each asserts that no acknowledged transaction is lost
or duplicated and that every peer holds identical headers (so identical roots) at every
height, and prints how long recovery took (printed, never asserted: machines are shared)."""

from __future__ import annotations

import signal
import time

import pytest

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
        cluster.kill_peer("gangseo")
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


def test_killing_the_proposer_hands_proposing_to_another_peer_without_a_fork(tmp_path, accounts):
    with running(tmp_path, accounts) as cluster:
        load = Load(cluster).start()
        progress(load, 200)
        proposer = next(org for org in cluster.orgs
                        if (cluster.health(org) or {}).get("consortium", {}).get("proposing"))
        others = [org for org in cluster.orgs if org != proposer]
        load.stop()
        load = _load_on(cluster, load, others)
        killed_at = time.monotonic()
        cluster.kill_peer(proposer)
        progress(load, 100, timeout=90)
        recovery = load.first_answer_after(killed_at)
        successor = [org for org in others if cluster.health(org)["consortium"]["proposing"]]
        assert successor, "no peer took over proposing"
        print(f"\nproposer {proposer} killed: {successor[0]} proposed, first commit after "
              f"{recovery:.2f} s")
        cluster.restart_peer(proposer)
        progress(load, 50)
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
