"""A request from posting to minted credits and a certificate, and what each step records."""

from __future__ import annotations

import pytest

from civicledger.contracts.volunteering.contract import certificate_digest
from civicledger.contracts.volunteering.records import Certificate
from tests.contracts.volunteering.town import CONTRACT, HOUR_MS, NW_CAP, VALIDITY_MS, Town, make_town


@pytest.fixture
def town() -> Town:
    return make_town()


def test_genesis_registers_districts_and_organisations(town: Town) -> None:
    assert town.query("district", district="nowon") == {
        "district": "nowon", "currency": "NW", "max_hourly": 700}
    assert town.query("organisation", org="school") == {"org": "school", "district": "gangseo"}


def test_full_lifecycle_post_apply_select_work_confirm_mint(town: Town) -> None:
    request = town.post()
    record = town.query("request", request=request)
    assert (record["status"], record["district"], record["slots"]) == ("open", "nowon", 2)

    # Three volunteers bid; two slots. Minji asks the full offer, Junho less, Seoyeon lacks a skill.
    assert town.apply(town.minji, request, ask=700).result == 1
    assert town.apply(town.junho, request, ask=600).result == 2
    assert town.apply(town.seoyeon, request, ask=500, skills=("cooking",)).ok
    assert town.query("request", request=request)["applicants"] == 3

    town.to_deadline(request)
    selected = town.call(town.dohyun, "select", request=request)  # anyone may, after the deadline
    assert selected.ok and selected.result == "filled", selected
    ranked = [e for e in selected.events if e.name == "Ranked"]
    assert [(e.data["volunteer"], e.data["rank"], e.data["selected"]) for e in ranked] == [
        (town.junho, 1, True), (town.minji, 2, True), (town.seoyeon, 3, False)]
    assert all(e.topics == (e.data["volunteer"],) for e in ranked)
    assert selected.events[-1].name == "Closed"
    seoyeon = town.query("application", request=request, volunteer=town.seoyeon)
    assert seoyeon["status"] == "not_selected"
    assert seoyeon["reason"].startswith("not selected: rank 3 of 3 for 2 slot(s); score")
    assert "the last selected scored" in seoyeon["reason"]
    assert town.query("org_report", org="welfare")["filled"] == 1

    # Co-signed check-in and check-out, then the manager confirms and rates.
    town.work(request, town.junho, town.welfare_manager, hours=3)
    activity = town.query("activity", request=request, volunteer=town.junho)
    assert activity["status"] == "checked_out" and activity["check_out_ms"] - activity[
        "check_in_ms"] == 3 * HOUR_MS + 1
    confirmed = town.call(town.welfare_manager, "confirm", request=request, volunteer=town.junho,
                          minutes=150, rating=4, tags=("punctual", "kind"))
    assert confirmed.ok, confirmed
    number = confirmed.result
    assert town.spendable("NW", town.junho) == 600 * 150 // 60 == 1_500
    balance = town.box.query("token", "balance", currency="NW", account=town.junho)
    assert balance["lots"] == [[town.box.time_ms + VALIDITY_MS, 1_500]]
    names = [e.name for e in confirmed.events]
    assert names == ["Minted", "Verified"]

    certificate = town.query("certificate", certificate=number)
    assert certificate["volunteer"] == town.junho and certificate["org"] == "welfare"
    assert (certificate["minutes"], certificate["hours"], certificate["credits"]) == (150, 2, 1_500)
    assert certificate["place"] == "nowon:gongneung-2"
    fields = {k: v for k, v in certificate.items() if k not in ("id", "hours", "digest")}
    assert certificate_digest(Certificate(**fields)) == certificate["digest"]
    assert town.query("verify_certificate", certificate=number, digest=certificate["digest"])
    assert not town.query("verify_certificate", certificate=number, digest=bytes(32))
    assert not town.query("verify_certificate", certificate=number + 1, digest=certificate["digest"])
    assert confirmed.events[-1].data["digest"] == certificate["digest"]
    assert town.query("certificates_of", volunteer=town.junho) == [certificate]

    profile = town.query("profile", volunteer=town.junho)
    assert (profile["minutes"], profile["hours"], profile["activities"]) == (150, 2, 1)
    assert (profile["rating_centi"], profile["ratings"], profile["credits_earned"]) == (400, 1, 1_500)
    assert profile["tags"] == {"kind": 1, "punctual": 1}
    assert profile["skills"] == {"driving": 1, "elderly-care": 1}
    assert profile["districts"] == {"nowon": 150}

    report = town.query("district_report", district="nowon")
    assert (report["requests"], report["activities"], report["minutes"], report["minted"]) == (
        1, 1, 150, 1_500)
    assert report["outstanding"] == 1_500
    org = town.query("org_report", org="welfare")
    assert (org["activities_verified"], org["minutes"], org["volunteers_selected"]) == (1, 150, 2)


def test_close_early_selects_before_the_deadline(town: Town) -> None:
    request = town.post(slots=1)
    assert town.apply(town.minji, request).ok
    closed = town.call(town.welfare_manager, "close_early", request=request)
    assert closed.ok and closed.result == "filled"
    assert closed.events[-1].data["early"] is True
    assert town.apply(town.junho, request).status == "request_closed"


def test_selection_with_no_applicant_leaves_the_request_unfilled(town: Town) -> None:
    request = town.post()
    town.to_deadline(request)
    assert town.ok(town.minji, "select", request=request) == "unfilled"
    assert town.query("org_report", org="welfare")["unfilled"] == 1


def test_cancel_notifies_every_applicant(town: Town) -> None:
    request = town.post(slots=1)
    for volunteer in (town.minji, town.junho):
        assert town.apply(volunteer, request).ok
    town.to_deadline(request)
    town.ok(town.minji, "select", request=request)
    cancelled = town.call(town.welfare_manager, "cancel", request=request)
    assert cancelled.ok, cancelled
    notices = [e for e in cancelled.events if e.name == "Cancelled"]
    assert [e.topics for e in notices] == [(town.minji,), (town.junho,)]
    assert town.query("request", request=request)["status"] == "cancelled"
    assert {town.query("application", request=request, volunteer=v)["status"]
            for v in (town.minji, town.junho)} == {"cancelled", "not_selected"}
    assert town.query("org_report", org="welfare")["cancelled"] == 1


def test_a_contested_rejection_decided_for_the_volunteer_mints(town: Town) -> None:
    request = town.post(slots=1)
    assert town.apply(town.minji, request, ask=700).ok
    town.to_deadline(request)
    town.ok(town.minji, "select", request=request)
    town.work(request, town.minji, town.welfare_manager, hours=2)
    town.ok(town.welfare_manager, "reject", request=request, volunteer=town.minji,
            reason="left_early")
    assert town.call(town.minji, "contest", request=request, reason="hours_done").ok
    assert town.query("activity", request=request, volunteer=town.minji)["status"] == "disputed"
    receipt = town.call(town.nowon_admin, "resolve", request=request, volunteer=town.minji,
                        in_favour=True, minutes=120)
    assert receipt.ok, receipt
    assert town.spendable("NW", town.minji) == 1_400
    activity = town.query("activity", request=request, volunteer=town.minji)
    assert (activity["status"], activity["rating"], activity["certificate"]) == ("verified", 0,
                                                                                   receipt.result)
    assert town.query("profile", volunteer=town.minji)["rating_centi"] is None


def test_a_contested_rejection_can_be_upheld(town: Town) -> None:
    request = town.post(slots=1)
    assert town.apply(town.minji, request).ok
    town.to_deadline(request)
    town.ok(town.minji, "select", request=request)
    town.box.advance(2 * 24 * HOUR_MS)  # never checked in
    town.ok(town.welfare_manager, "reject", request=request, volunteer=town.minji, reason="no_show")
    town.ok(town.minji, "contest", request=request, reason="was_present")
    assert town.ok(town.nowon_admin, "resolve", request=request, volunteer=town.minji,
                   in_favour=False) == 0
    assert town.query("activity", request=request, volunteer=town.minji)["status"] == "dismissed"
    assert town.spendable("NW", town.minji) == 0


def test_lists_page_by_key(town: Town) -> None:
    first, second, third = town.post(), town.post(), town.post()
    page = town.query("requests_in", district="nowon", limit=2)
    assert [r["id"] for r in page] == [first, second]
    assert [r["id"] for r in town.query("requests_in", district="nowon", after=second)] == [third]
    assert town.query("requests_in", district="gangseo") == []
    for volunteer in (town.minji, town.junho, town.seoyeon):
        assert town.apply(volunteer, first).ok
    page = town.query("applications_for", request=first, after=1, limit=1)
    assert [(a["seq"], a["volunteer"]) for a in page] == [(2, town.junho)]


def test_the_contract_account_only_passes_units_through(town: Town) -> None:
    town.earn(town.minji)
    assert town.ok(town.minji, "spend", district="nowon", merchant=town.cafe, amount=500) is None
    assert town.spendable("NW", CONTRACT) == 0


def test_work_past_the_cap_is_paid_up_to_the_cap_and_the_rest_recorded(town: Town) -> None:
    town.mint("NW", town.minji, NW_CAP - 1_000)  # room for 1,000 NW: 85 minutes at 700 an hour
    request = town.post(slots=1)
    assert town.apply(town.minji, request, ask=600).ok  # paid at her ask, not the offer of 700
    town.to_deadline(request)
    town.ok(town.minji, "select", request=request)
    town.work(request, town.minji, town.welfare_manager, hours=3)
    args = {"request": request, "volunteer": town.minji}

    # Asked before confirming: what 180 minutes would pay, and how much is over the cap.
    assert town.query("payout", **args) == {
        "request": request, "volunteer": town.minji, "most_minutes": 180, "minutes": 180,
        "rate_per_hour": 600, "credited_minutes": 100, "uncredited_minutes": 80,
        "credits": 1_000, "currency": "NW", "cap": NW_CAP, "room": 1_000}
    assert town.query("payout", **args, minutes=60)["uncredited_minutes"] == 0

    number = town.ok(town.welfare_manager, "confirm", **args, minutes=180, rating=5)
    assert town.spendable("NW", town.minji) == NW_CAP
    certificate = town.query("certificate", certificate=number)
    assert (certificate["minutes"], certificate["credits"], certificate["uncredited_minutes"]) == (
        180, 1_000, 80)
    activity = town.query("activity", **args)
    assert (activity["credits"], activity["uncredited_minutes"]) == (1_000, 80)
    assert town.query("profile", volunteer=town.minji)["minutes"] == 180  # all of it volunteered


def test_a_volunteer_at_the_cap_is_verified_without_pay(town: Town) -> None:
    town.mint("NW", town.minji, NW_CAP)
    number = town.earn(town.minji, hours=1)
    certificate = town.query("certificate", certificate=number)
    assert (certificate["credits"], certificate["uncredited_minutes"]) == (0, 60)
