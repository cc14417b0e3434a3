"""Property: random activity across the three services conserves tokens.

After every step: for CIV the sum of all balances equals the supply; the
registry's account holds exactly the budgets and holdings its services record;
no call is a contract bug; a refused call changed nothing and emitted nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contracts.incentives.city import DAY, HOUR, City, make_city

SENSORS = ("sensor1", "sensor2", "sensor3", "outsider")
CITIZENS = ("alice", "bob", "carol", "dave", "sensor1")
VERIFIERS = ("nowon_verifier", "nowon_verifier", "gangseo_verifier", "seoul_admin")
CONSUMERS = ("app", "driver", "outsider", "bob")
CELLS = ("0412-1087", "0412-1088", "0413-1087", "0389-1050", "0389-1051")
ZONES = ("041-108", "038-105")

air = st.one_of(
    st.tuples(st.just("submit"), st.sampled_from(SENSORS), st.sampled_from(CELLS),
              st.integers(0, 3 * HOUR), st.integers(0, 2_100)),
    st.tuples(st.just("buy_dataset"), st.sampled_from(CONSUMERS), st.sampled_from(ZONES),
              st.sampled_from((2, 2, 3, 0))),
    st.tuples(st.just("claim"), st.sampled_from(SENSORS), st.sampled_from(ZONES),
              st.sampled_from((2, 2, 3, 0))),
)
hazards = st.one_of(
    st.tuples(st.just("report"), st.sampled_from(CITIZENS), st.sampled_from(CELLS),
              st.sampled_from(("pothole", "streetlight"))),
    st.tuples(st.sampled_from(("verify", "start_repair", "resolve", "reject")),
              st.sampled_from(VERIFIERS), st.integers(1, 6)),
    st.tuples(st.just("buy_feed"), st.sampled_from(CONSUMERS), st.sampled_from(ZONES)),
)
parking = st.one_of(
    st.tuples(st.just("list_spot"), st.sampled_from(("alice", "carol", "cafe")),
              st.integers(1, 30), st.integers(1, 80)),
    st.tuples(st.just("book"), st.sampled_from(CONSUMERS), st.integers(0, 8),
              st.integers(0, 30), st.integers(1, 4)),
    st.tuples(st.sampled_from(("check_in", "check_out", "cancel", "no_show")),
              st.sampled_from(("driver", "driver", "owner", "bob")), st.integers(0, 8)),
    st.tuples(st.just("goto"), st.integers(-20, 60), st.integers(0, 8)),
    st.tuples(st.just("dispute"), st.sampled_from(("driver", "owner", "bob")), st.integers(0, 8),
              st.sampled_from(("spot_occupied", "overstay", "blocked", "other"))),
    st.tuples(st.just("resolve_dispute"), st.sampled_from(("seoul_admin", "seoul_admin", "alice")),
              st.integers(0, 8), st.sampled_from((0, 1, 3_333, 5_000, 10_000))),
)
"""Parking steps name the n-th booking made so far (modulo their number), and a role;
disputes are raised by the driver, the owner or a stranger, and resolved by Seoul's operator
(or a resident, who is refused) with a refund share."""
money = st.tuples(st.sampled_from(("fund", "withdraw")), st.sampled_from(("air", "roads")),
                  st.integers(1, 400))
step = st.one_of(air, hazards, parking, parking, money,
                 st.tuples(st.just("advance"), st.integers(0, 20 * HOUR)))


def run(city: City, action: tuple[Any, ...]) -> Any:
    kind, who, *rest = action
    now = city.box.time_ms + 1
    if kind == "advance":
        city.box.advance(who)
        return None
    if kind == "submit":
        cell, age, pm10 = rest
        return city.call(who, "airquality", "submit", service="air", cell=cell,
                         measured_ms=max(0, now - age), values={"pm10": pm10})
    if kind in ("buy_dataset", "claim"):
        zone, days_ago = rest
        day = now // DAY - days_ago
        if kind == "claim":
            return city.call(who, "airquality", "claim", service="air", zone=zone, day=day)
        return city.call(who, "airquality", "buy_dataset", service="air", zone=zone, first_day=day)
    if kind == "report":
        cell, category = rest
        return city.call(who, "hazards", "report", service="roads", category=category, cell=cell,
                         photo=bytes(32))
    if kind in ("verify", "start_repair", "resolve"):
        return city.call(who, "hazards", kind, service="roads", hazard=rest[0])
    if kind == "reject":
        return city.call(who, "hazards", "reject", service="roads", hazard=rest[0], reason="no")
    if kind == "buy_feed":
        return city.call(who, "hazards", "buy_feed", service="roads", zone=rest[0])
    if kind == "list_spot":
        price, hours = rest
        start = (now // HOUR + 1) * HOUR
        return city.call(who, "parking", "list_spot", service="parking", cell=CELLS[0],
                         price_per_hour=price, windows=[[start, start + hours * HOUR]])
    if kind == "book":
        n, offset, hours = rest
        spots = [sp["spot"] for owner in ("alice", "carol", "cafe")
                 for sp in city.query("parking", "spots_of", service="parking",
                                      owner=city.accounts[owner])]
        spot = sorted(spots)[n % len(spots)] if spots else 1
        start = (now // HOUR + 1 + offset) * HOUR
        return city.call(who, "parking", "book", service="parking", spot=spot, start_ms=start,
                         hours=hours)
    if kind == "goto":
        found = nth_booking(city, rest[0])
        if found is not None and found["start_ms"] + who * 60_000 > now:
            city.at(found["start_ms"] + who * 60_000)
        return None
    if kind == "resolve_dispute":
        open_ = city.query("parking", "open_disputes", service="parking")
        found = open_[rest[0] % len(open_)] if open_ else nth_booking(city, rest[0])
        return city.call(who, "parking", kind, service="parking",
                         booking=found["booking"] if found else 1, driver_refund_bps=rest[1],
                         note="decided")
    if kind in ("check_in", "check_out", "cancel", "no_show", "dispute"):
        found = nth_booking(city, rest[0])
        extra = {"reason": rest[1]} if kind == "dispute" else {}
        if found is None:
            return city.call("driver", "parking", kind, service="parking", booking=1, **extra)
        arrive = {"check_in": found["start_ms"] - 5 * 60_000, "check_out": found["end_ms"],
                  "dispute": found["start_ms"] - 5 * 60_000}
        if arrive.get(kind, 0) > now:
            city.at(arrive[kind])  # the driver arrives, or leaves, on time
        signer = found["driver"] if who == "driver" else found["owner"] if who == "owner" else None
        signer_name = next((n for n, a in city.accounts.items() if a == signer), who)
        return city.call(signer_name, "parking", kind, service="parking",
                         booking=found["booking"], **extra)
    return city.call("seoul_admin", "incentives", kind, service=who, amount=rest[0])


def nth_booking(city: City, n: int) -> dict[str, Any] | None:
    found = sorted((b for c in CONSUMERS
                    for b in city.query("parking", "bookings_of", service="parking",
                                        driver=city.accounts[c])), key=lambda b: b["booking"])
    return found[n % len(found)] if found else None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=10, max_size=60))
def test_random_activity_across_services_conserves_tokens(actions: list[tuple[Any, ...]]) -> None:
    city = make_city()
    # a small budget so that it runs out now and then
    city.ok("seoul_admin", "incentives", "withdraw", service="air", amount=99_900)
    city.ok("seoul_admin", "incentives", "withdraw", service="roads", amount=99_700)
    city.check_money()
    for action in actions:
        before = dict(city.box.state.entries)
        receipt = run(city, action)
        if receipt is not None:
            assert receipt.status != "contract_error", (action, receipt)
            if not receipt.ok:
                assert receipt.message and not receipt.events
                assert city.box.state.entries == before, (action, receipt)
        city.check_money()
    owners_see_exactly_their_live_and_disputed_bookings(city)


def owners_see_exactly_their_live_and_disputed_bookings(city: City) -> None:
    """The owners' booking index agrees with the bookings themselves (a derived index that
    missed a status change would show an owner a booking they can no longer act on)."""
    every = [b for c in CONSUMERS for b in city.query("parking", "bookings_of", service="parking",
                                                       driver=city.accounts[c], limit=100)]
    for owner in ("alice", "carol", "cafe"):
        address = city.accounts[owner]
        expected = sorted(b["booking"] for b in every if b["owner"] == address
                          and b["status"] in ("booked", "checked_in", "disputed", "resolved"))
        listed = city.query("parking", "bookings_for", service="parking", owner=address, limit=100)
        assert [b["booking"] for b in listed] == expected, owner
