"""The service pages and consoles, in-process, on the demo city's chain (its week seeded as by
``civic up --demo``): both languages, 404 pages for what does not exist, and what each page shows
after real transactions — statements, reports with photos, queues, readings, bookings."""

from __future__ import annotations

import base64
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
from civicledger.contracts.parking.records import BookingStatus
from civicledger.core.address import address_of, to_text
from civicledger.core.crypto import KeyPair
from civicledger.core.tx import Transaction
from civicledger.gateway import GatewayConfig, create_app
from civicledger.node.blobs import BlobStore
from civicledger.node.node import Node, initialise
from civicledger.node.ordering import SoloOrderer, wall_clock_ms
from civicledger.node.sqlite_store import SqliteStore
from civicledger.web.i18n import catalogue
from civicledger.web.service_console import FLOW_BARS
from civicledger.web.services import PAGES

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
    demo.seed_week(store, keys, genesis)
    node = Node(store, registry, SoloOrderer(max_wait_ms=2)).start()
    try:
        with TestClient(create_app(node, GatewayConfig(), blobs=BlobStore(root / "blobs"))) as api:
            yield City(api, keys)
    finally:
        node.stop()
        store.close()


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
    assert 'id="is-provider"' in city.page("/services/air/air", "dohyun").text


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
    assert f'<tr data-spot="{spot}">' in console and "no dispute procedure" in console


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
    "empty_blob", "blob_too_large", "unsupported_media",
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
