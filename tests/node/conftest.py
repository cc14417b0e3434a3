from __future__ import annotations

import os

import pytest

from civicledger.contracts.catalog import registry as default_registry
from civicledger.core.address import address_of, to_text
from civicledger.core.crypto import KeyPair
from civicledger.core.tx import Transaction
from civicledger.node.executor import Genesis
from civicledger.node.ordering import wall_clock_ms

CHAIN = "test-chain"


class Accounts:
    def __init__(self, count: int) -> None:
        self.keys = [KeyPair.generate() for _ in range(count)]

    def address(self, i: int) -> bytes:
        return address_of(self.keys[i].public_key)

    def transfer(self, sender: int, recipient: int, amount: int, *, expires: int | None = None,
                 chain: str = CHAIN) -> Transaction:
        return Transaction(
            chain, "token", "transfer",
            {"currency": "CIV", "to": self.address(recipient), "amount": amount},
            self.keys[sender].public_key, os.urandom(16),
            expires if expires is not None else wall_clock_ms() + 600_000,
        )


def make_genesis(accounts: Accounts, amount: int = 1_000, time_ms: int | None = None) -> Genesis:
    admin = to_text(accounts.address(0))
    return Genesis(CHAIN, time_ms if time_ms is not None else wall_clock_ms(), {
        "governance": {"orgs": [{"id": "city", "name": "City", "admins": [admin],
                                 "roles": {admin: ["issuer"]}}]},
        "token": {
            "currencies": [{"symbol": "CIV", "name": "Civic", "issuer": "city", "decimals": 0,
                            "cap": None, "validity_ms": None, "max_supply": None}],
            "balances": [{"symbol": "CIV", "account": to_text(accounts.address(i)), "amount": amount}
                         for i in range(len(accounts.keys))],
        },
    })


@pytest.fixture
def accounts() -> Accounts:
    return Accounts(6)


@pytest.fixture
def registry():
    return default_registry()


@pytest.fixture
def nats_cluster(tmp_path):
    """Three real nats-server processes on 127.0.0.1, with a NATS login per member org."""
    from civicledger.node.natsd import NatsCluster
    from tests.node.consortium import ORGS

    cluster = NatsCluster(tmp_path / "nats")
    logins = cluster.write(3, ORGS)
    cluster.start()
    try:
        yield cluster, logins
    finally:
        cluster.stop()


@pytest.fixture
def consortium(tmp_path, nats_cluster, accounts):
    from tests.node.consortium import Consortium

    cluster, logins = nats_cluster
    members = Consortium(tmp_path, cluster, logins, accounts)
    try:
        yield members
    finally:
        members.close()
