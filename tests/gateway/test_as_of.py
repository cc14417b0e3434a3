"""Queries answer as of now: a lot that expired after the last block is not shown spendable."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from civicledger.contracts.catalog import registry as default_registry
from civicledger.core.address import to_text
from civicledger.gateway import GatewayConfig, create_app
from civicledger.node.asof import query_as_of
from civicledger.node.executor import Genesis
from civicledger.node.node import Node, initialise
from civicledger.node.ordering import SoloOrderer
from civicledger.node.sqlite_store import SqliteStore
from tests.node.conftest import CHAIN, Accounts

START_MS = 1_800_000_000_000
VALIDITY_MS = 60_000


class Clock:
    def __init__(self) -> None:
        self.now = START_MS

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def setup(tmp_path):
    accounts = Accounts(2)
    admin = to_text(accounts.address(0))
    genesis = Genesis(CHAIN, START_MS, {
        "governance": {"orgs": [{"id": "city", "name": "City", "admins": [admin],
                                 "roles": {admin: ["issuer"]}}]},
        "token": {
            "currencies": [{"symbol": "NW", "name": "Nowon", "issuer": "city",
                            "validity_ms": VALIDITY_MS}],
            "balances": [{"symbol": "NW", "account": to_text(accounts.address(1)), "amount": 700}],
        },
    })
    store = SqliteStore(tmp_path / "ledger.db")
    node_registry = default_registry()
    initialise(store, node_registry, genesis)
    clock = Clock()
    node = Node(store, node_registry, SoloOrderer(max_wait_ms=2, clock=clock), clock=clock).start()
    try:
        with TestClient(create_app(node, GatewayConfig())) as api:
            yield api, node, clock, accounts
    finally:
        node.stop()
        store.close()


def test_a_query_is_evaluated_as_of_now_and_says_so(setup):
    api, node, clock, accounts = setup
    holder = to_text(accounts.address(1))
    ask = {"args": {"currency": "NW", "account": holder}}
    fresh = api.post("/v1/contracts/token/queries/balance", json=ask).json()
    assert (fresh["result"]["spendable"], fresh["as_of_ms"], fresh["height"]) == (700, START_MS, 0)

    clock.now = START_MS + VALIDITY_MS  # no block since genesis: the head is a minute old
    later = api.post("/v1/contracts/token/queries/balance", json=ask).json()
    assert (later["result"]["spendable"], later["result"]["expired"]) == (0, 700)
    assert (later["as_of_ms"], later["height"]) == (clock.now, 0)

    wallet = api.get(f"/v1/accounts/{holder}/balances").json()
    assert [(b["currency"], b["spendable"], b["expired"]) for b in wallet["balances"]] == [
        ("NW", 0, 700)]
    assert (wallet["as_of_ms"], wallet["height"]) == (clock.now, 0)


def test_never_earlier_than_the_head_and_consensus_keeps_block_time(setup):
    api, node, clock, accounts = setup
    holder = accounts.address(1)
    args = {"currency": "NW", "account": holder}
    early = query_as_of(node.store, node.registry, "token", "balance", args, START_MS - 10_000)
    assert (early.as_of_ms, early.result["spendable"]) == (START_MS, 700)
    assert node.query("token", "balance", args)["spendable"] == 700  # the head's own time
    clock.now = START_MS + VALIDITY_MS
    assert node.query("token", "balance", args)["spendable"] == 700, "Node.query: block time"
