"""The incentive services' week in the demo city.

Seoul (``seoul-admin``, operator) registers and funds three services — ``air``
(air-quality data), ``roads`` (road hazards) and ``parking`` — and assigns the
Nowon and Gangseo zones to those district offices, whose admins hold
``verifier`` in the demo genesis. No extra genesis configuration is needed:
the platform share is the default 5 % and the treasury is governance's account.

Roles the week itself grants, at its start: the district admins give their
residents the ``citizen`` role (Nowon: minji, junho; Gangseo: seoyeon,
dohyun). Contract accounts need no role: the registry pays out with
``token.transfer`` from its own account.

Then: citizens' sensors send readings three times a day; hazards are reported
(one pothole twice, merged), verified, rejected and repaired; the air lab buys a
dataset and the hazard feed; providers claim their dataset shares; residents
list spots; drivers book, check in and out, and one booking is cancelled; a driver
overstays on day 5 and the spot's owner reports it, so Seoul's parking
console opens on one dispute to resolve.

Block times and day numbers in the arguments are absolute, so ``steps`` needs
the genesis time (``start_ms``); activity starts at the first UTC midnight after
it so that readings fall on whole days, and ends within seven days.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from civicledger.cli.demo import DemoStep

HOUR = 3_600_000
DAY = 24 * HOUR
MINUTE = 60_000

NOWON_ZONE, GANGSEO_ZONE = "041-108", "038-105"  # the district offices (web.geo)
SENSORS = {"minji": "0412-1087", "junho": "0412-1088", "seoyeon": "0413-1087"}
"""Whose sensor reads which cell (all in Nowon's zone)."""
READING_HOURS = (9, 13, 18)


def genesis(addr: Callable[[str], bytes]) -> dict[str, Any]:
    """Extra genesis configuration per contract: none (see the module docstring)."""
    return {}


def steps(addr: Callable[[str], bytes], start_ms: int = 0) -> list[DemoStep]:
    """The week, in time order. ``start_ms`` is the genesis time; ``at_ms`` is relative to it."""
    midnight = -start_ms % DAY  # offset of the first UTC midnight at or after the start
    day0 = (start_ms + midnight) // DAY
    out: list[DemoStep] = []

    def at(day: int, hour: int, minute: int = 0) -> int:
        return midnight + day * DAY + hour * HOUR + minute * MINUTE

    def step(when: int, signer: str, contract: str, method: str, **args: Any) -> None:
        out.append(DemoStep(when, signer, contract, method, args))

    # -- setting up (before the first midnight) ------------------------------------
    step(0, "nowon-admin", "governance", "grant_role", org="nowon", account=addr("minji"),
         role="citizen")
    step(0, "nowon-admin", "governance", "grant_role", org="nowon", account=addr("junho"),
         role="citizen")
    step(0, "gangseo-admin", "governance", "grant_role", org="gangseo", account=addr("seoyeon"),
         role="citizen")
    step(0, "gangseo-admin", "governance", "grant_role", org="gangseo", account=addr("dohyun"),
         role="citizen")
    step(1, "seoul-admin", "incentives", "register_service", service="air", kind="airquality",
         operator="seoul", currency="CIV", title="대기질 데이터 Air-quality data", reward=20,
         fee=5, daily_cap=200, needs_verification=False)
    step(1, "seoul-admin", "incentives", "register_service", service="roads", kind="hazards",
         operator="seoul", currency="CIV", title="도로 위험 신고 Road hazard reports",
         reward=300, fee=50, needs_verification=True)
    step(1, "seoul-admin", "incentives", "register_service", service="parking", kind="parking",
         operator="seoul", currency="CIV", title="주차 공유 Shared parking")
    step(2, "seoul-admin", "incentives", "fund", service="air", amount=50_000)
    step(2, "seoul-admin", "incentives", "fund", service="roads", amount=100_000)
    step(3, "seoul-admin", "hazards", "assign_zone", service="roads", zone=NOWON_ZONE,
         department="nowon")
    step(3, "seoul-admin", "hazards", "assign_zone", service="roads", zone=GANGSEO_ZONE,
         department="gangseo")
    for citizen in SENSORS:
        step(4, "seoul-admin", "airquality", "register_provider", service="air",
             provider=addr(citizen))
    step(5, "seoul-admin", "token", "transfer", currency="CIV", to=addr("airlab-admin"),
         amount=5_000, memo="data budget")

    # -- days 0-3: readings, three times a day --------------------------------------
    for day in range(4):
        for n, hour in enumerate(READING_HOURS):
            for k, (citizen, cell) in enumerate(SENSORS.items()):
                when = at(day, hour, k)
                pm10 = 30 + 7 * day + 5 * n + 3 * k
                step(when, citizen, "airquality", "submit", service="air", cell=cell,
                     measured_ms=start_ms + when - 5 * MINUTE,
                     values={"pm10": pm10, "pm25": pm10 // 2, "no2": 20 + n * 4})

    # -- hazards -------------------------------------------------------------------
    step(at(1, 10), "minji", "hazards", "report", service="roads", category="pothole",
         cell="0412-1087", photo=bytes.fromhex("11" * 32))
    step(at(1, 11), "junho", "hazards", "report", service="roads", category="pothole",
         cell="0412-1087", photo=bytes.fromhex("12" * 32))  # the same pothole: merged into 1
    step(at(1, 14), "dohyun", "hazards", "report", service="roads", category="sinkhole",
         cell="0389-1050", photo=bytes.fromhex("21" * 32))
    step(at(1, 16), "nowon-admin", "hazards", "verify", service="roads", hazard=1)
    step(at(2, 9), "seoyeon", "hazards", "report", service="roads", category="streetlight",
         cell="0389-1051", photo=bytes.fromhex("31" * 32))
    step(at(2, 10), "gangseo-admin", "hazards", "verify", service="roads", hazard=2)
    step(at(2, 11), "gangseo-admin", "hazards", "reject", service="roads", hazard=3,
         reason="가로등 정상 작동 확인 (the streetlight works)")
    step(at(2, 15), "nowon-admin", "hazards", "start_repair", service="roads", hazard=1)
    step(at(3, 9), "gangseo-admin", "hazards", "start_repair", service="roads", hazard=2)
    step(at(3, 10), "airlab-admin", "hazards", "buy_feed", service="roads", zone=GANGSEO_ZONE)
    step(at(3, 12), "nowon-admin", "hazards", "resolve", service="roads", hazard=1)

    # -- parking: listings on day 4 for day 5, and open for the month after -----------
    window = [start_ms + at(5, 7), start_ms + at(5, 22)]
    month = [start_ms + at(6, 0), start_ms + at(6, 0) + 31 * DAY]  # so a newcomer finds spots to book
    step(at(4, 8), "seoul-admin", "incentives", "fund", service="air", amount=10_000)
    step(at(4, 9), "minji", "parking", "list_spot", service="parking", cell="0412-1087",
         price_per_hour=100, windows=[window, month])                  # spot 1
    step(at(4, 9, 30), "junho", "parking", "list_spot", service="parking", cell="0412-1088",
         price_per_hour=80, windows=[window, month])                   # spot 2
    step(at(4, 10), "seoyeon", "parking", "book", service="parking", spot=1,
         start_ms=start_ms + at(5, 9), hours=3)                        # booking 3
    step(at(4, 11), "dohyun", "parking", "book", service="parking", spot=2,
         start_ms=start_ms + at(5, 10), hours=2)                       # booking 4
    step(at(4, 12), "junho", "parking", "book", service="parking", spot=1,
         start_ms=start_ms + at(5, 14), hours=2)                       # booking 5
    step(at(4, 13), "dohyun", "parking", "book", service="parking", spot=2,
         start_ms=start_ms + at(5, 18), hours=2)                       # booking 6
    step(at(4, 20), "dohyun", "parking", "cancel", service="parking", booking=4)

    # -- day 5: the dataset, the claims, the parking ----------------------------------
    step(at(5, 8), "airlab-admin", "airquality", "buy_dataset", service="air", zone=NOWON_ZONE,
         first_day=day0, days=3)
    step(at(5, 8, 55), "seoyeon", "parking", "check_in", service="parking", booking=3)
    for k, citizen in enumerate(SENSORS):
        for day in range(3):
            step(at(5, 10, 10 * k + day), citizen, "airquality", "claim", service="air",
                 zone=NOWON_ZONE, day=day0 + day)
    step(at(5, 12), "seoyeon", "parking", "check_out", service="parking", booking=3)
    step(at(5, 13, 55), "junho", "parking", "check_in", service="parking", booking=5)
    step(at(5, 16), "junho", "parking", "check_out", service="parking", booking=5)
    # an overstay, reported by the spot's owner; left open for Seoul's console
    step(at(5, 17, 55), "dohyun", "parking", "check_in", service="parking", booking=6)
    step(at(5, 20, 40), "junho", "parking", "dispute", service="parking", booking=6,
         reason="overstay")
    return sorted(out, key=lambda s: s.at_ms)  # stable: same-time steps keep their order
