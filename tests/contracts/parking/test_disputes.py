"""Parking disputes: who may raise one and when, what a disputed booking refuses, how the
operator's resolution splits the escrow, and the open-disputes index staying exact."""

from __future__ import annotations

from typing import Any

import pytest

from civicledger.contracts.parking import Parking
from civicledger.contracts.storage import decode_key
from civicledger.core.state import prefix_end
from tests.contracts.incentives.city import (
    HOUR,
    NOWON_CELL,
    PLATFORM_BPS,
    City,
    refused,
)
from tests.contracts.parking.test_parking import GRACE, PRICE, book, booking, list_spot

EARLY = 15 * 60_000
"""Check-in, and so a booked booking's dispute, opens 15 minutes before the start."""


def dispute(city: City, who: str, b: int, reason: str = "spot_occupied") -> Any:
    return city.ok(who, "parking", "dispute", service="parking", booking=b, reason=reason)


def resolve(city: City, b: int, bps: int, note: str = "checked on site") -> dict[str, int]:
    return city.ok("seoul_admin", "parking", "resolve_dispute", service="parking", booking=b,
                   driver_refund_bps=bps, note=note)


def open_ids(city: City, **page: Any) -> list[int]:
    return [d["booking"] for d in city.query("parking", "open_disputes", service="parking", **page)]


def platform(amount: int) -> int:
    return amount * PLATFORM_BPS // 10_000


def test_a_driver_finding_the_spot_occupied_gets_a_full_refund(city: City) -> None:
    spot, start = list_spot(city)
    b = book(city, spot, start, hours=3)
    city.at(start - EARLY)  # check-in opens: the driver arrives and finds a car there
    dispute(city, "driver", b)
    receipt = city.box.receipts[-1]
    [event] = [e for e in receipt.events if e.name == "Disputed"]
    assert event.data["by"] == city.driver and event.data["reason"] == "spot_occupied"
    assert set(event.topics) == {city.driver, city.alice}, "both see it in their history"

    shown = booking(city, b)
    assert shown["status"] == "disputed"
    assert shown["dispute"] == {"by": city.driver, "reason": "spot_occupied",
                                "raised_ms": start - EARLY, "from_status": "booked",
                                "driver_refund_bps": None, "note": "", "resolved_by": None,
                                "resolved_ms": None}
    [listed] = city.query("parking", "open_disputes", service="parking")
    assert listed["booking"] == b and listed["cell"] == NOWON_CELL and listed["amount"] == 3 * PRICE
    assert city.flows("parking")["held"] == 3 * PRICE, "the escrow stays held"
    city.check_money()

    city.at(start + HOUR + 5 * 60_000)  # decided during the second hour
    assert resolve(city, b, 10_000, "spot was taken") == {"refunded": 3 * PRICE, "paid_owner": 0}
    receipt = city.box.receipts[-1]
    [event] = [e for e in receipt.events if e.name == "DisputeResolved"]
    assert set(event.topics) == {city.driver, city.alice}
    assert event.data["refunded"] == 3 * PRICE and event.data["note"] == "spot was taken"
    assert city.balance("driver") == 500 and city.balance("alice") == 1_000
    shown = booking(city, b)
    assert shown["status"] == "resolved" and shown["refunded"] == 3 * PRICE
    assert shown["paid_owner"] == 0
    assert shown["dispute"]["driver_refund_bps"] == 10_000
    assert shown["dispute"]["note"] == "spot was taken"
    assert shown["dispute"]["resolved_by"] == city.seoul_admin
    assert open_ids(city) == []
    # the hour not yet begun is free again; the hours that have begun stay taken
    assert city.query("parking", "is_free", service="parking", spot=spot,
                      start_ms=start + 2 * HOUR, hours=1)
    assert not city.query("parking", "is_free", service="parking", spot=spot,
                          start_ms=start + HOUR, hours=1)
    assert city.flows("parking")["held"] == 0 and city.flows("parking")["refunded"] == 3 * PRICE
    city.check_money()


def test_an_owner_reports_an_overstay_and_is_paid_in_full(city: City) -> None:
    spot, start = list_spot(city)
    b = book(city, spot, start, hours=2)
    city.at(start - 5 * 60_000)
    city.ok("driver", "parking", "check_in", service="parking", booking=b)
    city.at(start + 2 * HOUR + 40 * 60_000)  # the driver is still there after the end
    dispute(city, "alice", b, "overstay")
    assert booking(city, b)["dispute"]["from_status"] == "checked_in"
    assert booking(city, b)["dispute"]["by"] == city.alice
    assert resolve(city, b, 0) == {"refunded": 0, "paid_owner": 2 * PRICE - platform(2 * PRICE)}
    assert city.balance("alice") == 1_000 + 2 * PRICE - platform(2 * PRICE)
    assert city.balance("treasury") == platform(2 * PRICE)
    assert city.balance("driver") == 500 - 2 * PRICE
    flows = city.flows("parking")
    assert flows["held"] == 0 and flows["fees_collected"] == 2 * PRICE
    city.check_money()


def test_a_split_rounds_in_the_drivers_favour_as_a_late_cancellation_does(city: City) -> None:
    start = (city.box.time_ms // (24 * HOUR) + 1) * 24 * HOUR + 8 * HOUR
    spot = city.ok("alice", "parking", "list_spot", service="parking", cell=NOWON_CELL,
                   price_per_hour=7, windows=[[start, start + 4 * HOUR]])
    b = book(city, spot, start, hours=3)  # 21 units
    city.at(start + 20 * 60_000)
    city.ok("driver", "parking", "check_in", service="parking", booking=b)
    dispute(city, "driver", b, "blocked")
    owner_part = 21 * 5_000 // 10_000  # 10, as a late cancellation pays the owner
    result = resolve(city, b, 5_000)
    assert result == {"refunded": 21 - owner_part, "paid_owner": owner_part - platform(owner_part)}
    shown = booking(city, b)
    assert shown["refunded"] == 11 and shown["paid_owner"] == owner_part - platform(owner_part)
    city.check_money()


def test_a_disputed_booking_refuses_every_other_step_and_nothing_changes(city: City) -> None:
    spot, start = list_spot(city)
    booked = book(city, spot, start)
    checked_in = book(city, spot, start + 4 * HOUR, driver="bob")
    city.at(start - 10 * 60_000)
    dispute(city, "driver", booked)
    city.at(start + 4 * HOUR - 10 * 60_000)
    city.ok("bob", "parking", "check_in", service="parking", booking=checked_in)
    dispute(city, "alice", checked_in, "other")
    city.at(start + 6 * HOUR + GRACE + 1)  # both have ended, every deadline has passed
    for b, driver in ((booked, "driver"), (checked_in, "bob")):
        for signer, method in ((driver, "check_in"), (driver, "check_out"), ("alice", "check_out"),
                               (driver, "cancel"), ("alice", "cancel"), ("alice", "no_show")):
            refused(city, "disputed", signer, "parking", method, service="parking", booking=b)
        # someone else is still told it is not theirs, before anything about the dispute
        refused(city, "not_your_booking", "carol", "parking", "cancel", service="parking",
                booking=b)
    assert open_ids(city) == [booked, checked_in]
    city.check_money()


@pytest.mark.parametrize(
    ("signer", "when", "setup", "code"),
    [
        ("bob", "open", None, "not_your_booking"),
        ("seoul_admin", "open", None, "not_your_booking"),
        ("driver", "before check-in opens", None, "too_early"),
        ("alice", "before check-in opens", None, "too_early"),
        ("driver", "after the grace period", None, "too_late"),
        ("alice", "after the grace period", None, "too_late"),
        ("driver", "open", "cancel", "wrong_status"),
        ("driver", "end", "complete", "wrong_status"),
        ("alice", "after the grace period", "no_show", "wrong_status"),
        ("alice", "open", "dispute", "already_disputed"),
        ("driver", "open", "dispute", "already_disputed"),
        ("driver", "open", "resolve", "already_disputed"),
    ],
)
def test_dispute_refusals(city: City, signer: str, when: str, setup: str | None,
                          code: str) -> None:
    spot, start = list_spot(city)
    b = book(city, spot, start)
    moments = {"open": start - EARLY, "before check-in opens": start - EARLY - 1,
               "after the grace period": start + GRACE + 1, "end": start + 2 * HOUR}
    if setup == "cancel":
        city.ok("driver", "parking", "cancel", service="parking", booking=b)
    elif setup == "complete":
        city.at(start - 10 * 60_000)
        city.ok("driver", "parking", "check_in", service="parking", booking=b)
        city.at(start + 2 * HOUR)
        city.ok("driver", "parking", "check_out", service="parking", booking=b)
    elif setup == "no_show":
        city.at(start + GRACE + 1)
        city.ok("alice", "parking", "no_show", service="parking", booking=b)
    elif setup in ("dispute", "resolve"):
        city.at(start - EARLY)
        dispute(city, "driver", b)
        if setup == "resolve":
            resolve(city, b, 10_000)
    if city.box.time_ms + 1 < moments[when]:
        city.at(moments[when])
    before = open_ids(city)
    refused(city, code, signer, "parking", "dispute", service="parking", booking=b,
            reason="spot_occupied")
    assert open_ids(city) == before
    city.check_money()


def test_the_dispute_window_of_a_booked_booking_is_the_check_in_window(city: City) -> None:
    spot, start = list_spot(city)
    first = book(city, spot, start)
    second = book(city, spot, start + 4 * HOUR, driver="bob")
    city.at(start - EARLY)  # the first moment
    dispute(city, "alice", first, "blocked")
    city.at(start + 4 * HOUR + GRACE)  # the last moment: the owner may not yet record a no-show
    dispute(city, "bob", second)
    assert open_ids(city) == [first, second]


def test_unknown_reasons_and_bookings_are_refused(city: City) -> None:
    spot, start = list_spot(city)
    b = book(city, spot, start)
    city.at(start - EARLY)
    for reason in ("", "noisy neighbour", "SPOT_OCCUPIED", "x" * 17):
        refused(city, "invalid_argument", "driver", "parking", "dispute", service="parking",
                booking=b, reason=reason)
    refused(city, "unknown_booking", "driver", "parking", "dispute", service="parking",
            booking=b + 100, reason="other")


def test_resolve_refusals(city: City) -> None:
    spot, start = list_spot(city)
    b = book(city, spot, start)
    refused(city, "no_open_dispute", "seoul_admin", "parking", "resolve_dispute", service="parking",
            booking=b, driver_refund_bps=10_000, note="too soon")
    city.at(start - EARLY)
    dispute(city, "driver", b)
    args = {"service": "parking", "booking": b, "driver_refund_bps": 10_000, "note": "mine"}
    for signer in ("driver", "alice", "nowon_verifier", "outsider"):
        refused(city, "not_operator", signer, "parking", "resolve_dispute", **args)
    refused(city, "unknown_booking", "seoul_admin", "parking", "resolve_dispute",
            **{**args, "booking": b + 100})
    refused(city, "wrong_service", "seoul_admin", "parking", "resolve_dispute",
            **{**args, "service": "air"})
    refused(city, "unknown_service", "seoul_admin", "parking", "resolve_dispute",
            **{**args, "service": "nope"})
    for bad in ({"driver_refund_bps": 10_001}, {"driver_refund_bps": -1}, {"note": ""},
                {"note": "x" * 121}):
        refused(city, "invalid_argument", "seoul_admin", "parking", "resolve_dispute",
                **{**args, **bad})
    assert open_ids(city) == [b] and booking(city, b)["status"] == "disputed"
    resolve(city, b, 2_500)
    refused(city, "no_open_dispute", "seoul_admin", "parking", "resolve_dispute", **args)
    city.check_money()


def test_a_paused_service_still_resolves_its_disputes(city: City) -> None:
    spot, start = list_spot(city)
    b = book(city, spot, start)
    city.at(start - EARLY)
    city.ok("seoul_admin", "incentives", "set_active", service="parking", active=False)
    dispute(city, "driver", b)  # the escrow is held whatever the service's state
    assert resolve(city, b, 10_000)["refunded"] == 2 * PRICE
    city.check_money()


def index_keys(city: City) -> list[int]:
    """The booking ids in the contract's open-disputes index, read from state directly."""
    base = Parking.disputed.base
    return [decode_key(key[len(base):])[1]
            for key, _ in city.box.state.scan(base, prefix_end(base))]


def test_the_open_disputes_index_is_exact_and_pages(city: City) -> None:
    spot, start = list_spot(city)
    ids = [book(city, spot, start + h * HOUR, hours=1, driver=("driver", "bob")[h % 2])
           for h in range(4)]
    city.at(start - EARLY)
    dispute(city, "alice", ids[0], "blocked")
    city.ok("seoul_admin", "parking", "resolve_dispute", service="parking", booking=ids[0],
            driver_refund_bps=0, note="owner was right")
    city.at(start + 2 * HOUR + 10 * 60_000)
    dispute(city, "alice", ids[2], "other")
    city.at(start + 3 * HOUR - EARLY)
    dispute(city, "bob", ids[3], "spot_occupied")
    assert open_ids(city) == index_keys(city) == [ids[2], ids[3]]
    assert open_ids(city, after=ids[2]) == [ids[3]]
    assert open_ids(city, limit=1) == [ids[2]]
    resolve(city, ids[3], 10_000)
    assert open_ids(city) == index_keys(city) == [ids[2]]
    resolve(city, ids[2], 5_000)
    assert open_ids(city) == index_keys(city) == []
    assert [booking(city, b)["status"] for b in ids] == ["resolved", "booked", "resolved",
                                                          "resolved"]
    city.check_money()


def owner_ids(city: City, owner: str = "alice", **page: Any) -> list[int]:
    return [b["booking"] for b in city.query("parking", "bookings_for", service="parking",
                                             owner=getattr(city, owner), **page)]


def test_an_owner_sees_every_open_or_disputed_booking_of_their_spots_and_none_that_ended(
        city: City) -> None:
    spot, start = list_spot(city)
    bob_spot, _ = list_spot(city, owner="bob")
    completed, cancelled, no_show, disputed, resolved, still_open = (
        book(city, spot, start + i * 2 * HOUR, hours=1) for i in range(6))
    bobs = book(city, bob_spot, start)
    assert owner_ids(city) == [completed, cancelled, no_show, disputed, resolved, still_open]
    assert owner_ids(city, "bob") == [bobs]
    assert owner_ids(city, after=no_show, limit=2) == [disputed, resolved]

    city.ok("alice", "parking", "cancel", service="parking", booking=cancelled)
    city.at(start)
    city.ok("driver", "parking", "check_in", service="parking", booking=completed)
    city.at(start + HOUR)
    city.ok("driver", "parking", "check_out", service="parking", booking=completed)
    city.at(start + 4 * HOUR + GRACE + 1)
    city.ok("alice", "parking", "no_show", service="parking", booking=no_show)
    city.at(start + 6 * HOUR)
    dispute(city, "driver", disputed)
    city.at(start + 8 * HOUR)
    dispute(city, "alice", resolved, reason="blocked")
    resolve(city, resolved, 5_000)

    shown = city.query("parking", "bookings_for", service="parking", owner=city.alice)
    assert [(b["booking"], b["status"]) for b in shown] == [
        (disputed, "disputed"), (resolved, "resolved"), (still_open, "booked")]
    assert shown[1]["dispute"]["driver_refund_bps"] == 5_000, "the owner hears the outcome"
    assert owner_ids(city, "driver") == [], "a driver's bookings are not theirs to act on as owner"
    city.check_money()


def test_the_dispute_history_keeps_every_dispute_open_or_decided(city: City) -> None:
    spot, start = list_spot(city)
    first, second, undisputed = (book(city, spot, start + h * HOUR, hours=1) for h in range(3))
    city.at(start - EARLY)
    dispute(city, "driver", first)
    resolve(city, first, 10_000, "spot was taken")
    city.at(start + HOUR - EARLY)
    dispute(city, "alice", second, "blocked")
    history = city.query("parking", "dispute_history", service="parking")
    assert [(d["booking"], d["status"]) for d in history] == [(first, "resolved"), (second, "disputed")]
    assert history[0]["dispute"]["note"] == "spot was taken" and history[0]["cell"] == NOWON_CELL
    assert history[0]["dispute"]["resolved_by"] == city.seoul_admin
    assert [d["booking"] for d in city.query("parking", "dispute_history", service="parking",
                                              after=first)] == [second]
    assert booking(city, undisputed)["dispute"] is None
