"""Every refusal: its code, a message, and no change of state."""

from __future__ import annotations

from typing import Any

import pytest

from civicledger.core.block import Receipt
from civicledger.core.errors import ContractRejection
from tests.contracts.volunteering.town import CONTRACT, DAY_MS, HOUR_MS, NW_CAP, Town, make_town


@pytest.fixture
def town() -> Town:
    return make_town()


def refused(town: Town, code: str, signer: bytes, method: str, /, *,
            cosigners: tuple[bytes, ...] = (), contract: str = "volunteering", **args: Any) -> Receipt:
    """Call, and assert the call was refused with ``code`` and changed nothing."""
    before = dict(town.box.state.entries)
    receipt = town.box.call(signer, contract, method, cosigners=cosigners, **args)
    assert receipt.status == code, receipt
    assert receipt.message and not receipt.events
    assert town.box.state.entries == before
    return receipt


def selected(town: Town, volunteer: bytes | None = None, **overrides: Any) -> int:
    """A request with ``volunteer`` (minji) selected for its one slot."""
    volunteer = volunteer or town.minji
    request = town.post(slots=1, **overrides)
    assert town.apply(volunteer, request).ok
    town.to_deadline(request)
    town.ok(volunteer, "select", request=request)
    return request


# -- districts and organisations ----------------------------------------------------------


def test_register_district_refusals(town: Town) -> None:
    refused(town, "not_admin", town.minji, "register_district", district="nowon", currency="NW",
            max_hourly=700)
    refused(town, "district_exists", town.nowon_admin, "register_district", district="nowon",
            currency="NW", max_hourly=700)
    refused(town, "unknown_org", town.nowon_admin, "register_district", district="busan",
            currency="NW", max_hourly=700)
    refused(town, "unknown_currency", town.seoul_admin, "register_district", district="seoul",
            currency="ZZ", max_hourly=700)
    refused(town, "wrong_issuer", town.seoul_admin, "register_district", district="seoul",
            currency="NW", max_hourly=700)
    receipt = refused(town, "not_issuer", town.seoul_admin, "register_district", district="seoul",
                      currency="CIV", max_hourly=700)
    assert "grant 'issuer' in 'seoul'" in receipt.message
    refused(town, "invalid_argument", town.seoul_admin, "register_district", district="seoul",
            currency="CIV", max_hourly=0)


def test_register_org_refusals(town: Town) -> None:
    refused(town, "not_admin", town.gangseo_admin, "register_org", org="seoul", district="nowon")
    refused(town, "org_registered", town.nowon_admin, "register_org", org="welfare", district="nowon")
    refused(town, "unknown_org", town.nowon_admin, "register_org", org="nobody", district="nowon")
    refused(town, "unknown_org", town.minji, "register_org", org="seoul", district="busan")
    assert town.call(town.nowon_admin, "register_org", org="seoul", district="nowon").ok


# -- posting, applying, selecting ---------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"org": "seoul"}, "unknown_org"),
        ({"offer_per_hour": 701}, "over_district_rate"),
        ({"deadline_ms": 0}, "bad_window"),
        ({"end_ms": 0}, "bad_window"),
        ({"end_ms": "start + 13h"}, "bad_window"),
        ({"start_ms": "now + 200d"}, "bad_window"),
        ({"slots": 51}, "invalid_argument"),
        ({"skills": ["Driving"]}, "invalid_argument"),
        ({"place": "서울시 노원구 동일로 1414"}, "invalid_argument"),
    ],
)
def test_post_request_refusals(town: Town, overrides: dict[str, Any], code: str) -> None:
    now = town.box.time_ms + 1
    args = {"org": "welfare", "task": "청소 clean-up", "place": "nowon:sanggye",
            "start_ms": now + DAY_MS, "end_ms": now + DAY_MS + HOUR_MS, "slots": 1,
            "skills": [], "offer_per_hour": 700, "deadline_ms": now + HOUR_MS}
    if overrides.get("end_ms") == "start + 13h":
        overrides = {"end_ms": args["start_ms"] + 13 * HOUR_MS}
    if overrides.get("start_ms") == "now + 200d":
        overrides = {"start_ms": now + 200 * DAY_MS, "end_ms": now + 200 * DAY_MS + HOUR_MS}
    args.update(overrides)
    refused(town, code, town.welfare_manager, "post_request", **args)


def test_only_a_manager_of_the_organisation_posts(town: Town) -> None:
    now = town.box.time_ms + 1
    args = {"org": "welfare", "task": "t", "place": "nowon", "start_ms": now + DAY_MS,
            "end_ms": now + DAY_MS + HOUR_MS, "slots": 1, "skills": [], "offer_per_hour": 700,
            "deadline_ms": now + HOUR_MS}
    for signer in (town.minji, town.welfare_admin, town.school_manager):
        refused(town, "not_manager", signer, "post_request", **args)


def test_apply_refusals(town: Town) -> None:
    request = town.post()
    record = town.query("request", request=request)
    base = {"request": request, "ask_per_hour": 700, "skills": [],
            "available_from_ms": record["start_ms"], "available_until_ms": record["end_ms"]}
    refused(town, "unknown_request", town.minji, "apply", **{**base, "request": 99})
    refused(town, "ask_above_offer", town.minji, "apply", **{**base, "ask_per_hour": 701})
    refused(town, "not_available", town.minji, "apply",
            **{**base, "available_from_ms": record["end_ms"], "available_until_ms": record["end_ms"] + 1})
    assert town.call(town.minji, "apply", **base).ok
    refused(town, "already_applied", town.minji, "apply", **{**base, "ask_per_hour": 600})
    town.to_deadline(request)
    refused(town, "deadline_passed", town.junho, "apply", **base)
    town.ok(town.junho, "select", request=request)
    refused(town, "request_closed", town.junho, "apply", **base)


def test_applicants_are_bounded(town: Town) -> None:
    from civicledger.contracts.volunteering.records import MAX_APPLICANTS
    from tests.contracts.token.city import new_account

    request = town.post()
    for _ in range(MAX_APPLICANTS):
        assert town.apply(new_account(), request).ok
    refused(town, "too_many_applicants", town.minji, "apply", request=request, ask_per_hour=1,
            skills=[], available_from_ms=0, available_until_ms=2**53)
    town.to_deadline(request)
    receipt = town.call(town.minji, "select", request=request)
    assert receipt.ok and len(receipt.events) == MAX_APPLICANTS + 1


def test_select_close_and_cancel_refusals(town: Town) -> None:
    request = town.post()
    refused(town, "deadline_not_passed", town.minji, "select", request=request)
    refused(town, "not_manager", town.minji, "close_early", request=request)
    refused(town, "not_manager", town.school_manager, "cancel", request=request)
    refused(town, "unknown_request", town.minji, "select", request=7)
    assert town.apply(town.minji, request).ok
    town.to_deadline(request)
    town.ok(town.minji, "select", request=request)
    refused(town, "request_closed", town.minji, "select", request=request)
    refused(town, "request_closed", town.welfare_manager, "close_early", request=request)
    town.ok(town.welfare_manager, "cancel", request=request)
    refused(town, "request_closed", town.welfare_manager, "cancel", request=request)


def test_cancel_is_refused_once_work_started(town: Town) -> None:
    request = selected(town)
    town.to_start(request)
    assert town.call(town.minji, "check_in", cosigners=(town.welfare_manager,), request=request,
                     volunteer=town.minji, manager=town.welfare_manager).ok
    refused(town, "work_started", town.welfare_manager, "cancel", request=request)


# -- check-in, check-out -----------------------------------------------------------------


def test_check_in_refusals(town: Town) -> None:
    request = selected(town)
    args = {"request": request, "volunteer": town.minji, "manager": town.welfare_manager}
    pair = (town.welfare_manager,)
    refused(town, "too_early", town.minji, "check_in", cosigners=pair, **args)
    town.to_start(request)
    refused(town, "missing_signature", town.minji, "check_in", **args)
    refused(town, "missing_signature", town.welfare_manager, "check_in", **args)
    refused(town, "not_manager", town.minji, "check_in", cosigners=(town.junho,),
            **{**args, "manager": town.junho})
    refused(town, "not_assigned", town.junho, "check_in", cosigners=pair,
            **{**args, "volunteer": town.junho})
    assert town.call(town.minji, "check_in", cosigners=pair, **args).ok
    refused(town, "not_assigned", town.minji, "check_in", cosigners=pair, **args)


def test_check_in_after_the_window_is_refused(town: Town) -> None:
    request = selected(town)
    town.to_start(request)
    town.box.advance(3 * HOUR_MS)
    refused(town, "window_over", town.minji, "check_in", cosigners=(town.welfare_manager,),
            request=request, volunteer=town.minji, manager=town.welfare_manager)


def test_check_out_without_check_in_is_refused(town: Town) -> None:
    request = selected(town)
    town.to_start(request)
    args = {"request": request, "volunteer": town.minji, "manager": town.welfare_manager}
    refused(town, "not_checked_in", town.welfare_manager, "check_out", cosigners=(town.minji,),
            **args)
    assert town.call(town.minji, "check_in", cosigners=(town.welfare_manager,), **args).ok
    refused(town, "missing_signature", town.welfare_manager, "check_out", **args)


def test_a_manager_cannot_verify_their_own_work(town: Town) -> None:
    request = selected(town, town.welfare_manager)
    town.to_start(request)
    args = {"request": request, "volunteer": town.welfare_manager, "manager": town.welfare_manager}
    refused(town, "self_verification", town.welfare_manager, "check_in", **args)
    assert town.box.call(town.welfare_admin, "governance", "grant_role", org="welfare",
                         account=town.minji, role="manager").ok
    assert town.call(town.welfare_manager, "check_in", cosigners=(town.minji,),
                     **{**args, "manager": town.minji}).ok
    town.box.advance(HOUR_MS)
    assert town.call(town.welfare_manager, "check_out", cosigners=(town.minji,),
                     **{**args, "manager": town.minji}).ok
    refused(town, "self_verification", town.welfare_manager, "confirm", request=request,
            volunteer=town.welfare_manager, minutes=60, rating=5)
    assert town.call(town.minji, "confirm", request=request, volunteer=town.welfare_manager,
                     minutes=60, rating=5).ok


# -- confirming, rejecting, disputes ---------------------------------------------------


def test_minting_needs_a_manager_and_a_check_out(town: Town) -> None:
    request = selected(town)
    args = {"request": request, "volunteer": town.minji, "minutes": 60, "rating": 5}
    refused(town, "not_checked_out", town.welfare_manager, "confirm", **args)
    town.work(request, town.minji, town.welfare_manager, hours=2)
    # The volunteer, another organisation's manager, or the organisation's admin cannot confirm.
    for signer in (town.minji, town.school_manager, town.welfare_admin, town.nowon_admin):
        refused(town, "not_manager", signer, "confirm", **args)
    refused(town, "not_manager", town.minji, "confirm", cosigners=(town.welfare_manager,), **args)
    refused(town, "too_many_minutes", town.welfare_manager, "confirm", **{**args, "minutes": 121})
    refused(town, "invalid_argument", town.welfare_manager, "confirm", **{**args, "rating": 6})
    refused(town, "invalid_argument", town.welfare_manager, "confirm", **{**args, "tags": ["lazy"]})
    assert town.call(town.welfare_manager, "confirm", **args).ok
    refused(town, "not_checked_out", town.welfare_manager, "confirm", **args)


def test_payout_refusals(town: Town) -> None:
    request = selected(town)
    args = {"request": request, "volunteer": town.minji}
    before = dict(town.box.state.entries)
    with pytest.raises(ContractRejection) as caught:
        town.query("payout", **args)
    assert caught.value.code == "not_checked_out"
    town.work(request, town.minji, town.welfare_manager, hours=2)
    with pytest.raises(ContractRejection) as caught:
        town.query("payout", **args, minutes=121)
    assert caught.value.code == "too_many_minutes"
    with pytest.raises(ContractRejection) as caught:
        town.query("payout", request=request, volunteer=town.junho)
    assert caught.value.code == "not_assigned"
    assert before != town.box.state.entries  # the work itself was recorded


def test_reject_contest_resolve_refusals(town: Town) -> None:
    request = selected(town)
    args = {"request": request, "volunteer": town.minji}
    refused(town, "window_not_over", town.welfare_manager, "reject", reason="no_show", **args)
    refused(town, "not_manager", town.minji, "reject", reason="no_show", **args)
    refused(town, "invalid_argument", town.welfare_manager, "reject", reason="lazy", **args)
    refused(town, "not_rejected", town.minji, "contest", request=request, reason="unfair")
    refused(town, "not_assigned", town.junho, "contest", request=request, reason="unfair")
    town.box.advance(2 * DAY_MS)
    town.ok(town.welfare_manager, "reject", reason="no_show", **args)
    refused(town, "cannot_reject", town.welfare_manager, "reject", reason="no_show", **args)
    refused(town, "not_disputed", town.nowon_admin, "resolve", in_favour=True, minutes=60, **args)
    town.ok(town.minji, "contest", request=request, reason="was_present")
    refused(town, "not_admin", town.gangseo_admin, "resolve", in_favour=True, minutes=60, **args)
    refused(town, "not_admin", town.welfare_manager, "resolve", in_favour=True, minutes=60, **args)
    refused(town, "too_many_minutes", town.nowon_admin, "resolve", in_favour=True, minutes=0, **args)
    refused(town, "too_many_minutes", town.nowon_admin, "resolve", in_favour=True, minutes=181,
            **args)


# -- using credits -------------------------------------------------------------------------


def test_spend_refusals(town: Town) -> None:
    town.earn(town.minji, hours=3)
    args = {"merchant": town.cafe, "amount": 100}
    refused(town, "not_merchant", town.minji, "spend", district="gangseo", **args)
    refused(town, "not_merchant", town.minji, "spend", district="nowon",
            **{**args, "merchant": town.bakery})
    refused(town, "unknown_district", town.minji, "spend", district="busan", **args)
    refused(town, "insufficient_funds", town.minji, "spend", district="nowon",
            **{**args, "amount": 2_101})
    refused(town, "insufficient_funds", town.junho, "spend", district="nowon", **args)
    town.mint("NW", town.cafe, 10)
    refused(town, "self_payment", town.cafe, "spend", district="nowon", **args)


def test_spending_expired_credits_is_refused(town: Town) -> None:
    town.earn(town.minji, hours=1)
    town.box.advance(3 * 365 * DAY_MS)
    refused(town, "insufficient_funds", town.minji, "spend", district="nowon", merchant=town.cafe,
            amount=1)
    refused(town, "insufficient_funds", town.minji, "donate", currency="NW", to=town.junho, amount=1)
    refused(town, "insufficient_funds", town.minji, "exchange", from_currency="NW",
            to_currency="GS", amount=1)


def test_donate_refusals(town: Town) -> None:
    town.earn(town.minji, hours=1)
    refused(town, "self_donation", town.minji, "donate", currency="NW", to=town.minji, amount=1)
    refused(town, "not_district_coin", town.minji, "donate", currency="CIV", to=town.junho, amount=1)
    town.mint("NW", town.junho, NW_CAP)
    refused(town, "over_cap", town.minji, "donate", currency="NW", to=town.junho, amount=1)


def test_exchange_refusals(town: Town) -> None:
    town.earn(town.minji, hours=1)
    town.mint("GS", town.minji, 100)
    refused(town, "no_rate", town.minji, "exchange", from_currency="GS", to_currency="NW", amount=50)
    refused(town, "no_rate", town.minji, "exchange", from_currency="GS", to_currency="CIV", amount=50)
    refused(town, "not_district_coin", town.minji, "exchange", from_currency="CIV",
            to_currency="NW", amount=1)
    refused(town, "exchange_too_small", town.minji, "exchange", from_currency="NW",
            to_currency="CIV", amount=1)
    town.mint("GS", town.junho, NW_CAP)
    town.mint("NW", town.junho, 10)
    refused(town, "over_cap", town.junho, "exchange", from_currency="NW", to_currency="GS", amount=10)
    assert town.spendable("NW", CONTRACT) == 0


def test_set_preferences_refusals(town: Town) -> None:
    refused(town, "unknown_district", town.minji, "set_preferences", districts=["busan"], skills=[])
    refused(town, "invalid_argument", town.minji, "set_preferences", districts=[],
            skills=["a"] * 9)


def test_queries_refuse_unknown_things(town: Town) -> None:
    from civicledger.core.errors import NotFound

    for name, args, code in [
        ("district", {"district": "busan"}, "unknown_district"),
        ("organisation", {"org": "cafe"}, "unknown_org"),
        ("request", {"request": 1}, "unknown_request"),
        ("application", {"request": 1, "volunteer": town.minji}, "unknown_application"),
        ("activity", {"request": 1, "volunteer": town.minji}, "unknown_request"),
        ("certificate", {"certificate": 1}, "unknown_certificate"),
        ("district_report", {"district": "busan"}, "unknown_district"),
        ("org_report", {"org": "cafe"}, "unknown_org"),
    ]:
        with pytest.raises(NotFound) as caught:
            town.query(name, **args)
        assert caught.value.code == code
