"""Two districts for volunteering tests: Nowon (NW) and Gangseo (GS), each with an organisation
whose manager posts requests, a merchant, and a few volunteers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from civicledger.contracts.framework import contract_account
from civicledger.contracts.governance import Governance
from civicledger.contracts.testing import Sandbox
from civicledger.contracts.token import Token
from civicledger.contracts.volunteering import Volunteering
from civicledger.core.address import to_text
from civicledger.core.block import Receipt
from tests.contracts.token.city import new_account

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
YEAR_MS = 365 * DAY_MS
NW_CAP = 50_000
VALIDITY_MS = 3 * YEAR_MS
CONTRACT = contract_account("volunteering")

NAMES = ("seoul_admin", "nowon_admin", "gangseo_admin", "welfare_admin", "school_admin",
         "welfare_manager", "school_manager", "cafe", "bakery", "minji", "junho", "seoyeon",
         "dohyun")


def token_genesis() -> dict[str, Any]:
    return {
        "currencies": [
            {"symbol": "CIV", "name": "City token", "issuer": "seoul"},
            {"symbol": "NW", "name": "노원 NW", "issuer": "nowon", "cap": NW_CAP,
             "validity_ms": VALIDITY_MS},
            {"symbol": "GS", "name": "강서 GS", "issuer": "gangseo", "cap": NW_CAP,
             "validity_ms": VALIDITY_MS},
        ],
        "rates": [
            {"from": "NW", "to": "GS", "num": 1, "den": 1},
            {"from": "NW", "to": "CIV", "num": 1, "den": 2},
        ],
    }


@dataclass
class Town:
    box: Sandbox
    who: dict[str, bytes] = field(default_factory=dict)

    def __getattr__(self, name: str) -> bytes:
        try:
            return self.__dict__["who"][name]
        except KeyError:
            raise AttributeError(name) from None

    def call(self, signer: bytes, method: str, /, *, cosigners: tuple[bytes, ...] = (),
             **args: Any) -> Receipt:
        return self.box.call(signer, "volunteering", method, cosigners=cosigners, **args)

    def ok(self, signer: bytes, method: str, /, **args: Any) -> Any:
        receipt = self.call(signer, method, **args)
        assert receipt.ok, receipt
        return receipt.result

    def query(self, name: str, /, **args: Any) -> Any:
        return self.box.query("volunteering", name, **args)

    def spendable(self, currency: str, account: bytes) -> int:
        return self.box.query("token", "balance", currency=currency, account=account)["spendable"]

    def mint(self, currency: str, to: bytes, amount: int) -> None:
        """Mint directly as the contract would (test set-up only: the issuer role is the contract's)."""
        issuer = {"NW": self.nowon_admin, "GS": self.gangseo_admin, "CIV": self.seoul_admin}[currency]
        receipt = self.box.call(issuer, "token", "mint", currency=currency, to=to, amount=amount)
        assert receipt.ok, receipt

    # -- the lifecycle, step by step -------------------------------------------

    def post(self, manager: bytes | None = None, org: str = "welfare", **overrides: Any) -> int:
        """Post a request starting a day from now, 3 hours long, deadline in 12 hours."""
        now = self.box.time_ms
        args = {"org": org, "task": "도시락 배달 lunch-box delivery", "place": "nowon:gongneung-2",
                "start_ms": now + DAY_MS, "end_ms": now + DAY_MS + 3 * HOUR_MS, "slots": 2,
                "skills": ("driving", "elderly-care"), "offer_per_hour": 700,
                "deadline_ms": now + 12 * HOUR_MS}
        args.update(overrides)
        signer = manager or (self.welfare_manager if org == "welfare" else self.school_manager)
        return self.ok(signer, "post_request", **args)

    def apply(self, volunteer: bytes, request: int, ask: int = 700,
              skills: tuple[str, ...] = ("driving", "elderly-care"), **overrides: Any) -> Receipt:
        record = self.query("request", request=request)
        args = {"request": request, "ask_per_hour": ask, "skills": skills,
                "available_from_ms": record["start_ms"], "available_until_ms": record["end_ms"]}
        args.update(overrides)
        return self.call(volunteer, "apply", **args)

    def to_deadline(self, request: int) -> None:
        self.box.advance(self.query("request", request=request)["deadline_ms"] - self.box.time_ms)

    def to_start(self, request: int) -> None:
        self.box.advance(self.query("request", request=request)["start_ms"] - self.box.time_ms)

    def work(self, request: int, volunteer: bytes, manager: bytes, hours: int = 3) -> None:
        """Co-signed check-in at the window's start and check-out ``hours`` later."""
        self.to_start(request)
        receipt = self.call(volunteer, "check_in", cosigners=(manager,), request=request,
                            volunteer=volunteer, manager=manager)
        assert receipt.ok, receipt
        self.box.advance(hours * HOUR_MS)
        receipt = self.call(manager, "check_out", cosigners=(volunteer,), request=request,
                            volunteer=volunteer, manager=manager)
        assert receipt.ok, receipt

    def earn(self, volunteer: bytes, hours: int = 3, org: str = "welfare") -> int:
        """A whole activity for ``volunteer`` alone, rated 5; returns the certificate id."""
        manager = self.welfare_manager if org == "welfare" else self.school_manager
        now = self.box.time_ms
        request = self.post(org=org, slots=1, start_ms=now + DAY_MS,
                            end_ms=now + DAY_MS + hours * HOUR_MS)
        assert self.apply(volunteer, request).ok
        self.to_deadline(request)
        self.ok(volunteer, "select", request=request)
        self.work(request, volunteer, manager, hours)
        return self.ok(manager, "confirm", request=request, volunteer=volunteer, minutes=60 * hours,
                       rating=5, tags=("punctual",))


def make_town(who: dict[str, bytes] | None = None) -> Town:
    """A fresh town; pass another town's ``who`` to run a second peer with the same accounts."""
    who = dict(who) if who is not None else {name: new_account() for name in NAMES}
    text = {name: to_text(account) for name, account in who.items()}
    contract = to_text(CONTRACT)
    orgs = [
        {"id": "seoul", "name": "Seoul", "admins": [text["seoul_admin"]],
         "roles": {text["seoul_admin"]: ["issuer"]}},
        {"id": "nowon", "name": "노원구", "admins": [text["nowon_admin"]],
         "roles": {text["nowon_admin"]: ["issuer"], contract: ["issuer"], text["cafe"]: ["merchant"]}},
        {"id": "gangseo", "name": "강서구", "admins": [text["gangseo_admin"]],
         "roles": {text["gangseo_admin"]: ["issuer"], contract: ["issuer"],
                   text["bakery"]: ["merchant"]}},
        {"id": "welfare", "name": "노원복지관", "admins": [text["welfare_admin"]],
         "roles": {text["welfare_manager"]: ["manager"]}},
        {"id": "school", "name": "강서초등학교", "admins": [text["school_admin"]],
         "roles": {text["school_manager"]: ["manager"]}},
    ]
    genesis = {
        "governance": {"orgs": orgs},
        "token": token_genesis(),
        "volunteering": {
            "districts": [{"district": "nowon", "currency": "NW", "max_hourly": 700},
                          {"district": "gangseo", "currency": "GS", "max_hourly": 800}],
            "organisations": [{"org": "welfare", "district": "nowon"},
                              {"org": "school", "district": "gangseo"}],
        },
    }
    return Town(Sandbox([Governance, Token, Volunteering], genesis=genesis), who)
