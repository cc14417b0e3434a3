"""A small city for the incentive services: Seoul operates them, Nowon and Gangseo verify
hazards in their zones, four residents, three sensors, an app that buys data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from civicledger.contracts.airquality import AirQuality
from civicledger.contracts.framework import contract_account
from civicledger.contracts.governance import Governance
from civicledger.contracts.hazards import Hazards
from civicledger.contracts.incentives import Incentives
from civicledger.contracts.parking import Parking
from civicledger.contracts.testing import START_MS, Sandbox
from civicledger.contracts.token import Token
from civicledger.core.address import address_of, to_text
from civicledger.core.block import Receipt
from civicledger.core.crypto import KeyPair

HOUR = 3_600_000
DAY = 24 * HOUR
DAY0 = START_MS // DAY
"""The sandbox starts at midnight UTC of this day."""
BUDGET = 100_000
AIR_REWARD, AIR_FEE, AIR_CAP = 10, 4, 50
HAZARD_REWARD, HAZARD_FEE = 100, 30
PLATFORM_BPS = 1_000
NOWON_CELL, NOWON_ZONE = "0412-1087", "041-108"
GANGSEO_CELL, GANGSEO_ZONE = "0389-1050", "038-105"
POOL = contract_account("incentives")
ROLES = {
    "seoul_admin": ("seoul", ("operator", "verifier")),
    "nowon_verifier": ("nowon", ("verifier",)),
    "gangseo_verifier": ("gangseo", ("verifier",)),
    "alice": ("nowon", ("citizen",)),
    "bob": ("nowon", ("citizen",)),
    "carol": ("nowon", ("citizen",)),
    "dave": ("gangseo", ("citizen",)),
    "cafe": ("cafe", ("merchant",)),
}
ADMINS = {"seoul": "seoul_admin", "nowon": "nowon_admin", "gangseo": "gangseo_admin",
          "cafe": "cafe"}
FUNDS = {"seoul_admin": 1_000_000, "alice": 1_000, "bob": 1_000, "carol": 1_000, "dave": 1_000,
         "app": 10_000, "driver": 500}
NAMES = ("seoul_admin", "nowon_admin", "gangseo_admin", "nowon_verifier", "gangseo_verifier",
         "alice", "bob", "carol", "dave", "cafe", "sensor1", "sensor2", "sensor3", "sensor4",
         "app", "driver", "treasury", "outsider")


def new_account() -> bytes:
    return address_of(KeyPair.generate().public_key)


@dataclass
class City:
    box: Sandbox
    accounts: dict[str, bytes] = field(default_factory=dict)

    def __getattr__(self, name: str) -> bytes:
        try:
            return self.__dict__["accounts"][name]
        except KeyError:
            raise AttributeError(name) from None

    def call(self, signer: str, contract: str, method: str, /, **args: Any) -> Receipt:
        return self.box.call(self.accounts[signer], contract, method, **args)

    def ok(self, signer: str, contract: str, method: str, /, **args: Any) -> Any:
        receipt = self.call(signer, contract, method, **args)
        assert receipt.ok, receipt
        return receipt.result

    def query(self, contract: str, name: str, /, **args: Any) -> Any:
        return self.box.query(contract, name, **args)

    def balance(self, account: bytes | str) -> int:
        if isinstance(account, str):
            account = self.accounts[account]
        return self.query("token", "balance", currency="CIV", account=account)["spendable"]

    def flows(self, service: str) -> dict[str, int]:
        return self.query("incentives", "service_flows", service=service)

    def at(self, time_ms: int) -> None:
        """Move block time to just before ``time_ms`` (the next call runs at ``time_ms``)."""
        assert time_ms > self.box.time_ms
        self.box.time_ms = time_ms - 1

    def check_money(self) -> None:
        """Supply equals the sum of balances, and the registry holds exactly what its services
        have recorded as budget and held."""
        holders = [*self.accounts.values(), POOL, contract_account("governance")]
        assert sum(self.balance(a) for a in holders) == self.query("token", "supply",
                                                                   currency="CIV")
        services = self.query("incentives", "services_list")
        recorded = sum(s["flows"]["budget"] + s["flows"]["held"] for s in services)
        assert self.balance(POOL) == recorded


def genesis(accounts: dict[str, bytes]) -> dict[str, Any]:
    orgs = []
    for org, admin in ADMINS.items():
        roles: dict[str, list[str]] = {}
        for name, (role_org, held) in ROLES.items():
            if role_org == org:
                roles[to_text(accounts[name])] = list(held)
        orgs.append({"id": org, "name": org.title(), "admins": [to_text(accounts[admin])],
                     "roles": roles})
    return {
        "governance": {"orgs": orgs},
        "token": {
            "currencies": [
                {"symbol": "CIV", "name": "Civic token", "issuer": "seoul"},
                {"symbol": "NW", "name": "노원 NW", "issuer": "nowon", "cap": 50_000,
                 "validity_ms": 3 * 365 * DAY},
            ],
            "balances": [{"symbol": "CIV", "account": to_text(accounts[n]), "amount": units}
                         for n, units in FUNDS.items()],
        },
        "incentives": {"platform_bps": PLATFORM_BPS, "treasury": to_text(accounts["treasury"])},
    }


def make_city(*, services: bool = True) -> City:
    """The city; with ``services`` Seoul registers and funds air, hazards and parking."""
    accounts = {name: new_account() for name in NAMES}
    box = Sandbox([Governance, Token, Incentives, AirQuality, Hazards, Parking],
                  genesis=genesis(accounts))
    city = City(box, accounts)
    if services:
        register_services(city)
    return city


def register_services(city: City) -> None:
    city.ok("seoul_admin", "incentives", "register_service", service="air", kind="airquality",
            operator="seoul", currency="CIV", title="Air quality data", reward=AIR_REWARD,
            fee=AIR_FEE, daily_cap=AIR_CAP)
    city.ok("seoul_admin", "incentives", "register_service", service="roads", kind="hazards",
            operator="seoul", currency="CIV", title="Road hazards", reward=HAZARD_REWARD,
            fee=HAZARD_FEE, needs_verification=True)
    city.ok("seoul_admin", "incentives", "register_service", service="parking", kind="parking",
            operator="seoul", currency="CIV", title="Shared parking")
    for service in ("air", "roads"):
        city.ok("seoul_admin", "incentives", "fund", service=service, amount=BUDGET)
    city.ok("seoul_admin", "hazards", "assign_zone", service="roads", zone=NOWON_ZONE,
            department="nowon")
    city.ok("seoul_admin", "hazards", "assign_zone", service="roads", zone=GANGSEO_ZONE,
            department="gangseo")
    for sensor in ("sensor1", "sensor2", "sensor3", "sensor4"):
        city.ok("seoul_admin", "airquality", "register_provider", service="air",
                provider=city.accounts[sensor])


def refused(city: City, code: str, signer: str, contract: str, method: str, /, **args: Any) -> Receipt:
    """Call, expect the refusal ``code`` with a message, and check nothing changed."""
    before = dict(city.box.state.entries)
    receipt = city.call(signer, contract, method, **args)
    assert receipt.status == code, receipt
    assert receipt.message and not receipt.events
    assert city.box.state.entries == before
    return receipt
