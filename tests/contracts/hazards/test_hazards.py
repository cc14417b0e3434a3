"""Hazard reports: merged duplicates, the department's verification, repairs, the paid feed."""

from __future__ import annotations

from hashlib import sha256

from tests.contracts.incentives.city import (
    BUDGET,
    DAY,
    GANGSEO_CELL,
    HAZARD_FEE,
    HAZARD_REWARD,
    NOWON_CELL,
    NOWON_ZONE,
    PLATFORM_BPS,
    City,
    refused,
)

PHOTO = sha256(b"pothole.jpg").digest()


def report(city: City, citizen: str, cell: str = NOWON_CELL, category: str = "pothole") -> dict:
    return city.ok(citizen, "hazards", "report", service="roads", category=category, cell=cell,
                   photo=sha256(citizen.encode()).digest())


def status(city: City, hazard: int) -> str:
    return city.query("hazards", "hazard", service="roads", hazard=hazard)["status"]


def test_the_lifecycle_with_a_merged_report(city: City) -> None:
    first = report(city, "alice")
    assert first == {"hazard": first["hazard"], "merged": False, "reporters": 1}
    second = report(city, "bob")
    assert second == {"hazard": first["hazard"], "merged": True, "reporters": 2}
    hazard = first["hazard"]
    shown = city.query("hazards", "hazard", service="roads", hazard=hazard)
    assert shown["department"] == "nowon" and shown["status"] == "reported"
    assert [r["reporter"] for r in shown["reports"]] == [city.alice, city.bob]
    assert all(len(r["photo"]) == 32 for r in shown["reports"])

    paid = city.ok("nowon_verifier", "hazards", "verify", service="roads", hazard=hazard)
    first_share, later_share = HAZARD_REWARD * 3 // 4, HAZARD_REWARD // 4
    assert paid == first_share + later_share
    assert city.balance("alice") == 1_000 + first_share  # the first reporter earns more
    assert city.balance("bob") == 1_000 + later_share
    assert status(city, hazard) == "verified"
    city.ok("nowon_verifier", "hazards", "start_repair", service="roads", hazard=hazard)
    assert status(city, hazard) == "repairing"
    city.ok("nowon_verifier", "hazards", "resolve", service="roads", hazard=hazard)
    assert status(city, hazard) == "resolved"
    assert city.flows("roads")["budget"] == BUDGET - paid
    # once resolved, a new report is a new hazard
    assert report(city, "carol")["hazard"] != hazard
    listed = city.query("hazards", "reports_of", service="roads", reporter=city.alice)
    assert [h["hazard"] for h in listed] == [hazard]
    city.check_money()


def test_a_rejection_carries_its_reason(city: City) -> None:
    hazard = report(city, "dave", cell=GANGSEO_CELL)["hazard"]
    city.ok("gangseo_verifier", "hazards", "reject", service="roads", hazard=hazard,
            reason="사진에 위험 요소가 없음 (no hazard in the photo)")
    shown = city.query("hazards", "hazard", service="roads", hazard=hazard)
    assert shown["status"] == "rejected" and shown["reason"].startswith("사진")
    assert shown["reward"] == 0 and city.balance("dave") == 1_000
    refused(city, "wrong_status", "gangseo_verifier", "hazards", "verify", service="roads",
            hazard=hazard)


def test_refusals(city: City) -> None:
    hazard = report(city, "alice")["hazard"]
    refused(city, "not_citizen", "sensor1", "hazards", "report", service="roads",
            category="pothole", cell=NOWON_CELL, photo=PHOTO)
    refused(city, "not_citizen", "nowon_verifier", "hazards", "report", service="roads",
            category="sinkhole", cell=NOWON_CELL, photo=PHOTO)
    refused(city, "duplicate_report", "alice", "hazards", "report", service="roads",
            category="pothole", cell=NOWON_CELL, photo=PHOTO)
    refused(city, "invalid_argument", "alice", "hazards", "report", service="roads",
            category="alien", cell=NOWON_CELL, photo=PHOTO)
    refused(city, "invalid_argument", "alice", "hazards", "report", service="roads",
            category="pothole", cell=NOWON_CELL, photo=b"short")
    refused(city, "not_verifier", "gangseo_verifier", "hazards", "verify", service="roads",
            hazard=hazard)  # the wrong department
    refused(city, "not_verifier", "seoul_admin", "hazards", "verify", service="roads",
            hazard=hazard)  # the operator is not Nowon's department either
    refused(city, "not_verifier", "alice", "hazards", "verify", service="roads", hazard=hazard)
    refused(city, "wrong_status", "nowon_verifier", "hazards", "resolve", service="roads",
            hazard=hazard)
    refused(city, "unknown_hazard", "nowon_verifier", "hazards", "verify", service="roads",
            hazard=99)
    refused(city, "not_operator", "alice", "hazards", "assign_zone", service="roads",
            zone=NOWON_ZONE, department="gangseo")
    refused(city, "not_found", "seoul_admin", "hazards", "assign_zone", service="roads",
            zone=NOWON_ZONE, department="atlantis")


def test_verification_is_refused_when_the_budget_is_spent(city: City) -> None:
    hazard = report(city, "alice")["hazard"]
    city.ok("seoul_admin", "incentives", "withdraw", service="roads", amount=BUDGET - 10)
    refused(city, "budget_exhausted", "nowon_verifier", "hazards", "verify", service="roads",
            hazard=hazard)
    city.ok("seoul_admin", "incentives", "fund", service="roads", amount=HAZARD_REWARD)
    city.ok("nowon_verifier", "hazards", "verify", service="roads", hazard=hazard)


def test_reports_merge_only_within_three_days_and_eight_reporters(city: City) -> None:
    hazard = report(city, "alice")["hazard"]
    assert report(city, "bob", category="streetlight")["hazard"] != hazard  # another hazard
    city.at(city.box.time_ms + 3 * DAY + 10)
    assert report(city, "carol")["merged"] is False  # too late to be the same sighting
    for n in range(7):
        city.accounts[f"resident{n}"] = account = city.accounts["outsider"][:19] + bytes([n])
        city.ok("nowon_admin", "governance", "grant_role", org="nowon", account=account,
                role="citizen")
    merged = None
    for n in range(7):
        merged = report(city, f"resident{n}")
    assert merged is not None and merged["reporters"] == 8
    refused(city, "enough_reports", "dave", "hazards", "report", service="roads",
            category="pothole", cell=NOWON_CELL, photo=PHOTO)


def test_the_paid_feed_lists_verified_hazards_of_a_zone(city: City) -> None:
    verified = report(city, "alice")["hazard"]
    report(city, "bob", category="streetlight")  # reported, not verified: not listed
    city.ok("nowon_verifier", "hazards", "verify", service="roads", hazard=verified)
    before = city.flows("roads")
    feed = city.ok("app", "hazards", "buy_feed", service="roads", zone=NOWON_ZONE)
    assert [h["hazard"] for h in feed] == [verified] and feed[0]["status"] == "verified"
    platform = HAZARD_FEE * PLATFORM_BPS // 10_000
    after = city.flows("roads")
    assert after["fees_collected"] - before["fees_collected"] == HAZARD_FEE
    assert after["budget"] - before["budget"] == HAZARD_FEE - platform  # fees refill the budget
    assert city.ok("app", "hazards", "buy_feed", service="roads", zone=NOWON_ZONE,
                   after=verified) == []
    refused(city, "insufficient_funds", "outsider", "hazards", "buy_feed", service="roads",
            zone=NOWON_ZONE)
    city.check_money()
