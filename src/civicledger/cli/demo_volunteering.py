"""The demo's week of volunteering in Nowon and Gangseo.

Genesis: the volunteering contract's account holds ``issuer`` in both district
orgs (it mints the credits), the café holds ``merchant`` in Nowon and the
bakery in Gangseo, the welfare centre's admin is its ``manager`` (the school's
admin is the school's through ``demo.ORGS``), and the districts are registered
with their coins: Nowon pays at most 700 NW an hour, Gangseo 800 GS.

The week: the welfare centre needs two lunch-box drivers; the school one
after-school tutor. Volunteers bid, selection runs, work is co-signed in and out,
confirmed and rated, credits are minted; then minji buys coffee in Nowon, junho
donates to seoyeon, minji gives to the welfare centre, exchanges NW for GS and
buys bread in Gangseo, and dohyun spends his GS there too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from civicledger.cli.demo import DemoStep
from civicledger.contracts.framework import contract_account
from civicledger.core.address import to_text

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
CONTRACT = "volunteering"

Addr = Callable[[str], bytes]


def genesis(addr: Addr) -> dict[str, Any]:
    """Extra genesis configuration by contract name (``demo.merge_genesis`` folds it in)."""
    contract = to_text(contract_account(CONTRACT))
    return {
        "governance": {"orgs": [
            {"id": "nowon", "roles": {contract: ["issuer"], to_text(addr("cafe-admin")): ["merchant"]}},
            {"id": "gangseo", "roles": {contract: ["issuer"],
                                        to_text(addr("bakery-admin")): ["merchant"]}},
            {"id": "welfare", "roles": {to_text(addr("welfare-admin")): ["manager"]}},
        ]},
        "volunteering": {
            "districts": [{"district": "nowon", "currency": "NW", "max_hourly": 700},
                          {"district": "gangseo", "currency": "GS", "max_hourly": 800}],
            "organisations": [{"org": "welfare", "district": "nowon"},
                              {"org": "school", "district": "gangseo"}],
        },
    }


def steps(addr: Addr, start_ms: int = 0) -> list[DemoStep]:
    """The week's transactions in order. Requests name absolute times, so ``start_ms`` must be
    the genesis time the steps run after (``at_ms`` is relative to it)."""

    def at(day: int, hour: float) -> int:
        return day * DAY_MS + int(hour * HOUR_MS)

    def step(when: int, signer: str, method: str, cosigners: tuple[str, ...] = (),
             **args: Any) -> DemoStep:
        return DemoStep(when, signer, CONTRACT, method, args, cosigners)

    lunch, tutoring = 1, 2  # request ids, in the order they are posted
    lunch_start, lunch_end = start_ms + at(2, 10), start_ms + at(2, 13)
    tutor_start, tutor_end = start_ms + at(3, 14), start_ms + at(3, 17)

    def co_signed(when: int, method: str, request: int, volunteer: str, manager: str) -> DemoStep:
        return step(when, volunteer, method, (manager,), request=request,
                    volunteer=addr(volunteer), manager=addr(manager))

    return [
        # Monday: needs are posted, volunteers state preferences and bid.
        step(at(0, 9), "welfare-admin", "post_request", org="welfare",
             task="도시락 배달 Lunch-box delivery to elderly residents", place="nowon:gongneung-2",
             start_ms=lunch_start, end_ms=lunch_end, slots=2, skills=["driving", "elderly-care"],
             offer_per_hour=700, deadline_ms=start_ms + at(1, 18)),
        step(at(0, 9.5), "school-admin", "post_request", org="school",
             task="방과후 학습 지도 After-school tutoring", place="gangseo:hwagok-1",
             start_ms=tutor_start, end_ms=tutor_end, slots=1, skills=["teaching", "math"],
             offer_per_hour=800, deadline_ms=start_ms + at(2, 12)),
        step(at(0, 10), "minji", "set_preferences", districts=["nowon"], skills=["driving"]),
        step(at(0, 10.5), "minji", "apply", request=lunch, ask_per_hour=700,
             skills=["driving", "elderly-care"], available_from_ms=lunch_start,
             available_until_ms=lunch_end),
        step(at(0, 11), "junho", "apply", request=lunch, ask_per_hour=650, skills=["driving"],
             available_from_ms=lunch_start, available_until_ms=lunch_end),
        step(at(0, 12), "seoyeon", "apply", request=lunch, ask_per_hour=600, skills=["cooking"],
             available_from_ms=lunch_start + HOUR_MS, available_until_ms=lunch_end),
        step(at(0, 15), "dohyun", "apply", request=tutoring, ask_per_hour=750,
             skills=["teaching", "math"], available_from_ms=tutor_start, available_until_ms=tutor_end),
        step(at(1, 9), "seoyeon", "apply", request=tutoring, ask_per_hour=800, skills=["teaching"],
             available_from_ms=tutor_start, available_until_ms=tutor_end),
        # Tuesday evening: the lunch-box deadline passes and anyone runs the selection.
        step(at(1, 18.5), "seoyeon", "select", request=lunch),
        # Wednesday: the school closes early; the lunch boxes are delivered.
        step(at(2, 8), "school-admin", "close_early", request=tutoring),
        co_signed(at(2, 9.75), "check_in", lunch, "minji", "welfare-admin"),
        co_signed(at(2, 10), "check_in", lunch, "junho", "welfare-admin"),
        co_signed(at(2, 13), "check_out", lunch, "minji", "welfare-admin"),
        co_signed(at(2, 13.25), "check_out", lunch, "junho", "welfare-admin"),
        step(at(2, 14), "welfare-admin", "confirm", request=lunch, volunteer=addr("minji"),
             minutes=180, rating=5, tags=["punctual", "kind"]),
        step(at(2, 14.25), "welfare-admin", "confirm", request=lunch, volunteer=addr("junho"),
             minutes=180, rating=4, tags=["reliable"]),
        # Thursday: tutoring in Gangseo.
        co_signed(at(3, 13.75), "check_in", tutoring, "dohyun", "school-admin"),
        co_signed(at(3, 17), "check_out", tutoring, "dohyun", "school-admin"),
        step(at(3, 17.5), "school-admin", "confirm", request=tutoring, volunteer=addr("dohyun"),
             minutes=180, rating=5, tags=["skilled", "kind"]),
        # Friday to Sunday: credits used in part, given, and carried across districts.
        step(at(4, 8.5), "minji", "spend", district="nowon", merchant=addr("cafe-admin"),
             amount=450, memo="아메리카노 Americano"),
        step(at(5, 10), "junho", "donate", currency="NW", to=addr("seoyeon"), amount=700,
             memo="헌혈증처럼 like a blood-donation certificate"),
        step(at(5, 11), "minji", "donate", currency="NW", to=addr("welfare-admin"), amount=300),
        step(at(5, 16), "minji", "exchange", from_currency="NW", to_currency="GS", amount=1_000),
        step(at(6, 9), "minji", "spend", district="gangseo", merchant=addr("bakery-admin"),
             amount=800, memo="빵 bread"),
        step(at(6, 12), "dohyun", "spend", district="gangseo", merchant=addr("bakery-admin"),
             amount=1_000),
        # Saturday evening: next week's needs, still open when the node first starts (day 8).
        step(at(6, 18), "welfare-admin", "post_request", org="welfare",
             task="김장 나눔 Kimchi-making for neighbours", place="nowon:sanggye-6",
             start_ms=start_ms + at(10, 10), end_ms=start_ms + at(10, 14), slots=3,
             skills=["cooking"], offer_per_hour=700, deadline_ms=start_ms + at(9, 18)),
        step(at(6, 18.5), "school-admin", "post_request", org="school",
             task="도서관 정리 Library tidy-up", place="gangseo:hwagok-1",
             start_ms=start_ms + at(11, 14), end_ms=start_ms + at(11, 16), slots=2,
             skills=["cleaning"], offer_per_hour=800, deadline_ms=start_ms + at(10, 20)),
        step(at(7, 0) - 1, "seoyeon", "set_preferences", districts=["nowon", "gangseo"],
             skills=["teaching", "cooking"]),
    ]
