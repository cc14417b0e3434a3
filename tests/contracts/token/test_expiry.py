"""Expiring lots, the per-holder cap and sweeping, modelled on Nowon's NW coin."""

from __future__ import annotations

from tests.contracts.token.city import HOUR_NW, NW_CAP, NW_VALIDITY_MS, YEAR_MS, City

DAY_MS = 24 * 3600 * 1000


def mint_nw(city: City, to: bytes, amount: int) -> int:
    """Mint NW to ``to``; returns the new lot's expiry."""
    receipt = city.call(city.nowon_issuer, "mint", currency="NW", to=to, amount=amount)
    assert receipt.ok, receipt
    return city.box.time_ms + NW_VALIDITY_MS


def lots(city: City, account: bytes) -> list[list[int]]:
    return city.query("balance", currency="NW", account=account)["lots"]


def test_each_minted_lot_expires_validity_after_its_mint(city: City) -> None:
    expiry = mint_nw(city, city.alice, 2 * HOUR_NW)
    assert city.query("balance", currency="NW", account=city.alice) == {
        "spendable": 1_400, "expired": 0, "lots": [[expiry, 1_400]]}
    city.box.advance(expiry - 1 - city.box.time_ms)
    assert city.box.time_ms == expiry - 1
    assert city.spendable("NW", city.alice) == 1_400
    city.box.advance(1)
    assert city.query("balance", currency="NW", account=city.alice) == {
        "spendable": 0, "expired": 1_400, "lots": [[expiry, 1_400]]}


def test_expired_lots_cannot_be_spent(city: City) -> None:
    mint_nw(city, city.alice, 700)
    city.box.advance(NW_VALIDITY_MS)
    receipt = city.call(city.alice, "transfer", currency="NW", to=city.bob, amount=1)
    assert receipt.status == "insufficient_funds"
    assert "0 NW spendable" in receipt.message
    fresh = mint_nw(city, city.alice, 100)
    receipt = city.call(city.alice, "transfer", currency="NW", to=city.bob, amount=101)
    assert receipt.status == "insufficient_funds"
    assert city.call(city.alice, "transfer", currency="NW", to=city.bob, amount=100).ok
    assert lots(city, city.bob) == [[fresh, 100]]


def test_a_lot_is_spendable_until_the_block_time_reaches_its_expiry(city: City) -> None:
    expiry = mint_nw(city, city.alice, 10)
    city.box.advance(expiry - 2 - city.box.time_ms)  # the next call runs at expiry - 1
    assert city.call(city.alice, "transfer", currency="NW", to=city.bob, amount=4).ok
    assert city.box.time_ms == expiry - 1
    receipt = city.call(city.alice, "transfer", currency="NW", to=city.bob, amount=1)
    assert city.box.time_ms == expiry
    assert receipt.status == "insufficient_funds"
    assert city.call(city.carol, "sweep_expired", currency="NW", holder=city.alice).result == 6


def test_spending_takes_the_oldest_lots_first_and_keeps_their_expiry(city: City) -> None:
    first = mint_nw(city, city.alice, 700)
    city.box.advance(DAY_MS)
    second = mint_nw(city, city.alice, 1_400)
    city.box.advance(DAY_MS)
    third = mint_nw(city, city.alice, 2_100)
    assert lots(city, city.alice) == [[first, 700], [second, 1_400], [third, 2_100]]

    receipt = city.call(city.alice, "transfer", currency="NW", to=city.bob, amount=1_000)
    assert receipt.ok, receipt
    assert lots(city, city.alice) == [[second, 1_100], [third, 2_100]]
    assert lots(city, city.bob) == [[first, 700], [second, 300]]

    # The oldest lot bob holds goes first when he spends, and merges with carol's lot of the
    # same expiry.
    assert city.call(city.alice, "transfer", currency="NW", to=city.carol, amount=100).ok
    assert city.call(city.bob, "transfer", currency="NW", to=city.carol, amount=750).ok
    assert lots(city, city.bob) == [[second, 250]]
    assert lots(city, city.carol) == [[first, 700], [second, 150]]
    assert city.supply("NW") == 4_200


def test_expired_lots_are_skipped_and_fresh_ones_spent(city: City) -> None:
    mint_nw(city, city.alice, 500)
    city.box.advance(2 * YEAR_MS)
    later = mint_nw(city, city.alice, 300)
    city.box.advance(YEAR_MS)  # the first lot has expired, the second has not
    assert city.call(city.alice, "transfer", currency="NW", to=city.bob, amount=200).ok
    balance = city.query("balance", currency="NW", account=city.alice)
    assert (balance["spendable"], balance["expired"]) == (100, 500)
    assert lots(city, city.bob) == [[later, 200]]


def test_cap_counts_unexpired_units_after_receiving(city: City) -> None:
    # 71 hours of volunteering fit under the 50,000 NW cap; the 72nd hour would not.
    for _ in range(71):
        mint_nw(city, city.alice, HOUR_NW)
    assert city.spendable("NW", city.alice) == 49_700
    before = dict(city.box.state.entries)
    receipt = city.call(city.nowon_issuer, "mint", currency="NW", to=city.alice, amount=HOUR_NW)
    assert receipt.status == "over_cap"
    assert str(NW_CAP) in receipt.message
    assert city.box.state.entries == before
    assert city.call(city.nowon_issuer, "mint", currency="NW", to=city.alice, amount=300).ok

    # Transfers are capped at the recipient too.
    mint_nw(city, city.bob, 1)
    receipt = city.call(city.bob, "transfer", currency="NW", to=city.alice, amount=1)
    assert receipt.status == "over_cap"

    # Once the lots expire they no longer count against the cap.
    city.box.advance(NW_VALIDITY_MS)
    mint_nw(city, city.alice, NW_CAP)
    assert city.query("balance", currency="NW", account=city.alice)["expired"] == NW_CAP


def test_exchange_into_a_capped_currency_is_capped(city: City) -> None:
    mint_nw(city, city.bob, NW_CAP)
    assert city.call(city.seoul_issuer, "mint", currency="CIV", to=city.bob, amount=10).ok
    receipt = city.call(city.bob, "exchange", from_currency="CIV", to_currency="NW", amount=1)
    assert receipt.status == "over_cap"
    assert city.spendable("CIV", city.bob) == 10


def test_sweep_burns_only_expired_lots_and_lowers_supply(city: City) -> None:
    old = mint_nw(city, city.alice, 700)
    city.box.advance(YEAR_MS)
    young = mint_nw(city, city.alice, 1_400)
    city.box.advance(2 * YEAR_MS)
    assert city.query("balance", currency="NW", account=city.alice) == {
        "spendable": 1_400, "expired": 700, "lots": [[old, 700], [young, 1_400]]}

    receipt = city.call(city.carol, "sweep_expired", currency="NW", holder=city.alice)
    assert receipt.ok, receipt
    assert receipt.result == 700
    (event,) = receipt.events
    assert (event.name, event.data["amount"], event.topics) == ("Expired", 700, (city.alice,))
    assert city.query("balance", currency="NW", account=city.alice) == {
        "spendable": 1_400, "expired": 0, "lots": [[young, 1_400]]}
    assert city.supply("NW") == 1_400

    again = city.call(city.carol, "sweep_expired", currency="NW", holder=city.alice)
    assert again.ok and again.result == 0 and not again.events


def test_sweep_refusals(city: City) -> None:
    receipt = city.call(city.alice, "sweep_expired", currency="CIV", holder=city.alice)
    assert receipt.status == "never_expires"
    receipt = city.call(city.alice, "sweep_expired", currency="QQ", holder=city.alice)
    assert receipt.status == "unknown_currency"


def test_burn_takes_oldest_spendable_lots(city: City) -> None:
    mint_nw(city, city.nowon_issuer, 100)
    city.box.advance(DAY_MS)
    second = mint_nw(city, city.nowon_issuer, 100)
    assert city.call(city.nowon_issuer, "burn", currency="NW", amount=150).ok
    assert lots(city, city.nowon_issuer) == [[second, 50]]
    assert city.supply("NW") == 50
