"""Mint, burn, transfer and the queries of a never-expiring currency; argument checks."""

from __future__ import annotations

import pytest

from civicledger.contracts.framework import contract_account
from civicledger.core.schema import MAX_AMOUNT
from tests.contracts.token.city import City, make_city, new_account


def test_genesis_registers_currencies_balances_and_rates(city: City) -> None:
    civ = city.query("currency", symbol="CIV")
    assert civ == {"symbol": "CIV", "name": "City incentive token", "issuer": "seoul",
                   "decimals": 0, "cap": None, "validity_ms": None, "max_supply": None,
                   "supply": 1_000}
    assert [c["symbol"] for c in city.query("currencies")] == ["CIV", "NW"]
    assert city.query("balance", currency="CIV", account=city.alice) == {
        "spendable": 1_000, "expired": 0, "lots": [[None, 1_000]]}
    assert city.query("rate", from_currency="NW", to_currency="CIV") == {"num": 1, "den": 10}
    assert city.query("rates") == [
        {"from_currency": "CIV", "to_currency": "NW", "num": 10, "den": 1},
        {"from_currency": "NW", "to_currency": "CIV", "num": 1, "den": 10},
    ]


def test_mint_by_issuer_raises_balance_and_supply(city: City) -> None:
    receipt = city.call(city.seoul_issuer, "mint", currency="CIV", to=city.bob, amount=250)
    assert receipt.ok, receipt
    assert city.spendable("CIV", city.bob) == 250
    assert city.supply("CIV") == 1_250
    (event,) = receipt.events
    assert (event.name, dict(event.data)) == (
        "Minted", {"currency": "CIV", "to": city.bob, "amount": 250})
    assert event.topics == (city.bob,)


@pytest.mark.parametrize("who", ["alice", "nowon_issuer", "seoul_admin"])
def test_mint_refused_without_the_issuer_role_in_the_issuer_org(city: City, who: str) -> None:
    receipt = city.call(getattr(city, who), "mint", currency="CIV", to=city.bob, amount=1)
    assert receipt.status == "missing_role"
    assert city.supply("CIV") == 1_000


def test_mint_refused_after_the_role_is_revoked(city: City) -> None:
    revoked = city.box.call(city.seoul_admin, "governance", "revoke_role", org="seoul",
                            account=city.seoul_issuer, role="issuer")
    assert revoked.ok
    receipt = city.call(city.seoul_issuer, "mint", currency="CIV", to=city.bob, amount=1)
    assert receipt.status == "missing_role"


def test_mint_refused_over_max_supply_and_over_max_amount(city: City) -> None:
    passed = city.govern("register_currency", symbol="PT", name="Points", issuer="seoul",
                         max_supply=100)
    assert passed["status"] == "executed"
    assert city.call(city.seoul_issuer, "mint", currency="PT", to=city.bob, amount=100).ok
    receipt = city.call(city.seoul_issuer, "mint", currency="PT", to=city.bob, amount=1)
    assert receipt.status == "over_max_supply"
    assert city.supply("PT") == 100

    big = city.call(city.seoul_issuer, "mint", currency="CIV", to=city.bob,
                    amount=MAX_AMOUNT - 1_000)
    assert big.ok
    assert city.supply("CIV") == MAX_AMOUNT
    receipt = city.call(city.seoul_issuer, "mint", currency="CIV", to=city.bob, amount=1)
    assert receipt.status == "supply_overflow"
    assert city.supply("CIV") == MAX_AMOUNT


def test_burn_by_issuer_from_own_balance(city: City) -> None:
    assert city.call(city.seoul_issuer, "mint", currency="CIV", to=city.seoul_issuer,
                     amount=40).ok
    receipt = city.call(city.seoul_issuer, "burn", currency="CIV", amount=15)
    assert receipt.ok, receipt
    assert city.spendable("CIV", city.seoul_issuer) == 25
    assert city.supply("CIV") == 1_025
    (event,) = receipt.events
    assert event.name == "Burned" and event.topics == (city.seoul_issuer,)
    assert event.data["amount"] == 15


def test_burn_refusals(city: City) -> None:
    assert city.call(city.alice, "burn", currency="CIV", amount=1).status == "missing_role"
    assert city.call(city.seoul_issuer, "burn", currency="CIV", amount=1).status == (
        "insufficient_funds")
    assert city.call(city.seoul_issuer, "burn", currency="ZZ", amount=1).status == (
        "unknown_currency")
    assert city.supply("CIV") == 1_000


def test_transfer_moves_units_and_names_both_accounts(city: City) -> None:
    receipt = city.call(city.alice, "transfer", currency="CIV", to=city.bob, amount=300,
                        memo="주차 요금")
    assert receipt.ok, receipt
    assert city.spendable("CIV", city.alice) == 700
    assert city.spendable("CIV", city.bob) == 300
    assert city.supply("CIV") == 1_000
    (event,) = receipt.events
    assert event.name == "Transferred"
    assert dict(event.data) == {"currency": "CIV", "sender": city.alice, "recipient": city.bob,
                                "amount": 300, "memo": "주차 요금"}
    assert event.topics == (city.alice, city.bob)


def test_transfer_of_everything_leaves_no_balance_entry(city: City) -> None:
    before = len(city.box.state.entries)
    assert city.call(city.alice, "transfer", currency="CIV", to=city.bob, amount=1_000).ok
    assert city.query("balance", currency="CIV", account=city.alice) == {
        "spendable": 0, "expired": 0, "lots": []}
    assert len(city.box.state.entries) == before  # alice's entry went, bob's came


def test_plain_transfer_writes_only_the_two_balances(city: City) -> None:
    assert city.call(city.alice, "transfer", currency="CIV", to=city.bob, amount=1).ok
    before = dict(city.box.state.entries)
    assert city.call(city.alice, "transfer", currency="CIV", to=city.bob, amount=2).ok
    changed = {k for k in before.keys() | city.box.state.entries.keys()
               if before.get(k) != city.box.state.entries.get(k)}
    assert len(changed) == 2
    assert all(b"balance" in key for key in changed)


def test_transfer_refusals_change_nothing(city: City) -> None:
    before = dict(city.box.state.entries)
    cases = [
        (city.alice, {"currency": "CIV", "to": city.bob, "amount": 1_001}, "insufficient_funds"),
        (city.bob, {"currency": "CIV", "to": city.alice, "amount": 1}, "insufficient_funds"),
        (city.alice, {"currency": "XYZ", "to": city.bob, "amount": 1}, "unknown_currency"),
        (city.alice, {"currency": "CIV", "to": city.alice, "amount": 1}, "self_transfer"),
    ]
    for signer, args, code in cases:
        receipt = city.call(signer, "transfer", **args)
        assert receipt.status == code, (args, receipt)
        assert receipt.message and not receipt.events
    assert city.box.state.entries == before


def test_transfer_in_part_keeps_the_rest_spendable(city: City) -> None:
    for amount in (1, 10, 100):
        assert city.call(city.alice, "transfer", currency="CIV", to=city.carol, amount=amount).ok
    assert city.spendable("CIV", city.alice) == 889
    assert city.spendable("CIV", city.carol) == 111


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("transfer", {"currency": "CIV", "amount": 0}),
        ("transfer", {"currency": "CIV", "amount": -5}),
        ("transfer", {"currency": "CIV", "amount": MAX_AMOUNT + 1}),
        ("transfer", {"currency": "CIV", "amount": 2**70}),
        ("transfer", {"currency": "CIV", "amount": "10"}),
        ("transfer", {"currency": "CIV", "amount": 1.0}),
        ("transfer", {"currency": "CIV", "amount": True}),
        ("transfer", {"currency": "civ", "amount": 1}),
        ("transfer", {"currency": "C", "amount": 1}),
        ("transfer", {"currency": 7, "amount": 1}),
        ("transfer", {"currency": "CIV", "amount": 1, "to": b"\x01" * 19}),
        ("transfer", {"currency": "CIV", "amount": 1, "to": "civ1notbytes"}),
        ("transfer", {"currency": "CIV", "amount": 1, "memo": "x" * 141}),
        ("transfer", {"currency": "CIV", "amount": 1, "fee": 1}),
        ("transfer", {"currency": "CIV"}),
        ("mint", {"currency": "CIV", "amount": 0}),
        ("burn", {"currency": "CIV", "amount": -1}),
        ("exchange", {"from_currency": "CIV", "to_currency": "NW", "amount": 0}),
        ("exchange", {"from_currency": "CIV", "to_currency": "CIV", "amount": 1}),
        ("sweep_expired", {"currency": "NW", "holder": b""}),
        ("set_rate", {"from_currency": "CIV", "to_currency": "NW", "num": 0, "den": 1}),
        ("set_rate", {"from_currency": "CIV", "to_currency": "NW", "num": 1, "den": -1}),
        ("register_currency", {"symbol": "AB", "name": "", "issuer": "seoul"}),
        ("register_currency", {"symbol": "AB", "name": "x", "issuer": "seoul", "decimals": 19}),
        ("register_currency", {"symbol": "AB", "name": "x", "issuer": "seoul", "cap": 0}),
        ("register_currency", {"symbol": "AB", "name": "x", "issuer": "seoul",
                               "validity_ms": -1}),
    ],
)
def test_malformed_arguments_are_invalid_argument(city: City, method: str, args: dict) -> None:
    if method in ("transfer", "mint") and "to" not in args:
        args = {**args, "to": city.bob}
    before = dict(city.box.state.entries)
    receipt = city.call(city.seoul_issuer, method, **args)
    assert receipt.status == "invalid_argument", receipt
    assert city.box.state.entries == before


def test_queries_refuse_unknown_currency_and_missing_rate(city: City) -> None:
    from civicledger.core.errors import NotFound

    for name, args in [
        ("currency", {"symbol": "XYZ"}),
        ("supply", {"currency": "XYZ"}),
        ("balance", {"currency": "XYZ", "account": city.alice}),
    ]:
        with pytest.raises(NotFound) as refused:
            city.query(name, **args)
        assert refused.value.code == "unknown_currency"
    with pytest.raises(NotFound) as refused:
        city.query("rate", from_currency="CIV", to_currency="XYZ")
    assert refused.value.code == "no_rate"


def test_balance_of_a_stranger_is_zero(city: City) -> None:
    assert city.query("balance", currency="CIV", account=new_account()) == {
        "spendable": 0, "expired": 0, "lots": []}


def test_contract_accounts_are_exempt_from_caps() -> None:
    city = make_city()
    # Minting NW straight to a contract's account (an escrow, a merchant's till) passes the cap.
    till = contract_account("governance")
    assert city.call(city.nowon_issuer, "mint", currency="NW", to=till, amount=60_000).ok
    assert city.spendable("NW", till) == 60_000
