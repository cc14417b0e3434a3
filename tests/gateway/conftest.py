"""A node on a real SQLite file behind the gateway app, driven in-process by Starlette's client."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from civicledger.contracts.catalog import registry as default_registry
from civicledger.gateway import GatewayConfig, create_app
from civicledger.node.blobs import BlobStore
from civicledger.node.node import Node, initialise
from civicledger.node.ordering import SoloOrderer
from civicledger.node.sqlite_store import SqliteStore
from tests.node.conftest import Accounts, make_genesis


@pytest.fixture
def accounts() -> Accounts:
    return Accounts(6)


@pytest.fixture
def registry():
    return default_registry()


@pytest.fixture
def store(tmp_path, accounts, registry):
    store = SqliteStore(tmp_path / "ledger.db")
    initialise(store, registry, make_genesis(accounts))
    yield store
    store.close()


@pytest.fixture
def node(store, registry):
    node = Node(store, registry, SoloOrderer(max_wait_ms=2)).start()
    yield node
    node.stop()


@pytest.fixture
def config() -> GatewayConfig:
    return GatewayConfig()


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
def api(node, config, blobs):
    with TestClient(create_app(node, config, blobs=blobs)) as client:
        yield client


def b64(stx) -> str:
    return base64.b64encode(stx.envelope()).decode()


def transfer(accounts: Accounts, sender: int, recipient: int, amount: int, **kwargs):
    return accounts.transfer(sender, recipient, amount, **kwargs).sign(accounts.keys[sender])


def spendable(api, accounts: Accounts, i: int) -> int:
    from civicledger.core.address import to_text

    body = api.get(f"/v1/accounts/{to_text(accounts.address(i))}/balances").json()
    return {b["currency"]: b["spendable"] for b in body["balances"]}["CIV"]


def error_code(response) -> str:
    return response.json()["error"]["code"]
