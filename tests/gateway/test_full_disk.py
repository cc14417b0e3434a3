"""A node whose disk fills up, for real (a small tmpfs): the answers say it is the node's fault."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from civicledger.gateway import GatewayConfig, create_app
from civicledger.node.node import Node, initialise
from civicledger.node.ordering import SoloOrderer
from civicledger.node.sqlite_store import SqliteStore
from tests.gateway.conftest import b64, transfer
from tests.node.conftest import make_genesis
from tests.tmpfs import fill, small_filesystem


@pytest.fixture
def disk(tmp_path):
    with small_filesystem(tmp_path / "disk") as where:
        yield where


@pytest.fixture
def full_node(disk, accounts, registry):
    """A node on the small disk, started; the test fills the disk."""
    store = SqliteStore(disk / "ledger.db")
    initialise(store, registry, make_genesis(accounts))
    node = Node(store, registry, SoloOrderer(max_wait_ms=2)).start()
    yield node
    node.stop()
    store.close()


def metric(text: str, name: str) -> float:
    return next(float(line.split()[1]) for line in text.splitlines() if line.startswith(name + " "))


def test_a_transaction_whose_block_cannot_commit_is_answered_as_a_node_fault(
        full_node, disk, accounts):
    with TestClient(create_app(full_node, GatewayConfig(), data_dir=disk)) as api:
        before = api.get("/metrics").text
        stat = os.statvfs(disk)
        assert metric(before, "civic_data_free_bytes") == stat.f_bavail * stat.f_frsize > 0
        fill(disk)
        assert metric(api.get("/metrics").text, "civic_data_free_bytes") < 64 * 1024

        answers = []
        for i in range(50):  # the write-ahead log may hold a few blocks before a write fails
            answer = api.post("/v1/transactions?wait=true",
                              json={"envelope": b64(transfer(accounts, 1, 2, 1 + i))})
            answers.append(answer)
            if answer.status_code != 200:
                break
        failed = answers[-1]
        assert failed.status_code == 503, failed.text
        body = failed.json()
        assert body["state"] == "failed"  # not "refused": it was admitted, the node faulted
        assert body["error"]["code"] in ("store_error", "node_fault")
        assert full_node.fault is not None
        tx_id = body["tx_id"]
        # a failed transaction is not committed, nor waiting: the client may resubmit it
        unknown = api.get(f"/v1/transactions/{tx_id}")
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_transaction"
        later = api.post("/v1/transactions", json={"envelope": b64(transfer(accounts, 3, 2, 1))})
        assert later.status_code == 503 and later.json()["error"]["code"] == "store_error"  # the fault's


def test_metrics_leave_out_free_space_without_a_data_dir(api):
    assert "civic_data_free_bytes" not in api.get("/metrics").text
