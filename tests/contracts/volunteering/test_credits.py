"""Using credits: spend in part at merchants, donate, exchange across districts; the reports."""

from __future__ import annotations

import pytest

from tests.contracts.volunteering.town import CONTRACT, DAY_MS, VALIDITY_MS, Town, make_town


@pytest.fixture
def town() -> Town:
    town = make_town()
    town.earn(town.minji, hours=3)  # 2,100 NW
    return town


def test_spend_in_part_at_a_merchant_of_the_district(town: Town) -> None:
    receipt = town.call(town.minji, "spend", district="nowon", merchant=town.cafe, amount=450,
                        memo="아메리카노 두 잔")
    assert receipt.ok, receipt
    assert (town.spendable("NW", town.minji), town.spendable("NW", town.cafe)) == (1_650, 450)
    spent = receipt.events[-1]
    assert spent.name == "Spent" and spent.topics == (town.minji, town.cafe)
    assert dict(spent.data) == {"district": "nowon", "volunteer": town.minji, "merchant": town.cafe,
                                "currency": "NW", "amount": 450}
    assert town.query("district_report", district="nowon")["spent"] == 450


def test_a_merchant_receives_the_lots_with_their_expiry(town: Town) -> None:
    town.box.advance(DAY_MS)
    town.earn(town.minji, hours=1)
    lots = town.box.query("token", "balance", currency="NW", account=town.minji)["lots"]
    (first, _), (second, _) = lots
    assert second > first
    assert town.ok(town.minji, "spend", district="nowon", merchant=town.cafe, amount=2_200) is None
    assert town.box.query("token", "balance", currency="NW", account=town.cafe)["lots"] == [
        [first, 2_100], [second, 100]]
    assert town.box.query("token", "balance", currency="NW", account=town.minji)["lots"] == [
        [second, 600]]


def test_donate_some_to_a_person_and_some_to_an_organisation(town: Town) -> None:
    assert town.ok(town.minji, "donate", currency="NW", to=town.junho, amount=700) is None
    assert town.ok(town.minji, "donate", currency="NW", to=town.welfare_admin, amount=1_400,
                   memo="for the centre") is None
    assert town.spendable("NW", town.minji) == 0
    assert (town.spendable("NW", town.junho), town.spendable("NW", town.welfare_admin)) == (700, 1_400)
    # the recipient may pass it on, in part
    assert town.ok(town.junho, "spend", district="nowon", merchant=town.cafe, amount=300) is None
    report = town.query("district_report", district="nowon")
    assert (report["donated"], report["spent"]) == (2_100, 300)


def test_credits_earned_in_nowon_are_spent_in_gangseo(town: Town) -> None:
    receipt = town.call(town.minji, "exchange", from_currency="NW", to_currency="GS", amount=1_000)
    assert receipt.ok and receipt.result == 1_000, receipt
    assert (town.spendable("NW", town.minji), town.spendable("GS", town.minji)) == (1_100, 1_000)
    assert town.ok(town.minji, "spend", district="gangseo", merchant=town.bakery, amount=800) is None
    assert town.spendable("GS", town.bakery) == 800
    nowon = town.query("district_report", district="nowon")
    gangseo = town.query("district_report", district="gangseo")
    assert (nowon["exchanged_out"], nowon["outstanding"]) == (1_000, 1_100)
    assert (gangseo["exchanged_in"], gangseo["spent"], gangseo["outstanding"]) == (1_000, 800, 1_000)
    assert town.spendable("NW", CONTRACT) == town.spendable("GS", CONTRACT) == 0


def test_no_exchange_into_the_never_expiring_city_token(town: Town) -> None:
    # NW lasts three years; the city token forever, so NW -> CIV would renew credits for good.
    before = dict(town.box.state.entries)
    receipt = town.call(town.minji, "exchange", from_currency="NW", to_currency="CIV", amount=1_001)
    assert receipt.status == "would_outlive"
    assert town.box.state.entries == before


def test_district_report_adds_up(town: Town) -> None:
    town.ok(town.minji, "spend", district="nowon", merchant=town.cafe, amount=100)
    town.ok(town.minji, "donate", currency="NW", to=town.junho, amount=200)
    town.ok(town.minji, "exchange", from_currency="NW", to_currency="GS", amount=300)
    report = town.query("district_report", district="nowon")
    assert report == {
        "district": "nowon", "currency": "NW", "hours": 3, "requests": 1, "activities": 1,
        "minutes": 180, "minted": 2_100, "spent": 100, "donated": 200, "exchanged_out": 300,
        "exchanged_in": 0, "outstanding": 1_800,
    }
    # outstanding is the coin's supply: what was minted less what left by exchange
    assert report["outstanding"] == report["minted"] - report["exchanged_out"] + report["exchanged_in"]


def test_expired_credits_still_count_as_outstanding_until_swept(town: Town) -> None:
    town.box.advance(VALIDITY_MS)
    assert town.query("district_report", district="nowon")["outstanding"] == 2_100
    assert town.box.call(town.junho, "token", "sweep_expired", currency="NW", holder=town.minji).ok
    assert town.query("district_report", district="nowon")["outstanding"] == 0


def test_the_taking_part_districts_are_listed_with_their_coins(town: Town) -> None:
    assert town.query("districts_list") == [
        {"district": "gangseo", "currency": "GS", "max_hourly": 800},
        {"district": "nowon", "currency": "NW", "max_hourly": 700},
    ]
    assert [d["district"] for d in town.query("districts_list", limit=1)] == ["gangseo"]
