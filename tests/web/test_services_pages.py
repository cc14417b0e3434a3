"""The service pages and consoles, in-process, on the demo city's chain (its week seeded as by
``civic up --demo``): both languages, 404 pages for what does not exist, and what each page shows
after real transactions — statements, reports with photos, queues, readings, bookings."""

from __future__ import annotations

import base64
import html
import os
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from civicledger.cli import demo
from civicledger.contracts.airquality.records import POLLUTANTS, ReadingStatus
from civicledger.contracts.catalog import registry as default_registry
from civicledger.contracts.hazards.records import Category, HazardStatus
from civicledger.contracts.parking.records import BookingStatus, DisputeReason
from civicledger.core.address import address_of, to_text
from civicledger.core.crypto import KeyPair
from civicledger.core.tx import Transaction
from civicledger.gateway import GatewayConfig, create_app
from civicledger.node.blobs import BlobStore
from civicledger.node.node import Node, initialise
from civicledger.node.ordering import SoloOrderer, wall_clock_ms
from civicledger.node.sqlite_store import SqliteStore
from civicledger.web.i18n import catalogue
from civicledger.web.service_console import FLOW_BARS, REFUND_PRESETS
from civicledger.web.services import PAGE, PAGES, bookings_on_spots_of, bps_percent, with_actions

HOUR = 3_600_000
CHAIN = "civic-demo"


@dataclass
class City:
    api: TestClient
    keys: dict[str, KeyPair]

    def address(self, name: str) -> str:
        return to_text(address_of(self.keys[name].public_key))

    def call(self, signer: str, contract: str, method: str, /, **args: Any) -> dict[str, Any]:
        """Sign and commit a call as a demo key; the committed view."""
        key = self.keys[signer]
        stx = Transaction(CHAIN, contract, method, args, key.public_key, os.urandom(16),
                          wall_clock_ms() + 600_000).sign(key)
        response = self.api.post("/v1/transactions?wait=true",
                                 json={"envelope": base64.b64encode(stx.envelope()).decode()})
        assert response.status_code == 200, response.text
        return response.json()

    def ok(self, signer: str, contract: str, method: str, /, **args: Any) -> Any:
        body = self.call(signer, contract, method, **args)
        assert body["receipt"]["status"] == "ok", body["receipt"]
        return body["receipt"]["result"]

    def page(self, path: str, account: str | None = None, lang: str = "en", **params: str) -> Any:
        query = {"lang": lang, **params}
        if account is not None:
            query["account"] = self.address(account)
        return self.api.get(path, params=query)


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Iterator[City]:
    root: Path = tmp_path_factory.mktemp("city")
    keys = {name: KeyPair.generate() for name in demo.key_names()}
    texts = {name: to_text(address_of(k.public_key)) for name, k in keys.items()}
    genesis = demo.genesis_document(texts, CHAIN, wall_clock_ms() - demo.DEMO_WEEK_MS)
    registry = default_registry()
    store = SqliteStore(root / "ledger.db")
    initialise(store, registry, genesis)
    week = demo.week
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "week", lambda k, start: [*week(k, start), *checked_in_hours_ago(start)])
        demo.seed_week(store, keys, genesis)
    node = Node(store, registry, SoloOrderer(max_wait_ms=2)).start()
    try:
        with TestClient(create_app(node, GatewayConfig(), blobs=BlobStore(root / "blobs"))) as api:
            yield City(api, keys)
    finally:
        node.stop()
        store.close()


CHECKED_IN_START = wall_clock_ms() // HOUR * HOUR - 3 * HOUR
"""A booking of the page tests' city that seoyeon checked in to, hours ago, and never left."""


def checked_in_hours_ago(start_ms: int) -> list[demo.DemoStep]:
    """After the demo week: seoyeon books minji's spot 1 for one hour three hours ago and checks
    in (blocks stamped in the past, as the week's are), so a booking may be disputed whatever
    the time of day the tests run (a booked one only while its check-in is open)."""
    return [
        demo.DemoStep(CHECKED_IN_START - 2 * HOUR - start_ms, "seoyeon", "parking", "book",
                      {"service": "parking", "spot": 1, "start_ms": CHECKED_IN_START, "hours": 1}),
        demo.DemoStep(CHECKED_IN_START - 5 * 60_000 - start_ms, "seoyeon", "parking", "check_in",
                      {"service": "parking", "booking": 7}),  # the week's bookings are 3–6
    ]


def png(rgb: tuple[int, int, int] = (200, 40, 40), size: int = 8) -> bytes:
    """A real, tiny PNG image."""
    rows = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def upload(city: City, image: bytes) -> str:
    response = city.api.post("/v1/blobs", content=image, headers={"content-type": "image/png"})
    assert response.status_code == 201, response.text
    return response.json()["sha256"]


def card(html: str, marker: str) -> str:
    """The part of a page from ``marker`` (an attribute of one card or row) to the next card,
    row or section: what the page shows about that one thing ("" if it is not there)."""
    start = html.find(marker)
    if start < 0:
        return ""
    ends = [html.find(stop, start + len(marker)) for stop in ('<li class="card"', "<tr ", "</section>")]
    return html[start:min([e for e in ends if e >= 0], default=len(html))]


def form(html: str, contract: str, method: str) -> list[str]:
    """The action forms of a page calling ``contract.method`` (their opening tags and content)."""
    return re.findall(rf'<form[^>]*data-contract="{contract}" data-method="{method}".*?</form>', html, re.S)


PAGES_OF_THE_DEMO = [
    ("/services", None, "City services", "시민 서비스"),
    ("/services", "minji", "My statement", "나의 서비스 내역"),
    ("/services/hazards/roads", "minji", "Report a hazard", "위험 신고하기"),
    ("/services/air/air", "minji", "Send a reading", "측정값 보내기"),
    ("/services/parking/parking", "junho", "Parking spots in zone 041-108", "041-108 구역의 주차 공간"),
    ("/console/services/roads", "nowon-admin", "Awaiting verification · 노원구청",
     "확인 대기 신고 · 노원구청"),
    ("/console/services/air", "seoul-admin", "Readings awaiting review", "검토 대기 측정값"),
    ("/console/services/parking", "seoul-admin", "Spots shared in zone 041-108", "041-108 구역에 공유된"),
]


@pytest.mark.parametrize(("path", "account", "english", "korean"), PAGES_OF_THE_DEMO)
def test_every_page_renders_in_both_languages(city: City, path, account, english, korean) -> None:
    for lang, text, other in (("en", english, korean), ("ko", korean, english)):
        response = city.page(path, account, lang=lang)
        assert response.status_code == 200, response.text
        assert f'<html lang="{lang}">' in response.text and text in response.text, (path, lang)
        assert other not in response.text, (path, lang)
        assert "data-account-page" in response.text, "the script adds the wallet's address"


def test_pages_without_an_account_still_render_and_ask_for_a_wallet(city: City) -> None:
    for path in ("/services", "/services/hazards/roads", "/services/air/air",
                 "/services/parking/parking", "/console/services/roads"):
        response = city.page(path)
        assert response.status_code == 200 and 'id="no-wallet"' in response.text, path
    assert 'data-method="report"' in city.page("/services/hazards/roads").text


@pytest.mark.parametrize("path", [
    "/services/hazards/nope", "/services/hazards/air", "/services/air/roads", "/services/parking/air",
    "/services/hazards/Not%20A%20Name", "/services/parking/parking?zone=12-34",
    "/services/parking/parking?zone=0412-1087", "/console/services/nope",
    "/console/services/BAD!", "/console/services/roads?department=atlantis",
    "/console/services/roads?department=Not%20an%20org", "/console/services/parking?zone=x",
])
def test_what_does_not_exist_gets_a_404_page(city: City, path: str) -> None:
    for lang, words in (("en", "Not found"), ("ko", "찾을 수 없습니다")):
        response = city.api.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        assert response.status_code == 404 and words in response.text, (path, lang)


def test_the_list_shows_each_service_its_terms_and_the_citizens_statement(city: City) -> None:
    html = city.page("/services", "minji").text
    for service, kind in (("air", "airquality"), ("roads", "hazards"), ("parking", "parking")):
        assert f'href="/services/{PAGES[kind]}/{service}"' in html
    assert "A verified report earns 300 CIV" in html
    assert "An accepted reading earns 20 CIV" in html and "at most 200 CIV a day" in html
    assert "5% of what drivers pay" in html
    rows = dict(re.findall(r'<tr data-service="(\w+)">.*?data-earned>([\d,]+) CIV', html, re.S))
    assert rows["roads"] == "225", "minji's share of the verified pothole: 300 × 3/4"
    assert rows["parking"] == "475", "two bookings of her spot, 300 and 200, less the city's 5 %"
    assert int(rows["air"]) > 0


def test_a_citizen_sees_her_reports_with_photo_status_and_reward(city: City) -> None:
    html = city.page("/services/hazards/roads", "minji").text
    assert f'/v1/blobs/{"11" * 32}' in html, "the photo of minji's own report"
    mine = card(html, 'data-hazard="1" data-status="resolved"')
    assert 'data-reward="225"' in mine and "Repaired" in mine
    assert 'accept="image/jpeg,image/png,image/webp" data-kind="blob"' in html
    assert all(f'value="{c.value}"' in html for c in Category)
    outsider = city.page("/services/hazards/roads", "airlab-admin").text
    assert 'id="needs-citizen"' in outsider and not form(outsider, "hazards", "report")


def test_a_report_waits_in_its_departments_queue_until_verified(city: City) -> None:
    photo = upload(city, png((10, 120, 200)))
    result = city.ok("junho", "hazards", "report", service="roads", category="guardrail",
                     cell="0415-1083", photo=bytes.fromhex(photo))
    hazard = result["hazard"]

    nowon = city.page("/console/services/roads", "nowon-admin").text
    queued = card(nowon, f'data-hazard="{hazard}"')
    assert queued, "the report is in Nowon's queue"
    assert f"/v1/blobs/{photo}" in queued and "0415-1083" in queued
    assert f'href="/address/{city.address("junho")}"' in queued
    assert form(queued, "hazards", "verify") and form(queued, "hazards", "reject")

    gangseo_default = city.page("/console/services/roads", "gangseo-admin").text
    assert f'data-hazard="{hazard}"' not in gangseo_default, "Gangseo sees its own queue first"
    gangseo_on_nowon = city.page("/console/services/roads", "gangseo-admin", department="nowon").text
    assert f'data-hazard="{hazard}"' in gangseo_on_nowon
    assert not form(gangseo_on_nowon, "hazards", "verify")
    assert 'data-needs-role="verifier"' in gangseo_on_nowon and "verifier role of nowon" in gangseo_on_nowon

    city.ok("nowon-admin", "hazards", "verify", service="roads", hazard=hazard)
    after = city.page("/console/services/roads", "nowon-admin").text
    assert f'data-hazard="{hazard}"' not in after
    assert form(card(after, f'<tr data-work="{hazard}" data-status="verified"'), "hazards", "start_repair")
    junho = city.page("/services/hazards/roads", "junho").text
    mine = card(junho, f'data-hazard="{hazard}" data-status="verified"')
    assert 'data-reward="300"' in mine, "the only reporter gets the whole reward"


def test_the_console_offers_money_actions_only_to_the_operator(city: City) -> None:
    operator = city.page("/console/services/roads", "seoul-admin").text
    for method in ("fund", "withdraw", "set_active"):
        assert form(operator, "incentives", method), method
    assert "<svg" in operator and "Budget left" in operator and "Top providers" in operator
    citizen = city.page("/console/services/roads", "minji").text
    assert not form(citizen, "incentives", "fund")
    assert 'data-needs-role="operator"' in citizen and "operator role of seoul" in citizen


def test_air_readings_far_from_their_neighbours_wait_for_review(city: City) -> None:
    minji = city.page("/services/air/air", "minji").text
    assert 'id="is-provider"' in minji and form(minji, "airquality", "submit")
    assert 'name="values.pm10" type="number" min="0" max="2000"' in minji and 'data-kind="time"' in minji
    assert re.search(r'data-claimable="\d+"', minji), "her contributions per zone and day"
    dohyun = city.page("/services/air/air", "dohyun").text
    assert 'id="not-provider"' in dohyun and not form(dohyun, "airquality", "submit")

    city.ok("seoul-admin", "airquality", "register_provider", service="air",
            provider=bytes(address_of(city.keys["dohyun"].public_key)))
    hour = wall_clock_ms() // HOUR * HOUR - HOUR + 60_000  # the last full hour: all in one hour
    for name, cell in (("minji", "0519-0589"), ("junho", "0519-0590"), ("seoyeon", "0519-0591")):
        city.ok(name, "airquality", "submit", service="air", cell=cell, measured_ms=hour,
                values={"pm10": 30})
    flagged = city.ok("dohyun", "airquality", "submit", service="air", cell="0520-0590",
                      measured_ms=hour, values={"pm10": 900})
    assert flagged["status"] == ReadingStatus.FLAGGED
    console = city.page("/console/services/air", "seoul-admin").text
    queued = card(console, f'data-reading="{flagged["reading"]}"')
    assert "0520-0590" in queued and "PM10" in queued and "900" in queued
    assert not form(queued, "airquality", "review"), "Seoul holds no verifier role"
    assert "verifier role of seoul" in console
    assert form(console, "airquality", "register_provider") and form(console, "airquality", "remove_provider")
    mine = city.page("/services/air/air", "dohyun")
    assert 'id="is-provider"' in mine.text
    row = seen(mine.text, f'data-reading="{flagged["reading"]}"')
    assert 'data-status="flagged"' in row and "0520-0590" in row and "900" in row
    assert "Far from its neighbours: awaiting review" in row, "the provider sees the review wait"
    korean = city.page("/services/air/air", "dohyun", lang="ko").text
    assert "내가 보낸 최근 측정값" in korean


def test_parking_shows_spots_bookings_and_the_steps_each_side_may_take(city: City) -> None:
    start = wall_clock_ms() // HOUR * HOUR + 5 * HOUR
    spot = city.ok("seoyeon", "parking", "list_spot", service="parking", cell="0413-1089",
                   price_per_hour=70, windows=[[start, start + 6 * HOUR]])
    junho = city.page("/services/parking/parking", "junho").text
    listed = card(junho, f'data-spot="{spot}"')
    assert "70 CIV an hour" in listed
    book = form(listed, "parking", "book")
    assert book and 'data-price-per-hour="70"' in book[0] and 'name="hours"' in book[0]

    booked = city.ok("junho", "parking", "book", service="parking", spot=spot, start_ms=start, hours=2)
    assert booked["amount"] == 140
    mine = city.page("/services/parking/parking", "junho").text
    row = card(mine, f'data-booking="{booked["booking"]}" data-status="booked"')
    assert 'data-amount="140"' in row
    assert form(row, "parking", "cancel") and "get everything back" in row
    [cancel] = form(row, "parking", "cancel")
    assert f'name="booking" value="{booked["booking"]}"' in cancel
    assert 'name="service" value="parking"' in cancel
    assert not form(row, "parking", "check_in") and "Check-in opens at" in row

    owner = city.page("/services/parking/parking", "seoyeon").text
    assert f'data-own-spot="{spot}" data-active="true"' in owner
    assert form(owner, "parking", "withdraw_spot") and form(owner, "parking", "list_spot")
    theirs = card(owner, f'data-booking="{booked["booking"]}" data-status="booked"')
    assert form(theirs, "parking", "cancel") and "full refund" in theirs
    assert not form(theirs, "parking", "no_show"), "the driver may still come"

    city.ok("junho", "parking", "cancel", service="parking", booking=booked["booking"])
    after = city.page("/services/parking/parking", "junho").text
    assert f'data-booking="{booked["booking"]}" data-status="cancelled"' in after
    outsider = city.page("/services/parking/parking", "airlab-admin").text
    assert 'id="needs-resident"' in outsider and not form(outsider, "parking", "list_spot")
    console = city.page("/console/services/parking", "seoul-admin").text
    assert f'<tr data-spot="{spot}">' in console and "Parking disputes awaiting a decision" in console


def test_a_paused_service_says_so_and_the_console_offers_to_resume_it(city: City) -> None:
    city.ok("seoul-admin", "incentives", "set_active", service="parking", active=False)
    try:
        assert "The operator has paused this service" in city.page("/services/parking/parking", "junho").text
        assert "The operator has paused this service" in city.page("/services").text
        console = city.page("/console/services/parking", "seoul-admin").text
        resume = form(console, "incentives", "set_active")
        assert resume and 'name="active" value="true"' in resume[0] and "Resume the service" in resume[0]
        refused = city.call("junho", "parking", "list_spot", service="parking", cell="0412-1090",
                            price_per_hour=10, windows=[[wall_clock_ms() // HOUR * HOUR + 2 * HOUR,
                                                         wall_clock_ms() // HOUR * HOUR + 3 * HOUR]])
        assert refused["receipt"]["status"] == "service_paused"
    finally:
        city.ok("seoul-admin", "incentives", "set_active", service="parking", active=True)
    console = city.page("/console/services/parking", "seoul-admin").text
    assert 'name="active" value="false"' in form(console, "incentives", "set_active")[0]


def test_keys_built_at_run_time_exist() -> None:
    built = [f"services.open.{kind}" for kind in PAGES]
    built += [f"hazards.category.{c.value}" for c in Category]
    built += [f"hazards.status.{s.value}" for s in HazardStatus]
    built += [f"air.pollutant.{name}" for name, _, _ in POLLUTANTS]
    built += [f"air.status.{s.value}" for s in ReadingStatus]
    built += [f"air.result.{s}" for s in ("accepted", "flagged", "pending", "claimed")]
    built += [f"parking.status.{s.value}" for s in BookingStatus]
    built += [f"parking.result.{s}" for s in ("booked", "refunded", "listed")]
    built += [f"parking.reason.{r.value}" for r in DisputeReason]
    built += [f"parking.dispute.reported_by_{who}" for who in ("you", "driver", "owner")]
    built += [f"svc_console.parking.raised_by_{who}" for who in ("driver", "owner")]
    built += [f"svc_console.parking.preset.{name}" for name, _ in REFUND_PRESETS]
    built += ["hazards.result.new", "hazards.result.merged", "parking.cancel_late",
              "parking.cancel_confirm_late", "parking.withdrawn", "svc_console.resume",
              "svc_console.resume_confirm", "svc_console.air.reject", "svc_console.hazards.resolve"]
    built += [f"svc_console.flow.{k}" for k in FLOW_BARS]
    built += [f"svc_console.status.{s}" for s in ("active", "paused")]
    built += [f"svc_console.air.{m}{suffix}" for m in ("register_provider", "remove_provider")
              for suffix in ("", "_button")]
    built += [f"error.{code}" for code in REFUSALS]
    for language in ("ko", "en"):
        assert [k for k in built if k not in catalogue(language)] == [], language


REFUSALS = (
    "not_citizen", "not_verifier", "not_operator", "duplicate_report", "enough_reports",
    "service_paused", "wrong_status", "budget_exhausted", "unregistered_provider", "future_reading",
    "stale_reading", "empty_reading", "out_of_range", "duplicate_reading", "no_contribution",
    "nothing_to_claim", "not_under_review", "review_closed", "provider_exists", "no_change",
    "not_owner", "not_your_booking", "spot_withdrawn", "own_spot", "not_whole_hours", "in_the_past",
    "outside_window", "double_booking", "too_early", "too_late", "not_checked_in", "bad_window",
    "missing_window", "unknown_spot", "unknown_booking", "unknown_hazard", "unknown_reading",
    "empty_blob", "blob_too_large", "unsupported_media", "disputed", "already_disputed",
    "no_open_dispute", "invalid_percent",
)
"""Refusal codes the service pages can meet (contracts, blob store and services.js)."""


def test_transparency_shows_each_services_last_days(city: City) -> None:
    """The demo week happened over the last eight days: its rewards show day by day."""
    page = city.page("/transparency")
    assert page.status_code == 200
    charts = re.findall(r'<svg class="chart timeline".*?</svg>', page.text, re.S)
    assert len(charts) == 2 * 3, "per-day flows and budget for air, parking and roads"
    roads = next(c for c in charts if "Road hazard reports: rewards and fees per day" in c)
    rewards = re.search(r"<desc>Rewards paid: ([^;]*);", roads).group(1)
    daily = [int(item.rsplit(" ", 1)[1].replace(",", "")) for item in rewards.split(", ")]
    flows = city.api.post("/v1/contracts/incentives/queries/service_flows",
                          json={"args": {"service": "roads"}}).json()
    assert len(daily) == 14 and sum(daily) == flows["result"]["rewards_paid"] > 0


# -- parking disputes -----------------------------------------------------------------------------


def seen(page: str, marker: str) -> str:
    """A card as its reader sees the text (entities decoded: "owner's", not "owner&#39;s")."""
    return html.unescape(card(page, marker))


def test_the_demos_open_dispute_waits_in_the_operators_console(city: City) -> None:
    """On first start Seoul's parking console holds one dispute: junho reported dohyun's overstay."""
    for lang, words in (("en", ("Parking disputes awaiting a decision", "The driver stayed past the booking",
                                "reported by the spot's owner", "Full refund (100%)", "Sign and decide")),
                        ("ko", ("결정을 기다리는 주차 문제 신고", "예약 시간이 지나도 차를 빼지 않음",
                                "공간 주인이 신고", "전액 환불 (100%)", "서명하고 결정"))):
        console = city.page("/console/services/parking", "seoul-admin", lang=lang).text
        row = seen(console, 'data-dispute="6"')
        assert "0412-1088" in row and 'data-amount="160"' in row, "spot 2's cell, two hours at 80"
        assert f'href="/address/{city.address("dohyun")}"' in row
        assert f'href="/address/{city.address("junho")}"' in row
        shown = html.unescape(console[console.find('id="disputes-title"'):console.find('id="parking-title"')])
        assert all(w in shown for w in words), (lang, [w for w in words if w not in shown])
        [resolve] = form(row, "parking", "resolve_dispute")
        assert 'name="booking" value="6"' in resolve and 'name="note" required maxlength="120"' in resolve
        assert 'name="driver_refund_bps" data-kind="percent"' in resolve
        assert all(f'data-refund-preset="{p}"' in resolve for p in (100, 50, 0))
        assert "/static/services.js" in console, "the percent field and the presets need it"
    for outsider in ("minji", None):
        console = city.page("/console/services/parking", outsider).text
        row = seen(console, 'data-dispute="6"')
        assert row and not form(row, "parking", "resolve_dispute"), "the facts are public"
        assert 'data-needs-role="operator"' in console
    assert "no dispute procedure" not in console


def test_both_sides_see_the_disputed_booking_and_neither_may_act_on_it(city: City) -> None:
    for lang, reported, reason in (
        ("en", "The spot's owner reported a problem", "The driver stayed past the booking"),
        ("ko", "공간 주인이 문제를 신고함", "예약 시간이 지나도 차를 빼지 않음"),
    ):
        driver = seen(city.page("/services/parking/parking", "dohyun", lang=lang).text,
                      'data-booking="6" data-status="disputed"')
        assert reported in driver and reason in driver, lang
        assert 'data-dispute="disputed"' in driver and "seoul" in driver, "who decides"
        assert "<form" not in driver, "no check-out, no second report"
    for lang, words in (("en", "You reported a problem"), ("ko", "내가 문제를 신고함")):
        owner = seen(city.page("/services/parking/parking", "junho", lang=lang).text,
                     'data-booking="6" data-status="disputed"')
        assert words in owner and "<form" not in owner, lang


def test_a_checked_in_driver_reports_a_problem_and_the_operator_decides(city: City) -> None:
    driver = seen(city.page("/services/parking/parking", "seoyeon").text,
                  'data-booking="7" data-status="checked_in"')
    [report] = form(driver, "parking", "dispute")
    assert re.findall(r'<option value="(\w+)"', report) == ["spot_occupied", "blocked", "other"]
    assert "no names, phone numbers or car plates" in report and 'for="reason-d-7"' in report
    owner = seen(city.page("/services/parking/parking", "minji").text,
                 'data-booking="7" data-status="checked_in"')
    [theirs] = form(owner, "parking", "dispute")
    assert re.findall(r'<option value="(\w+)"', theirs) == ["overstay", "blocked", "other"]
    korean = seen(city.page("/services/parking/parking", "seoyeon", lang="ko").text, 'data-booking="7"')
    for words in ("문제 신고하기", "다른 차가 자리에 있음", "개인 정보는 남지 않습니다"):
        assert words in korean, words

    city.ok("seoyeon", "parking", "dispute", service="parking", booking=7, reason="spot_occupied")
    driver = seen(city.page("/services/parking/parking", "seoyeon").text,
                  'data-booking="7" data-status="disputed"')
    assert "You reported a problem" in driver and "Someone else was in the spot" in driver
    assert "<form" not in driver
    console = seen(city.page("/console/services/parking", "seoul-admin").text, 'data-dispute="7"')
    assert "reported by the driver" in console and "Checked in" in console and 'data-amount="100"' in console

    refused = city.call("minji", "parking", "resolve_dispute", service="parking", booking=7,
                        driver_refund_bps=0, note="mine")
    assert refused["receipt"]["status"] == "not_operator"
    assert 'data-booking="7" data-status="disputed"' in city.page("/services/parking/parking", "seoyeon").text
    city.ok("seoul-admin", "parking", "resolve_dispute", service="parking", booking=7,
            driver_refund_bps=5_000, note="both partly right")
    console = city.page("/console/services/parking", "seoul-admin").text
    assert 'data-dispute="7"' not in console, "decided: it leaves the open list..."
    decided = seen(console, 'data-decided="7"')  # ...for the decided ones, with its record
    assert "both partly right" in decided and 'data-outcome="5000"' in decided
    assert "reported by the driver" in decided and "Decided: 50% refunded to the driver" in decided
    assert "결정된 분쟁" in city.page("/console/services/parking", "seoul-admin", lang="ko").text
    paid = 50 - 50 * 500 // 10_000  # the owner's half less the city's 5 %
    for lang, words in (("en", f"Decided: 50% refunded to the driver — the driver got 50 CIV back, the owner "
                               f"received {paid} CIV"),
                        ("ko", f"결정: 운전자에게 50% 환불 — 운전자 50 CIV 환불, 공간 주인 {paid} CIV 받음")):
        for who in ("seoyeon", "minji"):
            shown = seen(city.page("/services/parking/parking", who, lang=lang).text,
                         'data-booking="7" data-status="resolved"')
            assert words in shown and "both partly right" in shown and "<form" not in shown, (who, lang)


def test_a_booking_may_be_disputed_while_its_check_in_is_open_or_once_checked_in() -> None:
    start, minute = 10 * HOUR, 60_000
    booked = {"start_ms": start, "end_ms": start + HOUR, "status": "booked", "dispute": None}
    for now, allowed in ((start - 15 * minute - 1, False), (start - 15 * minute, True),
                         (start + 30 * minute, True), (start + 30 * minute + 1, False)):
        assert with_actions(dict(booked), now)["can_dispute"] is allowed, now
    checked_in = {**booked, "status": "checked_in"}
    assert with_actions(dict(checked_in), start + 5 * HOUR)["can_dispute"], "an overstay, long after"
    for status in ("disputed", "resolved", "completed", "cancelled", "no_show"):
        assert not with_actions({**booked, "status": status}, start)["can_dispute"], status


def test_a_future_booking_says_when_a_problem_may_be_reported(city: City) -> None:
    start = wall_clock_ms() // HOUR * HOUR + 3 * HOUR
    booked = city.ok("dohyun", "parking", "book", service="parking", spot=1, start_ms=start, hours=1)
    row = seen(city.page("/services/parking/parking", "dohyun").text,
               f'data-booking="{booked["booking"]}" data-status="booked"')
    assert "You can report a problem from" in row and not form(row, "parking", "dispute")
    refused = city.call("dohyun", "parking", "dispute", service="parking", booking=booked["booking"],
                        reason="spot_occupied")
    assert refused["receipt"]["status"] == "too_early"
    city.ok("dohyun", "parking", "cancel", service="parking", booking=booked["booking"])


def test_refund_shares_read_as_percentages() -> None:
    assert [bps_percent(b) for b in (10_000, 5_000, 0, 3_333, 50, 1_250)] == \
        ["100%", "50%", "0%", "33.33%", "0.5%", "12.5%"]


def test_an_owner_sees_every_booking_the_contract_index_holds_across_pages() -> None:
    """The owner's list reads the contract's owner index to the end, however long ago a booking
    was made (it once searched only the owner's latest transactions), open ones by start first."""

    class Index:  # the parking contract's ``bookings_for`` over 230 stored bookings
        def query(self, contract: str, name: str, args: dict[str, Any]) -> list[dict[str, Any]]:
            assert (contract, name) == ("parking", "bookings_for") and args["limit"] == PAGE
            ids = [i for i in range(1, 231) if i > args["after"]][:args["limit"]]
            return [{"booking": i, "start_ms": (300 - i) * HOUR,
                     "status": "resolved" if i % 50 == 0 else "booked"} for i in ids]

    shown = bookings_on_spots_of(Index(), "parking", b"\x01" * 20)  # type: ignore[arg-type]
    ids = [b["booking"] for b in shown]
    assert sorted(ids) == list(range(1, 231))
    assert ids[:2] == [230, 229], "the soonest start first"
    assert ids[-4:] == [200, 150, 100, 50], "decided disputes after the open ones, newest first"
