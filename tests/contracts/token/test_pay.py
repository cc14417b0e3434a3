"""Contracts taking payment from the transaction's signer, and paying out of their account."""

from __future__ import annotations

from typing import Any

import pytest

from civicledger.contracts.framework import Contract, contract_account, method
from civicledger.core.errors import Conflict
from civicledger.core.schema import Address, Amount, Symbol
from tests.contracts.token.city import City, make_city


class Shop(Contract):
    """A test merchant: ``buy`` takes payment, ``refund`` pays back from the till."""

    name = "shop"

    @method
    def buy(self, currency: Symbol, amount: Amount) -> None:
        self.ctx.call("token", "pay", currency=currency, amount=amount)

    @method
    def buy_then_fail(self, currency: Symbol, amount: Amount) -> None:
        self.ctx.call("token", "pay", currency=currency, amount=amount)
        raise Conflict("sold out", code="sold_out")

    @method
    def refund(self, currency: Symbol, to: Address, amount: Amount) -> None:
        self.ctx.call("token", "transfer", currency=currency, to=to, amount=amount,
                      memo="refund")


TILL = contract_account("shop")


@pytest.fixture
def shop_city() -> City:
    return make_city(extra=(Shop,))


def test_pay_moves_from_the_signer_to_the_calling_contract(shop_city: City) -> None:
    city = shop_city
    receipt = city.box.call(city.alice, "shop", "buy", currency="CIV", amount=120)
    assert receipt.ok, receipt
    assert city.spendable("CIV", city.alice) == 880
    assert city.spendable("CIV", TILL) == 120
    (event,) = receipt.events
    assert event.name == "Paid"
    assert dict(event.data) == {"currency": "CIV", "payer": city.alice, "recipient": TILL,
                                "contract": "shop", "amount": 120}
    assert event.topics == (city.alice, TILL)


def test_a_contract_pays_out_through_transfer(shop_city: City) -> None:
    city = shop_city
    assert city.box.call(city.alice, "shop", "buy", currency="CIV", amount=120).ok
    receipt = city.box.call(city.carol, "shop", "refund", currency="CIV", to=city.alice,
                            amount=20)
    assert receipt.ok, receipt
    assert city.spendable("CIV", TILL) == 100
    assert city.spendable("CIV", city.alice) == 900
    (event,) = receipt.events
    assert event.data["sender"] == TILL and event.data["memo"] == "refund"


@pytest.mark.parametrize(
    ("signer", "args", "code"),
    [
        ("bob", {"currency": "CIV", "amount": 1}, "insufficient_funds"),
        ("alice", {"currency": "CIV", "amount": 1_001}, "insufficient_funds"),
        ("alice", {"currency": "QQ", "amount": 1}, "unknown_currency"),
        ("alice", {"currency": "CIV", "amount": 0}, "invalid_argument"),
    ],
)
def test_pay_refusals_through_a_contract(shop_city: City, signer: str, args: dict[str, Any],
                                         code: str) -> None:
    before = dict(shop_city.box.state.entries)
    receipt = shop_city.box.call(getattr(shop_city, signer), "shop", "buy", **args)
    assert receipt.status == code, receipt
    assert shop_city.box.state.entries == before


def test_a_failure_after_pay_undoes_the_payment(shop_city: City) -> None:
    before = dict(shop_city.box.state.entries)
    receipt = shop_city.box.call(shop_city.alice, "shop", "buy_then_fail", currency="CIV",
                                 amount=5)
    assert receipt.status == "sold_out"
    assert shop_city.box.state.entries == before


def test_pay_is_refused_when_called_by_a_transaction(city: City) -> None:
    receipt = city.call(city.alice, "pay", currency="CIV", amount=1)
    assert receipt.status == "contracts_only"
    assert city.spendable("CIV", city.alice) == 1_000


def test_pay_is_refused_to_governance(city: City) -> None:
    # Otherwise the admin whose approval completes the quorum would pay for the proposal.
    proposal = city.govern("pay", currency="CIV", amount=1)
    assert proposal["status"] == "failed"
    assert proposal["outcome"].startswith("governance_cannot_pay:")
    assert city.spendable("CIV", contract_account("governance")) == 0
