"""Air quality: readings validated and rewarded, outliers flagged and reviewed, datasets sold
and their fees split among the providers in proportion to their accepted readings."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts.incentives.city import (
    AIR_FEE,
    AIR_REWARD,
    BUDGET,
    DAY,
    DAY0,
    HOUR,
    NOWON_CELL,
    NOWON_ZONE,
    PLATFORM_BPS,
    City,
    refused,
)


def submit(city: City, sensor: str, cell: str = NOWON_CELL, **values: int) -> dict[str, Any]:
    return city.ok(sensor, "airquality", "submit", service="air", cell=cell,
                   measured_ms=city.box.time_ms, values=values or {"pm10": 40})


def test_a_reading_is_accepted_and_rewarded(city: City) -> None:
    result = submit(city, "sensor1", pm10=41, pm25=23, o3=30)
    assert result["status"] == "accepted" and result["reward"] == AIR_REWARD
    reading = city.query("airquality", "reading", service="air", reading=result["reading"])
    assert reading["values"] == {"pm10": 41, "pm25": 23, "o3": 30}
    assert reading["provider"] == city.sensor1 and reading["cell"] == NOWON_CELL
    assert city.balance("sensor1") == AIR_REWARD
    assert city.flows("air")["budget"] == BUDGET - AIR_REWARD
    city.check_money()


@pytest.mark.parametrize(
    ("signer", "changes", "code"),
    [
        ("alice", {}, "unregistered_provider"),
        ("sensor1", {"values": {"pm10": 2_001}}, "out_of_range"),
        ("sensor1", {"values": {"pm25": 1_001}}, "out_of_range"),
        ("sensor1", {"values": {}}, "empty_reading"),
        ("sensor1", {"values": {"pm10": -1}}, "invalid_argument"),
        ("sensor1", {"values": {"pm1": 3}}, "invalid_argument"),
        ("sensor1", {"measured_ms": "future"}, "future_reading"),
        ("sensor1", {"measured_ms": "stale"}, "stale_reading"),
        ("sensor1", {"cell": "412-1087"}, "invalid_argument"),
        ("sensor1", {"service": "roads"}, "wrong_service"),
        ("sensor1", {"service": "nope"}, "unknown_service"),
    ],
)
def test_submission_refusals(city: City, signer: str, changes: dict[str, Any], code: str) -> None:
    city.at(city.box.time_ms + 2 * DAY)
    args = {"service": "air", "cell": NOWON_CELL, "measured_ms": city.box.time_ms + 1,
            "values": {"pm10": 40}, **changes}
    if args["measured_ms"] == "future":
        args["measured_ms"] = city.box.time_ms + 2
    elif args["measured_ms"] == "stale":
        args["measured_ms"] = city.box.time_ms - DAY
    refused(city, code, signer, "airquality", "submit", **args)


def test_one_reading_per_provider_cell_and_hour(city: City) -> None:
    submit(city, "sensor1")
    refused(city, "duplicate_reading", "sensor1", "airquality", "submit", service="air",
            cell=NOWON_CELL, measured_ms=city.box.time_ms, values={"pm10": 50})
    submit(city, "sensor2")  # another provider, same cell and hour
    submit(city, "sensor1", cell="0412-1088")  # same provider, another cell
    city.at(city.box.time_ms + HOUR)
    submit(city, "sensor1")  # the next hour


def test_an_outlier_is_flagged_and_reviewed_by_the_operators_verifier(city: City) -> None:
    for sensor, cell in (("sensor1", "0412-1086"), ("sensor2", "0411-1087"),
                         ("sensor3", "0413-1088")):
        submit(city, sensor, cell=cell, pm10=40)
    flagged = submit(city, "sensor4", pm10=400)  # ten times its neighbours
    assert (flagged["status"], flagged["reward"]) == ("flagged", 0)
    normal = submit(city, "sensor4", cell="0412-1085", pm10=60)
    assert normal["status"] == "accepted"
    queue = city.query("airquality", "review_queue", service="air")
    assert [r["reading"] for r in queue] == [flagged["reading"]]
    refused(city, "not_verifier", "nowon_verifier", "airquality", "review", service="air",
            reading=flagged["reading"], accept=True)
    assert city.ok("seoul_admin", "airquality", "review", service="air",
                   reading=flagged["reading"], accept=True) == "accepted"
    assert city.query("airquality", "reading", service="air",
                      reading=flagged["reading"])["reward"] == AIR_REWARD
    refused(city, "not_under_review", "seoul_admin", "airquality", "review", service="air",
            reading=flagged["reading"], accept=False)
    refused(city, "unknown_reading", "seoul_admin", "airquality", "review", service="air",
            reading=999, accept=False)
    assert city.query("airquality", "review_queue", service="air") == []
    mine = city.query("airquality", "readings_of", service="air", provider=city.sensor4)
    assert [(r["reading"], r["status"], r["reward"]) for r in mine] == [
        (flagged["reading"], "accepted", AIR_REWARD), (normal["reading"], "accepted", AIR_REWARD)]
    assert [r["reading"] for r in city.query("airquality", "readings_of", service="air",
                                             provider=city.sensor4, after=flagged["reading"])] == [
        normal["reading"]]
    assert [r["cell"] for r in city.query("airquality", "readings_of", service="air",
                                          provider=city.sensor1)] == ["0412-1086"]


def test_with_verification_readings_wait_and_a_rejected_one_earns_nothing(city: City) -> None:
    city.ok("seoul_admin", "incentives", "set_params", service="air", reward=AIR_REWARD,
            fee=AIR_FEE, needs_verification=True)
    pending = submit(city, "sensor1")
    assert (pending["status"], pending["reward"]) == ("pending", 0)
    assert city.ok("seoul_admin", "airquality", "review", service="air",
                   reading=pending["reading"], accept=False) == "rejected"
    assert city.balance("sensor1") == 0
    [rejected] = city.query("airquality", "readings_of", service="air", provider=city.sensor1)
    assert (rejected["status"], rejected["reward"]) == ("rejected", 0), "the provider sees why"
    late = submit(city, "sensor2")
    city.at((DAY0 + 2) * DAY)
    refused(city, "review_closed", "seoul_admin", "airquality", "review", service="air",
            reading=late["reading"], accept=True)


def test_a_dataset_fee_is_split_by_accepted_readings(city: City) -> None:
    # day 0: sensor1 sends three readings, sensor2 one, in the Nowon zone
    for i in range(3):
        submit(city, "sensor1", cell=f"0412-108{i}")
    submit(city, "sensor2", cell="0415-1081")
    submit(city, "sensor3", cell="0389-1050")  # another zone
    refused(city, "day_not_closed", "app", "airquality", "buy_dataset", service="air",
            zone=NOWON_ZONE, first_day=DAY0)
    city.at((DAY0 + 2) * DAY)
    refused(city, "empty_dataset", "app", "airquality", "buy_dataset", service="air",
            zone="999-999", first_day=DAY0)
    refused(city, "insufficient_funds", "outsider", "airquality", "buy_dataset", service="air",
            zone=NOWON_ZONE, first_day=DAY0)
    before = {name: city.balance(name) for name in ("app", "sensor1", "sensor2", "treasury")}
    bought = city.ok("app", "airquality", "buy_dataset", service="air", zone=NOWON_ZONE,
                     first_day=DAY0)
    amount = 4 * AIR_FEE
    assert bought == {"purchase": bought["purchase"], "readings": 4, "amount": amount}
    platform = amount * PLATFORM_BPS // 10_000
    per_reading = (amount - platform) // 4
    assert city.balance("app") == before["app"] - amount
    assert city.balance("treasury") == before["treasury"] + platform
    contributions = city.query("airquality", "contributions", service="air",
                               provider=city.sensor1)
    assert contributions == [{"zone": NOWON_ZONE, "day": DAY0, "readings": 3, "claimed": 0,
                              "claimable": 3 * per_reading}]
    assert city.ok("sensor1", "airquality", "claim", service="air", zone=NOWON_ZONE,
                   day=DAY0) == 3 * per_reading
    assert city.ok("sensor2", "airquality", "claim", service="air", zone=NOWON_ZONE,
                   day=DAY0) == per_reading
    assert city.balance("sensor1") - before["sensor1"] == 3 * per_reading
    refused(city, "nothing_to_claim", "sensor1", "airquality", "claim", service="air",
            zone=NOWON_ZONE, day=DAY0)
    refused(city, "no_contribution", "sensor3", "airquality", "claim", service="air",
            zone=NOWON_ZONE, day=DAY0)
    flows = city.flows("air")
    assert flows["fees_collected"] == amount and flows["platform_paid"] == platform
    assert flows["provider_paid"] == 4 * per_reading and flows["held"] == 0
    statement = city.query("incentives", "statement", account=city.app)
    assert statement["services"][0]["spent"] == amount
    purchase = city.query("airquality", "purchase", service="air", purchase=bought["purchase"])
    assert purchase["buyer"] == city.app and purchase["readings"] == 4
    listed = city.query("airquality", "zone_readings", service="air", zone=NOWON_ZONE, day=DAY0)
    assert len(listed) == 4
    assert city.query("airquality", "zone_day", service="air", zone=NOWON_ZONE,
                      day=DAY0)["sales"] == 1
    city.check_money()


def test_providers_are_registered_by_the_operator(city: City) -> None:
    refused(city, "not_operator", "alice", "airquality", "register_provider", service="air",
            provider=city.alice)
    refused(city, "provider_exists", "seoul_admin", "airquality", "register_provider",
            service="air", provider=city.sensor1)
    city.ok("seoul_admin", "airquality", "remove_provider", service="air", provider=city.sensor1)
    assert not city.query("airquality", "is_provider", service="air", account=city.sensor1)
    refused(city, "unregistered_provider", "sensor1", "airquality", "submit", service="air",
            cell=NOWON_CELL, measured_ms=city.box.time_ms, values={"pm10": 1})
