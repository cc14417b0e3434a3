"""A small city for token tests: three member organisations, their issuers, two currencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from civicledger.contracts.framework import Contract
from civicledger.contracts.governance import Governance
from civicledger.contracts.testing import Sandbox
from civicledger.contracts.token import Token
from civicledger.core.address import address_of, to_text
from civicledger.core.block import Receipt
from civicledger.core.crypto import KeyPair

HOUR_NW = 700
"""Nowon pays 700 NW for an hour of volunteering."""
NW_CAP = 50_000
YEAR_MS = 365 * 24 * 3600 * 1000
NW_VALIDITY_MS = 3 * YEAR_MS


def new_account() -> bytes:
    return address_of(KeyPair.generate().public_key)


@dataclass
class City:
    box: Sandbox
    seoul_admin: bytes
    nowon_admin: bytes
    gangnam_admin: bytes
    seoul_issuer: bytes
    nowon_issuer: bytes
    alice: bytes
    bob: bytes
    carol: bytes

    def call(self, signer: bytes, method: str, /, **args: Any) -> Receipt:
        return self.box.call(signer, "token", method, **args)

    def query(self, name: str, /, **args: Any) -> Any:
        return self.box.query("token", name, **args)

    def spendable(self, currency: str, account: bytes) -> int:
        return self.query("balance", currency=currency, account=account)["spendable"]

    def supply(self, currency: str) -> int:
        return self.query("supply", currency=currency)

    def govern(self, method: str, /, **args: Any) -> dict[str, Any]:
        """Propose ``token.method(**args)`` as Seoul, approve as Nowon (2 of 3 is the quorum)."""
        proposed = self.box.call(
            self.seoul_admin, "governance", "propose", org="seoul", contract="token",
            method=method, args=args, expires_ms=self.box.time_ms + 3_600_000,
        )
        assert proposed.ok, proposed
        approved = self.box.call(
            self.nowon_admin, "governance", "approve", org="nowon", proposal=proposed.result
        )
        assert approved.ok, approved
        return self.box.query("governance", "proposal", proposal=proposed.result)


def make_city(extra: tuple[type[Contract], ...] = (), token: dict[str, Any] | None = None) -> City:
    accounts = [new_account() for _ in range(8)]
    seoul_admin, nowon_admin, gangnam_admin, seoul_issuer, nowon_issuer, alice, bob, carol = (
        accounts
    )
    genesis = {
        "governance": {
            "orgs": [
                {"id": "seoul", "name": "Seoul Metropolitan Government",
                 "admins": [to_text(seoul_admin)],
                 "roles": {to_text(seoul_issuer): ["issuer"]}},
                {"id": "nowon", "name": "노원구", "admins": [to_text(nowon_admin)],
                 "roles": {to_text(nowon_issuer): ["issuer"]}},
                {"id": "gangnam", "name": "강남구", "admins": [to_text(gangnam_admin)]},
            ],
        },
        "token": token if token is not None else {
            "currencies": [
                {"symbol": "CIV", "name": "City incentive token", "issuer": "seoul",
                 "decimals": 0, "cap": None, "validity_ms": None, "max_supply": None},
                {"symbol": "NW", "name": "노원 NW", "issuer": "nowon", "decimals": 0,
                 "cap": NW_CAP, "validity_ms": NW_VALIDITY_MS},
            ],
            "balances": [{"symbol": "CIV", "account": to_text(alice), "amount": 1_000}],
            "rates": [
                {"from": "NW", "to": "CIV", "num": 1, "den": 10},
                {"from": "CIV", "to": "NW", "num": 10, "den": 1},
            ],
        },
    }
    box = Sandbox([Governance, Token, *extra], genesis=genesis)
    return City(box, *accounts)
