"""What only governance may change (currencies, rates), exchange, and the genesis document."""

from __future__ import annotations

import pytest

from civicledger.contracts.governance import Governance
from civicledger.contracts.testing import Sandbox
from civicledger.contracts.token import Token
from civicledger.core.address import to_text
from civicledger.core.errors import ContractRejection, UnknownCall
from tests.contracts.token.city import City, make_city, new_account

GOVERNED = [
    ("register_currency", {"symbol": "GN", "name": "강남 코인", "issuer": "gangnam",
                           "decimals": 2, "cap": 10_000, "validity_ms": 1_000,
                           "max_supply": 1_000_000}),
    ("set_rate", {"from_currency": "CIV", "to_currency": "NW", "num": 7, "den": 3}),
    ("remove_rate", {"from_currency": "NW", "to_currency": "CIV"}),
]


@pytest.mark.parametrize(("method", "args"), GOVERNED)
def test_governed_methods_are_refused_when_called_directly(
    city: City, method: str, args: dict
) -> None:
    before = dict(city.box.state.entries)
    for signer in (city.seoul_admin, city.seoul_issuer, city.alice):
        receipt = city.call(signer, method, **args)
        assert receipt.status == "needs_quorum", receipt
    assert city.box.state.entries == before


def test_register_currency_by_proposal(city: City) -> None:
    method, args = GOVERNED[0]
    proposal = city.govern(method, **args)
    assert proposal["status"] == "executed", proposal
    assert city.query("currency", symbol="GN") == {**args, "supply": 0}
    assert [c["symbol"] for c in city.query("currencies")] == ["CIV", "GN", "NW"]


def test_register_currency_defaults(city: City) -> None:
    assert city.govern("register_currency", symbol="EM", name="Eco-mileage",
                       issuer="seoul")["status"] == "executed"
    assert city.query("currency", symbol="EM") == {
        "symbol": "EM", "name": "Eco-mileage", "issuer": "seoul", "decimals": 0, "cap": None,
        "validity_ms": None, "max_supply": None, "supply": 0}


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"symbol": "CIV", "name": "again", "issuer": "seoul"}, "currency_exists"),
        ({"symbol": "XX", "name": "nobody's", "issuer": "busan"}, "unknown_org"),
    ],
)
def test_register_currency_refusals_fail_the_proposal(city: City, args: dict, code: str) -> None:
    before = city.query("currencies")
    proposal = city.govern("register_currency", **args)
    assert proposal["status"] == "failed"
    assert proposal["outcome"].startswith(f"{code}:")
    assert city.query("currencies") == before


def test_set_and_remove_rate_by_proposal(city: City) -> None:
    assert city.govern("set_rate", from_currency="CIV", to_currency="NW", num=7,
                       den=3)["status"] == "executed"
    assert city.query("rate", from_currency="CIV", to_currency="NW") == {"num": 7, "den": 3}

    assert city.govern("remove_rate", from_currency="NW", to_currency="CIV")["status"] == (
        "executed")
    assert [(r["from_currency"], r["to_currency"]) for r in city.query("rates")] == [
        ("CIV", "NW")]
    again = city.govern("remove_rate", from_currency="NW", to_currency="CIV")
    assert again["status"] == "failed" and again["outcome"].startswith("no_rate:")


def test_set_rate_refusals_fail_the_proposal(city: City) -> None:
    unknown = city.govern("set_rate", from_currency="CIV", to_currency="ZZZ", num=1, den=1)
    assert unknown["outcome"].startswith("unknown_currency:")
    same = city.govern("set_rate", from_currency="CIV", to_currency="CIV", num=1, den=1)
    assert same["outcome"].startswith("invalid_argument:")


def test_exchange_at_the_governed_rate(city: City) -> None:
    receipt = city.call(city.alice, "exchange", from_currency="CIV", to_currency="NW",
                        amount=30)
    assert receipt.ok, receipt
    assert receipt.result == 300
    assert city.spendable("CIV", city.alice) == 970
    assert city.spendable("NW", city.alice) == 300
    assert (city.supply("CIV"), city.supply("NW")) == (970, 300)
    (event,) = receipt.events
    assert event.name == "Exchanged" and event.topics == (city.alice,)
    assert dict(event.data) == {"account": city.alice, "from_currency": "CIV",
                                "to_currency": "NW", "amount_in": 30, "amount_out": 300}

    # NW expires and CIV does not: the rate exists, but NW -> CIV would make NW last forever.
    before = dict(city.box.state.entries)
    receipt = city.call(city.alice, "exchange", from_currency="NW", to_currency="CIV",
                        amount=295)
    assert receipt.status == "would_outlive", receipt
    assert city.box.state.entries == before


def test_units_of_a_never_expiring_currency_get_a_fresh_lot(city: City) -> None:
    receipt = city.call(city.alice, "exchange", from_currency="CIV", to_currency="NW",
                        amount=1)
    assert receipt.ok
    lots = city.query("balance", currency="NW", account=city.alice)["lots"]
    assert lots == [[city.box.time_ms + city.query("currency", symbol="NW")["validity_ms"], 10]]


def test_exchange_refusals(city: City) -> None:
    assert city.govern("register_currency", symbol="EM", name="Eco-mileage",
                       issuer="seoul")["status"] == "executed"
    assert city.call(city.nowon_issuer, "mint", currency="NW", to=city.alice, amount=9).ok
    before = dict(city.box.state.entries)
    cases = [
        ({"from_currency": "CIV", "to_currency": "EM", "amount": 1}, "no_rate"),
        ({"from_currency": "EM", "to_currency": "CIV", "amount": 1}, "no_rate"),
        ({"from_currency": "NW", "to_currency": "CIV", "amount": 9}, "exchange_too_small"),
        ({"from_currency": "CIV", "to_currency": "NW", "amount": 1_001}, "insufficient_funds"),
        ({"from_currency": "CIV", "to_currency": "QQ", "amount": 1}, "unknown_currency"),
        ({"from_currency": "CIV", "to_currency": "CIV", "amount": 1}, "invalid_argument"),
    ]
    for args, code in cases:
        receipt = city.call(city.alice, "exchange", **args)
        assert receipt.status == code, (args, receipt)
    assert "at least 10" in city.call(city.alice, "exchange", **cases[2][0]).message
    assert city.box.state.entries == before


def test_exchange_refused_when_the_result_would_pass_max_amount(city: City) -> None:
    assert city.govern("set_rate", from_currency="CIV", to_currency="NW", num=2**62,
                       den=1)["status"] == "executed"
    receipt = city.call(city.alice, "exchange", from_currency="CIV", to_currency="NW", amount=2)
    assert receipt.status == "supply_overflow"


# -- genesis ------------------------------------------------------------------------


def test_genesis_balances_are_mints_with_expiry_from_genesis_time() -> None:
    account = new_account()
    city = make_city(token={
        "currencies": [{"symbol": "NW", "name": "NW", "issuer": "nowon", "validity_ms": 50}],
        "balances": [{"symbol": "NW", "account": to_text(account), "amount": 7},
                     {"symbol": "NW", "account": to_text(account), "amount": 3}],
    })
    genesis_time = city.box.time_ms
    assert city.query("balance", currency="NW", account=account) == {
        "spendable": 10, "expired": 0, "lots": [[genesis_time + 50, 10]]}
    assert city.supply("NW") == 10


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ({"currencies": [], "wallets": []}, "invalid_genesis"),
        ({"currencies": [{"symbol": "cv", "name": "x", "issuer": "seoul"}]}, "invalid_genesis"),
        ({"currencies": [{"symbol": "CV", "name": "x", "issuer": "seoul", "colour": 1}]},
         "invalid_genesis"),
        ({"currencies": [{"symbol": "CV", "name": "x", "issuer": "busan"}]}, "unknown_org"),
        ({"currencies": [{"symbol": "CV", "name": "x", "issuer": "seoul"}] * 2},
         "currency_exists"),
        ({"balances": [{"symbol": "CV", "account": "civ1xyz", "amount": 1}]}, "invalid_genesis"),
        ({"balances": [{"symbol": "CV", "account": to_text(bytes(20)), "amount": 1}]},
         "unknown_currency"),
        ({"currencies": [{"symbol": "CV", "name": "x", "issuer": "seoul"}],
          "balances": [{"symbol": "CV", "account": to_text(bytes(20)), "amount": 0}]},
         "invalid_genesis"),
        ({"currencies": [{"symbol": "CV", "name": "x", "issuer": "seoul", "cap": 5}],
          "balances": [{"symbol": "CV", "account": to_text(bytes(20)), "amount": 6}]},
         "over_cap"),
        ({"rates": [{"from": "CV", "to": "NW", "num": 1, "den": 1}]}, "unknown_currency"),
        ({"rates": [{"from": "CV", "to": "NW", "num": 1}]}, "invalid_genesis"),
    ],
)
def test_genesis_refuses_a_bad_token_config(token: dict, code: str) -> None:
    with pytest.raises((UnknownCall, ContractRejection)) as refused:
        make_city(token=token)
    assert refused.value.code == code


def test_genesis_needs_governance_registered_first() -> None:
    governance = {"orgs": [{"id": "seoul", "name": "Seoul", "admins": [to_text(bytes(20))]}]}
    token = {"currencies": [{"symbol": "CV", "name": "x", "issuer": "seoul"}]}
    Sandbox([Governance, Token], genesis={"governance": governance, "token": token})
    # In the other order governance has not written its organisations when token's genesis runs.
    with pytest.raises(ContractRejection) as refused:
        Sandbox([Token, Governance], genesis={"governance": governance, "token": token})
    assert refused.value.code == "unknown_org"
