"""Moving a dev chain's block time forward, and the refusal everywhere else."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from civicledger.core.tx import Transaction
from civicledger.gateway import GatewayConfig, create_app
from civicledger.node.devclock import DevClock
from civicledger.node.node import Node
from civicledger.node.ordering import SoloOrderer
from tests.gateway.conftest import b64, error_code

DAY_MS = 86_400_000


@pytest.fixture
def dev_api(store, registry):
    clock = DevClock(start_at_least=store.head().time_ms)
    node = Node(store, registry, SoloOrderer(max_wait_ms=2, clock=clock), clock=clock).start()
    with TestClient(create_app(node, GatewayConfig(), dev_clock=clock)) as client:
        yield client
    node.stop()


def test_advancing_the_clock_dates_the_next_block_later(dev_api, accounts):
    before = dev_api.get("/v1/chain").json()
    moved = dev_api.post("/v1/dev/advance-time", json={"ms": 3 * DAY_MS})
    assert moved.status_code == 200, moved.text
    view = moved.json()
    assert view["offset_ms"] >= 3 * DAY_MS and view["now_ms"] >= before["now_ms"] + 3 * DAY_MS
    assert view["head_time_ms"] == before["head"]["time_ms"]  # the head keeps its time

    now = dev_api.get("/v1/chain").json()["now_ms"]
    assert now >= view["now_ms"]
    # signed with its expiry counted from the chain's time, it commits in a later-dated block
    tx = accounts.transfer(1, 2, 5, expires=now + 600_000).sign(accounts.keys[1])
    committed = dev_api.post("/v1/transactions?wait=true", json={"envelope": b64(tx)}).json()
    assert committed["state"] == "committed" and committed["receipt"]["status"] == "ok"
    block = dev_api.get(f"/v1/blocks/{committed['height']}").json()
    assert block["header"]["time_ms"] >= before["now_ms"] + 3 * DAY_MS

    # one signed by the wall clock has expired on this chain, and is refused as such
    stale = accounts.transfer(1, 2, 5).sign(accounts.keys[1])
    refused = dev_api.post("/v1/transactions", json={"envelope": b64(stale)})
    assert refused.status_code == 400 and error_code(refused) == "expired"


@pytest.mark.parametrize("body", [{"ms": 0}, {"ms": -5}, {"ms": "3d"}, {}, {"ms": 1, "x": 2}])
def test_bad_advances_are_refused_and_move_nothing(dev_api, body):
    offset = dev_api.post("/v1/dev/advance-time", json={"ms": 1}).json()["offset_ms"]
    refused = dev_api.post("/v1/dev/advance-time", json=body)
    assert refused.status_code == 422 and error_code(refused) == "invalid_request"
    assert dev_api.post("/v1/dev/advance-time", json={"ms": 1}).json()["offset_ms"] == offset + 1


def test_a_chain_without_a_dev_clock_refuses_to_move_it(api, accounts):
    before = api.get("/v1/chain").json()
    refused = api.post("/v1/dev/advance-time", json={"ms": DAY_MS})
    assert refused.status_code == 403 and error_code(refused) == "dev_clock_off"
    assert api.get("/v1/chain").json()["now_ms"] < before["now_ms"] + DAY_MS
    tx = Transaction("test-chain", "token", "transfer",
                     {"currency": "CIV", "to": accounts.address(2), "amount": 1},
                     accounts.keys[1].public_key, os.urandom(16), before["now_ms"] + 600_000)
    assert api.post("/v1/transactions?wait=true",
                    json={"envelope": b64(tx.sign(accounts.keys[1]))}).status_code == 200
