"""The service registry: registration, parameters, budgets, governance, flows and statements."""

from __future__ import annotations

from typing import Any

import pytest

from civicledger.contracts.framework import contract_account
from civicledger.core.errors import NotFound
from civicledger.core.state import Overlay
from tests.contracts.incentives.city import (
    AIR_CAP,
    AIR_REWARD,
    BUDGET,
    DAY0,
    HOUR,
    NOWON_CELL,
    PLATFORM_BPS,
    POOL,
    City,
    make_city,
    new_account,
    refused,
)
from tests.core.test_state import CountingReader

DAY = 24 * HOUR


def register(city: City, signer: str = "seoul_admin", **changes: Any) -> Any:
    args = {"service": "air2", "kind": "airquality", "operator": "seoul", "currency": "CIV",
            "title": "More air", "reward": 5, "fee": 1, **changes}
    return city.call(signer, "incentives", "register_service", **args)


def test_registration_records_the_economics_and_the_city_default_share(city: City) -> None:
    receipt = register(city, daily_cap=30, needs_verification=True)
    assert receipt.ok, receipt
    service = city.query("incentives", "service", service="air2")
    assert service["platform_bps"] == PLATFORM_BPS and service["daily_cap"] == 30
    assert service["status"] == "active" and service["flows"]["budget"] == 0
    assert receipt.events[0].name == "ServiceRegistered"
    names = [s["service"] for s in city.query("incentives", "services_list")]
    assert names == ["air", "air2", "parking", "roads"]
    assert [s["service"] for s in city.query("incentives", "services_list", after="air",
                                             limit=2)] == ["air2", "parking"]


@pytest.mark.parametrize(
    ("signer", "changes", "code"),
    [
        ("alice", {}, "not_operator"),
        ("seoul_admin", {"operator": "nowon"}, "not_operator"),
        ("seoul_admin", {"service": "air"}, "service_exists"),
        ("seoul_admin", {"kind": "token"}, "unknown_kind"),
        ("seoul_admin", {"kind": "nothing"}, "unknown_kind"),
        ("seoul_admin", {"currency": "ZZ"}, "unknown_currency"),
        ("seoul_admin", {"currency": "NW"}, "expiring_currency"),
        ("seoul_admin", {"kind": "hazards"}, "verification_required"),
        ("seoul_admin", {"kind": "parking"}, "unused_param"),
        ("seoul_admin", {"kind": "parking", "reward": 0, "fee": 0, "needs_verification": True},
         "nothing_to_verify"),
        ("seoul_admin", {"reward": -1}, "invalid_argument"),
    ],
)
def test_registration_refusals(city: City, signer: str, changes: dict[str, Any], code: str) -> None:
    before = dict(city.box.state.entries)
    receipt = register(city, signer, **changes)
    assert receipt.status == code, receipt
    assert city.box.state.entries == before


def test_fund_and_withdraw_move_the_operators_money(city: City) -> None:
    before = city.balance("seoul_admin")
    assert city.ok("seoul_admin", "incentives", "fund", service="air", amount=500) == BUDGET + 500
    assert city.ok("seoul_admin", "incentives", "withdraw", service="air", amount=200) == BUDGET + 300
    assert city.balance("seoul_admin") == before - 300
    flows = city.flows("air")
    assert (flows["funded"], flows["withdrawn"], flows["budget"]) == (BUDGET + 500, 200, BUDGET + 300)
    city.check_money()
    refused(city, "budget_exhausted", "seoul_admin", "incentives", "withdraw", service="air",
            amount=BUDGET + 301)
    refused(city, "not_operator", "alice", "incentives", "fund", service="air", amount=1)
    refused(city, "unknown_service", "seoul_admin", "incentives", "fund", service="nope", amount=1)
    refused(city, "not_operator", "nowon_verifier", "incentives", "fund", service="air", amount=1)


def test_an_operator_without_funds_cannot_fund() -> None:
    city = make_city()
    assert city.ok("seoul_admin", "governance", "grant_role", org="seoul",
                   account=city.outsider, role="operator") is None
    refused(city, "insufficient_funds", "outsider", "incentives", "fund", service="air", amount=1)


def test_parameters_change_only_by_the_operator(city: City) -> None:
    city.ok("seoul_admin", "incentives", "set_params", service="air", reward=7, fee=2,
            daily_cap=None, needs_verification=True)
    service = city.query("incentives", "service", service="air")
    assert (service["reward"], service["fee"], service["daily_cap"]) == (7, 2, None)
    refused(city, "not_operator", "alice", "incentives", "set_params", service="air", reward=1,
            fee=1)
    refused(city, "verification_required", "seoul_admin", "incentives", "set_params",
            service="roads", reward=1, fee=1, needs_verification=False)


def test_pausing_stops_contributions_and_purchases(city: City) -> None:
    city.ok("seoul_admin", "incentives", "set_active", service="air", active=False)
    refused(city, "service_paused", "sensor1", "airquality", "submit", service="air",
            cell=NOWON_CELL, measured_ms=city.box.time_ms, values={"pm10": 40})
    refused(city, "no_change", "seoul_admin", "incentives", "set_active", service="air",
            active=False)
    city.ok("seoul_admin", "incentives", "set_active", service="air", active=True)
    assert city.ok("sensor1", "airquality", "submit", service="air", cell=NOWON_CELL,
                   measured_ms=city.box.time_ms, values={"pm10": 40})["status"] == "accepted"


def test_platform_share_and_treasury_change_only_by_governance(city: City) -> None:
    refused(city, "needs_quorum", "seoul_admin", "incentives", "set_platform_share",
            service="air", platform_bps=0)
    refused(city, "needs_quorum", "seoul_admin", "incentives", "set_treasury",
            account=city.alice)
    refused(city, "needs_quorum", "seoul_admin", "incentives", "set_default_platform_share",
            platform_bps=0)
    for method, args in [("set_platform_share", {"service": "air", "platform_bps": 250}),
                         ("set_treasury", {"account": city.bob}),
                         ("set_default_platform_share", {"platform_bps": 300})]:
        proposal = city.ok("seoul_admin", "governance", "propose", org="seoul",
                           contract="incentives", method=method, args=args,
                           expires_ms=city.box.time_ms + DAY)
        assert city.ok("nowon_admin", "governance", "approve", org="nowon",
                       proposal=proposal) == "open"  # 3 of the 4 organisations are needed
        assert city.ok("gangseo_admin", "governance", "approve", org="gangseo",
                       proposal=proposal) == "executed"
    assert city.query("incentives", "service", service="air")["platform_bps"] == 250
    assert city.query("incentives", "treasury") == {"account": city.bob,
                                                    "default_platform_bps": 300}


def test_the_treasury_defaults_to_governance() -> None:
    city = make_city(services=False)
    city.box.state.entries = {  # drop the genesis treasury to see the default
        k: v for k, v in city.box.state.entries.items() if b"treasury" not in k}
    assert city.query("incentives", "treasury")["account"] == contract_account("governance")


@pytest.mark.parametrize("method", ["reward", "collect_fee", "hold", "settle", "pay_out", "refund"])
def test_only_the_services_contract_moves_its_money(city: City, method: str) -> None:
    args: dict[str, Any] = {"service": "air", "amount": 1}
    if method in ("reward",):
        args["provider"] = city.alice
    if method in ("settle", "pay_out", "refund"):
        args["payee"] = city.alice
    refused(city, "not_service_contract", "seoul_admin", "incentives", method, **args)


def test_rewards_respect_the_daily_cap_and_stop_when_the_budget_is_spent() -> None:
    city = make_city()
    t = city.box.time_ms
    cells = [f"0412-{1000 + i:04d}" for i in range(8)]
    paid = [city.ok("sensor1", "airquality", "submit", service="air", cell=cell, measured_ms=t,
                    values={"pm25": 20})["reward"] for cell in cells]
    assert paid == [AIR_REWARD] * (AIR_CAP // AIR_REWARD) + [0] * (8 - AIR_CAP // AIR_REWARD)
    assert city.balance("sensor1") == AIR_CAP
    city.at((DAY0 + 1) * DAY)  # a new day, a new cap
    assert city.ok("sensor1", "airquality", "submit", service="air", cell=cells[0],
                   measured_ms=city.box.time_ms, values={"pm25": 20})["reward"] == AIR_REWARD
    # spend the budget down to less than one reward
    budget = city.flows("air")["budget"]
    city.ok("seoul_admin", "incentives", "withdraw", service="air", amount=budget - AIR_REWARD + 1)
    receipt = refused(city, "budget_exhausted", "sensor2", "airquality", "submit", service="air",
                      cell=cells[1], measured_ms=city.box.time_ms, values={"pm25": 20})
    assert "funds it" in receipt.message
    city.ok("seoul_admin", "incentives", "fund", service="air", amount=AIR_REWARD)
    assert city.ok("sensor2", "airquality", "submit", service="air", cell=cells[1],
                   measured_ms=city.box.time_ms, values={"pm25": 20})["reward"] == AIR_REWARD
    city.check_money()


def test_flows_top_providers_and_statements(city: City) -> None:
    t = city.box.time_ms
    for sensor, cells in (("sensor1", 3), ("sensor2", 1), ("sensor3", 2)):
        for i in range(cells):
            city.ok(sensor, "airquality", "submit", service="air", cell=f"0100-{i:04d}",
                    measured_ms=t, values={"no2": 30})
    top = city.query("incentives", "top_providers", service="air", limit=2)
    assert top == [{"account": city.sensor1, "earned": 30}, {"account": city.sensor3, "earned": 20}]
    flows = city.flows("air")
    assert flows["rewards_paid"] == 60 and flows["budget"] == BUDGET - 60
    statement = city.query("incentives", "statement", account=city.sensor1)
    assert statement["services"] == [{"service": "air", "kind": "airquality", "currency": "CIV",
                                      "earned": 30, "spent": 0}]
    assert statement["totals"] == {"CIV": {"earned": 30, "spent": 0}}
    assert city.balance(POOL) == 2 * BUDGET - 60


def test_flows_are_kept_per_day_as_running_totals(city: City) -> None:
    day = city.box.time_ms // DAY
    before = city.flows("air")
    city.ok("seoul_admin", "incentives", "fund", service="air", amount=100)
    city.ok("seoul_admin", "incentives", "fund", service="air", amount=1)
    city.at((day + 2) * DAY + HOUR)
    city.ok("seoul_admin", "incentives", "fund", service="air", amount=50)
    city.ok("seoul_admin", "incentives", "withdraw", service="air", amount=20)
    days = city.query("incentives", "flows_by_day", service="air")
    assert [d["day"] for d in days] == [day, day + 2], "a quiet day keeps no entry"
    assert days[0]["funded"] == 0, "registration was the day's first change: it starts from nothing"
    assert days[1]["funded"] == before["funded"] + 101, "day + 2 starts where day ended"
    assert city.flows("air")["funded"] == before["funded"] + 151 and city.flows("air")["withdrawn"] == 20
    assert city.query("incentives", "flows_by_day", service="air", from_day=day + 1) == days[1:]
    assert city.query("incentives", "flows_by_day", service="air", limit=1) == days[:1]
    with pytest.raises(NotFound) as refusal:
        city.query("incentives", "flows_by_day", service="nope")
    assert refusal.value.code == "unknown_service"


def test_top_providers_reads_its_page_not_every_provider(city: City) -> None:
    """300 providers have earned; the top ten read ten rank entries from the store."""
    t = city.box.time_ms
    for i in range(300):
        city.accounts[f"provider{i}"] = new_account()
        city.ok("seoul_admin", "airquality", "register_provider", service="air",
                provider=city.accounts[f"provider{i}"])
        city.ok(f"provider{i}", "airquality", "submit", service="air", cell=f"0100-{i:04d}",
                measured_ms=t, values={"no2": 30})
    counting = CountingReader(city.box.state)
    top = city.box.registry.read(Overlay(counting), city.box.env, "incentives", "top_providers",
                                 {"service": "air", "limit": 10})
    assert [row["account"] for row in top] == sorted(city.accounts[f"provider{i}"]
                                                     for i in range(300))[:10]
    assert counting.read == 10
