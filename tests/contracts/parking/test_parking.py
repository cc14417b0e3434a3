"""Parking sharing: listing, booking with escrow, check-in and check-out, cancellation rules,
no-shows, and double booking made impossible."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts.incentives.city import (
    DAY,
    HOUR,
    NOWON_CELL,
    NOWON_ZONE,
    PLATFORM_BPS,
    POOL,
    City,
    refused,
)

PRICE = 60


def list_spot(city: City, owner: str = "alice") -> tuple[int, int]:
    """A spot available tomorrow from 08:00 to 20:00; returns (spot, 08:00 tomorrow)."""
    start = (city.box.time_ms // DAY + 1) * DAY + 8 * HOUR
    spot = city.ok(owner, "parking", "list_spot", service="parking", cell=NOWON_CELL,
                   price_per_hour=PRICE, windows=[[start, start + 12 * HOUR]])
    return spot, start


def book(city: City, spot: int, start: int, hours: int = 2, driver: str = "driver") -> int:
    return city.ok(driver, "parking", "book", service="parking", spot=spot, start_ms=start,
                   hours=hours)["booking"]


def booking(city: City, booking_id: int) -> dict[str, Any]:
    return city.query("parking", "booking", service="parking", booking=booking_id)


def test_book_check_in_check_out_pays_the_owner_and_the_treasury(city: City) -> None:
    spot, start = list_spot(city)
    assert city.query("parking", "spots_in", service="parking", zone=NOWON_ZONE)[0]["spot"] == spot
    b = book(city, spot, start)
    assert city.balance("driver") == 500 - 2 * PRICE and city.balance(POOL) > 0
    assert city.flows("parking")["held"] == 2 * PRICE
    city.at(start - 10 * 60_000)
    city.ok("driver", "parking", "check_in", service="parking", booking=b)
    city.at(start + 2 * HOUR)
    platform = 2 * PRICE * PLATFORM_BPS // 10_000
    assert city.ok("driver", "parking", "check_out", service="parking",
                   booking=b) == 2 * PRICE - platform
    assert city.balance("alice") == 1_000 + 2 * PRICE - platform
    assert city.balance("treasury") == platform
    shown = booking(city, b)
    assert shown["status"] == "completed" and shown["paid_owner"] == 2 * PRICE - platform
    flows = city.flows("parking")
    assert flows["held"] == 0 and flows["fees_collected"] == 2 * PRICE
    driver = city.query("incentives", "statement", account=city.driver)["services"]
    assert driver == [{"service": "parking", "kind": "parking", "currency": "CIV", "earned": 0,
                       "spent": 2 * PRICE}]
    city.check_money()


def test_double_booking_is_impossible(city: City) -> None:
    spot, start = list_spot(city)
    book(city, spot, start, hours=3)
    for offset, hours in ((0, 1), (2, 2), (1, 1), (0, 5)):
        refused(city, "double_booking", "bob", "parking", "book", service="parking", spot=spot,
                start_ms=start + offset * HOUR, hours=hours)
    assert not city.query("parking", "is_free", service="parking", spot=spot,
                          start_ms=start + 2 * HOUR, hours=1)
    assert city.query("parking", "is_free", service="parking", spot=spot,
                      start_ms=start + 3 * HOUR, hours=1)
    book(city, spot, start + 3 * HOUR, hours=1, driver="bob")  # adjacent hours are fine


@pytest.mark.parametrize(
    ("signer", "changes", "code"),
    [
        ("alice", {}, "own_spot"),
        ("driver", {"start_ms": "half past"}, "not_whole_hours"),
        ("driver", {"start_ms": "before window"}, "outside_window"),
        ("driver", {"hours": 13}, "outside_window"),
        ("driver", {"spot": 99}, "unknown_spot"),
        ("outsider", {}, "insufficient_funds"),
        ("driver", {"hours": 25}, "invalid_argument"),
    ],
)
def test_booking_refusals(city: City, signer: str, changes: dict[str, Any], code: str) -> None:
    spot, start = list_spot(city)
    args = {"service": "parking", "spot": spot, "start_ms": start, "hours": 2, **changes}
    if args["start_ms"] == "half past":
        args["start_ms"] = start + HOUR // 2
    elif args["start_ms"] == "before window":
        args["start_ms"] = start - HOUR
    refused(city, code, signer, "parking", "book", **args)


def test_listing_refusals(city: City) -> None:
    start = (city.box.time_ms // DAY + 1) * DAY
    refused(city, "not_citizen", "sensor1", "parking", "list_spot", service="parking",
            cell=NOWON_CELL, price_per_hour=PRICE, windows=[[start, start + HOUR]])
    refused(city, "not_whole_hours", "alice", "parking", "list_spot", service="parking",
            cell=NOWON_CELL, price_per_hour=PRICE, windows=[[start + 1, start + HOUR]])
    refused(city, "bad_window", "alice", "parking", "list_spot", service="parking",
            cell=NOWON_CELL, price_per_hour=PRICE,
            windows=[[start, start + 2 * HOUR], [start + HOUR, start + 3 * HOUR]])
    assert city.ok("cafe", "parking", "list_spot", service="parking", cell=NOWON_CELL,
                   price_per_hour=PRICE, windows=[[start, start + HOUR]])  # a business may list


def test_check_out_without_a_booking_or_check_in_is_refused(city: City) -> None:
    spot, start = list_spot(city)
    refused(city, "unknown_booking", "driver", "parking", "check_out", service="parking",
            booking=99)
    b = book(city, spot, start)
    refused(city, "not_your_booking", "bob", "parking", "check_out", service="parking", booking=b)
    refused(city, "not_checked_in", "driver", "parking", "check_out", service="parking", booking=b)
    refused(city, "too_early", "driver", "parking", "check_in", service="parking", booking=b)
    city.at(start + GRACE + 1)
    refused(city, "too_late", "driver", "parking", "check_in", service="parking", booking=b)


GRACE = 30 * 60_000


def test_cancellation_rules(city: City) -> None:
    spot, start = list_spot(city)
    early = book(city, spot, start)
    assert city.ok("driver", "parking", "cancel", service="parking", booking=early) == 2 * PRICE
    assert city.balance("driver") == 500  # everything back
    late = book(city, spot, start)  # the hours were freed
    city.at(start - HOUR)
    assert city.ok("driver", "parking", "cancel", service="parking", booking=late) == PRICE
    platform = PRICE * PLATFORM_BPS // 10_000
    assert city.balance("alice") == 1_000 + PRICE - platform
    assert booking(city, late)["status"] == "cancelled"
    refused(city, "wrong_status", "driver", "parking", "cancel", service="parking", booking=late)
    by_owner = book(city, spot, start + 4 * HOUR)
    assert city.ok("alice", "parking", "cancel", service="parking", booking=by_owner) == 2 * PRICE
    started = book(city, spot, start + 6 * HOUR, hours=1)
    city.at(start + 6 * HOUR + 1)
    refused(city, "too_late", "driver", "parking", "cancel", service="parking", booking=started)
    refused(city, "not_your_booking", "bob", "parking", "cancel", service="parking",
            booking=started)
    city.check_money()


def test_a_no_show_pays_the_owner_half(city: City) -> None:
    spot, start = list_spot(city)
    b = book(city, spot, start)
    city.at(start + 10 * 60_000)
    refused(city, "too_early", "alice", "parking", "no_show", service="parking", booking=b)
    city.at(start + GRACE + 1)
    refused(city, "not_your_booking", "driver", "parking", "no_show", service="parking", booking=b)
    assert city.ok("alice", "parking", "no_show", service="parking", booking=b) == PRICE
    assert booking(city, b)["status"] == "no_show"
    # the hour not yet begun is free again
    assert city.query("parking", "is_free", service="parking", spot=spot,
                      start_ms=start + HOUR, hours=1)
    city.check_money()


def test_a_withdrawn_spot_takes_no_bookings(city: City) -> None:
    spot, start = list_spot(city)
    refused(city, "not_owner", "bob", "parking", "withdraw_spot", service="parking", spot=spot)
    city.ok("alice", "parking", "withdraw_spot", service="parking", spot=spot)
    refused(city, "spot_withdrawn", "driver", "parking", "book", service="parking", spot=spot,
            start_ms=start, hours=1)
    assert city.query("parking", "spots_in", service="parking", zone=NOWON_ZONE) == []
    assert len(city.query("parking", "spots_of", service="parking", owner=city.alice)) == 1
