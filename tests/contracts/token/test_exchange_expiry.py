"""An exchange never lengthens a unit's life: the lots received keep the expiry of those given."""

from __future__ import annotations

from tests.contracts.token.city import NW_VALIDITY_MS, City, make_city

GS_VALIDITY_MS = NW_VALIDITY_MS // 3
DAY_MS = 24 * 3600 * 1000

TWO_DISTRICTS = {
    "currencies": [
        {"symbol": "CIV", "name": "City incentive token", "issuer": "seoul"},
        {"symbol": "NW", "name": "노원 NW", "issuer": "nowon", "validity_ms": NW_VALIDITY_MS},
        {"symbol": "GS", "name": "강서 GS", "issuer": "nowon", "validity_ms": GS_VALIDITY_MS},
    ],
    "rates": [
        {"from": "NW", "to": "GS", "num": 1, "den": 1},
        {"from": "GS", "to": "NW", "num": 1, "den": 1},
        {"from": "NW", "to": "CIV", "num": 1, "den": 1},
        {"from": "CIV", "to": "NW", "num": 3, "den": 2},
    ],
}


def two_districts() -> City:
    return make_city(token=TWO_DISTRICTS)


def lots(city: City, currency: str, account: bytes) -> list[list[int]]:
    return city.query("balance", currency=currency, account=account)["lots"]


def mint(city: City, currency: str, amount: int) -> int:
    issuer = city.seoul_issuer if currency == "CIV" else city.nowon_issuer
    assert city.call(issuer, "mint", currency=currency, to=city.alice, amount=amount).ok
    return city.box.time_ms + (NW_VALIDITY_MS if currency == "NW" else GS_VALIDITY_MS)


def exchange(city: City, source: str, target: str, amount: int) -> int:
    """Exchange as alice; returns the block time the exchange ran at."""
    receipt = city.call(city.alice, "exchange", from_currency=source, to_currency=target,
                        amount=amount)
    assert receipt.ok, receipt
    return city.box.time_ms


def test_a_round_trip_never_renews_credits() -> None:
    city = two_districts()
    expiry = mint(city, "NW", 700)
    city.box.advance(NW_VALIDITY_MS - DAY_MS)  # a day before the NW lot expires
    exchange(city, "NW", "GS", 700)
    assert lots(city, "GS", city.alice) == [[expiry, 700]]  # GS's validity would end later
    exchange(city, "GS", "NW", 700)
    assert lots(city, "NW", city.alice) == [[expiry, 700]]  # not NW's validity from now
    city.box.advance(DAY_MS)
    assert city.query("balance", currency="NW", account=city.alice)["spendable"] == 0


def test_the_target_validity_ends_a_longer_lived_lot_sooner() -> None:
    city = two_districts()
    mint(city, "NW", 700)
    now = exchange(city, "NW", "GS", 700)
    assert lots(city, "GS", city.alice) == [[now + GS_VALIDITY_MS, 700]]


def test_each_lot_given_keeps_its_expiry() -> None:
    city = two_districts()
    first = mint(city, "GS", 5)
    city.box.advance(DAY_MS)
    second = mint(city, "GS", 7)
    exchange(city, "GS", "NW", 12)
    assert lots(city, "NW", city.alice) == [[first, 5], [second, 7]]


def test_a_never_expiring_source_gets_the_target_validity_with_cumulative_rounding() -> None:
    city = two_districts()
    mint(city, "CIV", 5)
    now = exchange(city, "CIV", "NW", 5)  # 5 × 3/2 = 7.5, rounded down
    assert lots(city, "NW", city.alice) == [[now + NW_VALIDITY_MS, 7]]


def test_an_expiring_currency_is_not_exchanged_into_a_never_expiring_one() -> None:
    city = two_districts()
    mint(city, "NW", 700)
    before = dict(city.box.state.entries)
    receipt = city.call(city.alice, "exchange", from_currency="NW", to_currency="CIV", amount=700)
    assert receipt.status == "would_outlive"
    assert "NW" in receipt.message and "CIV" in receipt.message
    assert city.box.state.entries == before
