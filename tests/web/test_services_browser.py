"""The service pages in a real Chromium against a real ``civic up --demo`` node.

A citizen (demo ``minji``, on a phone) reports a hazard with a real photo; Nowon's verifier, in
another browser profile, sees it in the department's queue with the photo and verifies it; the
citizen's page then shows the reward and her balance rose by it, and the department walks the
hazard through repair to resolved from its open-work list. A refused report (the same hazard
twice) shows its plain-words reason and changes nothing. A resident shares a parking spot through
the page, the citizen books it and sees the cost; a provider's air reading commits and is accepted.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator

import pytest

from civicledger.node.blobs import clean
from civicledger.sdk import Client
from civicledger.web.geo import cell_at
from tests.web.conftest import (
    PHONE,
    demo_wallet,
    open_account_page,
    profile,
    screenshot,
    submit_form,
    use_key,
)
from tests.web.test_services_pages import png

HAZARD_CELL = "0415-1083"
"""In Nowon's zone 041-108, so Nowon's department reviews it; no demo hazard is there."""


@pytest.fixture
def other_page(browser) -> Iterator[object]:
    """A second browser profile (its own wallet) for another person, on a desktop screen."""
    with profile(browser) as page:
        yield page


def spendable(server, address: str) -> int:
    with Client(server.url) as client:
        return int(client.balances(address)["CIV"]["spendable"])


def attach(page, selector: str, image: bytes) -> None:
    page.set_input_files(selector, files=[{"name": "hazard.png", "mimeType": "image/png", "buffer": image}])


def test_a_reported_hazard_is_verified_and_rewarded_and_a_repeat_is_refused(page, other_page, server):
    operator_page = other_page
    page.set_viewport_size(PHONE)
    minji = use_key(page, server, demo_wallet(server, "minji"))
    before = spendable(server, minji)
    photo = png((180, 60, 20), size=16)
    photo_hash = hashlib.sha256(clean(photo).data).hexdigest()  # kept without its metadata

    open_account_page(page, server.url + "/services/hazards/roads")
    page.select_option("#category", "sinkhole")
    page.fill("#cell", HAZARD_CELL)
    attach(page, "#photo", photo)
    screenshot(page, "services-hazard-report-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "nothing wider than a phone"
    status = submit_form(page.locator("#report-form"))
    assert "확정됨" in status and "새 신고" in status, status
    mine = page.locator('#my-reports [data-status="reported"]')  # her demo report is resolved
    mine.wait_for()
    hazard = int(mine.get_attribute("data-hazard"))
    assert f"#{hazard}" in status
    reports = page.locator("#my-reports [data-hazard]").count()
    assert mine.locator("img").get_attribute("src") == f"/v1/blobs/{photo_hash}"
    kept = page.evaluate("(url) => fetch(url).then((r) => r.arrayBuffer()).then((b) => b.byteLength)",
                         f"/v1/blobs/{photo_hash}")
    assert kept == len(clean(photo).data), "the node keeps the photo; the chain holds its hash"

    # The same hazard again: refused in plain words, nothing changes.
    attach(page, "#photo", photo)
    page.fill("#cell", HAZARD_CELL)
    page.select_option("#category", "sinkhole")
    status = submit_form(page.locator("#report-form"))
    assert "실패" in status and "이미 신고하셨습니다" in status, status
    assert page.locator("#my-reports [data-hazard]").count() == reports
    with Client(server.url) as client:
        shown = client.query("hazards", "hazard", service="roads", hazard=hazard)
    assert shown["reporters"] == 1 and shown["status"] == "reported"
    assert spendable(server, minji) == before

    # Nowon's verifier sees it in the queue, with the photo, and verifies it.
    use_key(operator_page, server, demo_wallet(server, "nowon-admin"))
    open_account_page(operator_page, server.url + "/console/services/roads")
    queued = operator_page.locator(f'#hazard-queue [data-hazard="{hazard}"]')
    queued.wait_for()
    assert HAZARD_CELL in queued.inner_text()
    image = queued.locator(f'img[src="/v1/blobs/{photo_hash}"]')
    image.scroll_into_view_if_needed()
    operator_page.wait_for_function("(img) => img.complete && img.naturalWidth === 16",
                                    arg=image.element_handle())
    assert minji in queued.locator("a[href^='/address/']").first.get_attribute("href")
    screenshot(operator_page, "services-console-hazard-queue")
    queued.locator('form[data-method="verify"] button').click()
    operator_page.locator(f'#hazard-work [data-work="{hazard}"][data-status="verified"]').wait_for()
    assert operator_page.locator(f'#hazard-queue [data-hazard="{hazard}"]').count() == 0

    # The citizen's page shows the reward; her balance rose by it.
    page.reload()
    mine = page.locator(f'#my-reports [data-hazard="{hazard}"]')
    assert mine.get_attribute("data-status") == "verified"
    assert mine.locator("[data-reward]").get_attribute("data-reward") == "300"
    assert "300 CIV" in mine.inner_text()
    assert int(page.locator("[data-balance]").get_attribute("data-balance")) == before + 300
    assert spendable(server, minji) == before + 300

    # The department repairs it: the open-work list walks it to resolved, and the citizen sees so.
    for method, status in (("start_repair", "repairing"), ("resolve", None)):
        row = operator_page.locator(f'#hazard-work [data-work="{hazard}"]')
        row.locator(f'form[data-method="{method}"] button').click()
        if status:
            operator_page.locator(f'#hazard-work [data-work="{hazard}"][data-status="{status}"]').wait_for()
        else:
            row.wait_for(state="detached")
    page.reload()
    assert page.locator(f'#my-reports [data-hazard="{hazard}"]').get_attribute("data-status") == "resolved"


def test_a_resident_shares_a_spot_and_the_citizen_books_it(page, other_page, server):
    junho_page = other_page
    use_key(junho_page, server, demo_wallet(server, "junho"))
    open_account_page(junho_page, server.url + "/services/parking/parking")
    junho_page.fill("#spot-cell", "0412-1089")
    junho_page.fill("#price", "90")
    status = submit_form(junho_page.locator("#list-form"))
    assert "확정됨" in status, status
    spot = junho_page.locator("#my-spots [data-own-spot]").last.get_attribute("data-own-spot")

    page.set_viewport_size(PHONE)
    minji = use_key(page, server, demo_wallet(server, "minji"))
    before = spendable(server, minji)
    open_account_page(page, server.url + "/services/parking/parking")
    card = page.locator(f'#spots [data-spot="{spot}"]')
    assert "시간당 90 CIV" in card.inner_text()
    card.locator('input[name="hours"]').fill("3")
    assert card.locator("output.price-total").inner_text() == "270 CIV"
    status = submit_form(card.locator('form[data-method="book"]'))
    assert "확정됨" in status and "270" in status, status
    booking = page.locator('#my-bookings [data-status="booked"]').first
    assert booking.locator("[data-amount]").get_attribute("data-amount") == "270"
    assert booking.locator('form[data-method="cancel"]').count() == 1
    assert int(page.locator("[data-balance]").get_attribute("data-balance")) == before - 270
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "services-parking-booked-phone")


def test_a_providers_air_reading_commits_and_is_accepted(page, server):
    page.set_viewport_size(PHONE)
    use_key(page, server, demo_wallet(server, "minji"))
    open_account_page(page, server.url + "/services/air/air")
    assert page.locator("#is-provider").count() == 1
    assert page.input_value("#measured"), "the measurement time starts at now"
    page.fill("#air-cell", "0430-1100")
    page.fill("#value-pm10", "42")
    page.fill("#value-pm25", "21")
    page.fill("#value-no2", "17")
    status = submit_form(page.locator("#reading-form"))
    assert "확정됨" in status and "채택됨" in status, status
    page.locator('#contributions tr[data-zone="043-110"]').wait_for()
    screenshot(page, "services-air-phone")


MINUTE, HOUR = 60_000, 3_600_000
CHECK_IN_EARLY = 15 * MINUTE


def craft(page, contract: str, method: str, fields: dict[str, tuple[str, str]]):
    """Put an action form the page does not offer into it (what a curious person could do with
    the browser's tools), bound by the page's own script; returns its locator."""
    page.evaluate("""async ([contract, method, fields]) => {
        const form = document.createElement("form");
        form.id = `crafted-${method}`;
        Object.assign(form.dataset, {contract, method});
        for (const [name, [value, kind]] of Object.entries(fields)) {
            const input = Object.assign(document.createElement("input"), {type: "hidden", name, value});
            input.dataset.kind = kind;
            form.append(input);
        }
        form.append(Object.assign(document.createElement("button"), {type: "submit", textContent: "go"}));
        form.append(Object.assign(document.createElement("div"), {className: "tx-status"}));
        document.querySelector("main").append(form);
        (await import("/static/actions.js")).bind(document);
    }""", [contract, method, fields])
    return page.locator(f"#crafted-{method}")


def balance(page) -> int:
    return int(page.locator("[data-balance]").get_attribute("data-balance"))


def test_a_driver_reports_a_parking_problem_and_seouls_operator_refunds_it(page, other_page, server):
    """A driver (seoyeon, on a phone) books minji's spot 1 from the next whole hour; Seoul's
    operator resolves a dispute with a full refund from the console, and the driver's page and
    balance show it; refused steps show their plain words and change nothing.

    Timing: a booking starts on a whole hour in the future, and a booked booking may be disputed
    only from 15 minutes before its start (when check-in opens). Without sleeping, the fresh
    booking is disputable only when the test runs in the last quarter of an hour (then it is
    reported occupied through the page's form). Otherwise the page says when reporting opens,
    a crafted report is refused as too early, and the dispute resolved is the one the demo
    leaves open (booking 6: junho reported dohyun's overstay), so that the operator's console,
    the refund and the driver's view are exercised on every run.
    """
    operator_page = other_page
    page.set_viewport_size(PHONE)
    now = int(time.time() * 1000)
    start = now - now % HOUR + HOUR
    if start - now < 2 * MINUTE:
        start += HOUR  # too close: the booking could reach the chain after its start
    window_open = now >= start - CHECK_IN_EARLY

    seoyeon = use_key(page, server, demo_wallet(server, "seoyeon"))
    open_account_page(page, server.url + "/services/parking/parking")
    before = balance(page)
    spot = page.locator('#spots [data-spot="1"]')
    local = page.evaluate("async (ms) => (await import('/static/civic.js')).localInputValue(ms)", start)
    spot.locator('input[name="start_ms"]').fill(local)
    status = submit_form(spot.locator('form[data-method="book"]'))
    assert "확정됨" in status and "100" in status, status
    fresh = page.locator('#my-bookings [data-status="booked"]').first
    booking = int(fresh.get_attribute("data-booking"))
    assert balance(page) == before - 100

    if window_open:
        report = fresh.locator('form[data-method="dispute"]')
        assert report.locator("option").all_inner_texts() == [
            "다른 차가 자리에 있음", "자리나 출구가 막힘", "기타 문제"]
        report.locator("select").select_option("spot_occupied")
        report.scroll_into_view_if_needed()
        screenshot(page, "services-parking-report-phone")
        page.once("dialog", lambda dialog: dialog.accept())
        report.locator("button[type=submit]").click()
        # committed: the refreshed card is frozen, with neither the report nor the check-in form
        card = page.locator(f'#my-bookings [data-booking="{booking}"][data-status="disputed"]')
        card.wait_for()
        assert card.locator("form").count() == 0
        assert "내가 문제를 신고함" in card.inner_text() and "다른 차가 자리에 있음" in card.inner_text()
        target, driver_page, driver, refund = booking, page, seoyeon, 100
        screenshot(page, "services-parking-disputed-phone")
    else:
        assert fresh.locator('form[data-method="dispute"]').count() == 0
        assert "문제 신고는" in fresh.locator("[data-dispute-opens]").inner_text()
        status = submit_form(craft(page, "parking", "dispute", {
            "service": ("parking", "text"), "booking": (str(booking), "int"),
            "reason": ("spot_occupied", "text")}))
        assert "실패" in status and "아직 할 수 없습니다" in status, status
        page.reload()
        unchanged = page.locator(f'#my-bookings [data-booking="{booking}"]')
        assert unchanged.get_attribute("data-status") == "booked"
        assert balance(page) == before - 100
        target, refund = 6, 160
        driver = use_key(page, server, demo_wallet(server, "dohyun"))
        driver_page = page
        open_account_page(page, server.url + "/services/parking/parking")
    held_before = balance(driver_page)

    # The driver may not check in (or out) while the dispute waits: plain words, nothing changes.
    method = "check_in" if window_open else "check_out"
    status = submit_form(craft(driver_page, "parking", method, {
        "service": ("parking", "text"), "booking": (str(target), "int")}))
    assert "실패" in status and "운영 기관의 결정을 기다리는 예약" in status, status

    # Nor may she decide it herself, with a form the console does not offer her.
    open_account_page(driver_page, server.url + "/console/services/parking")
    assert driver_page.locator(f'#dispute-list [data-dispute="{target}"] form').count() == 0
    status = submit_form(craft(driver_page, "parking", "resolve_dispute", {
        "service": ("parking", "text"), "booking": (str(target), "int"),
        "driver_refund_bps": ("10000", "int"), "note": ("my own decision", "text")}))
    assert "실패" in status and "운영자(operator 역할)만" in status, status
    with Client(server.url) as client:
        shown = client.query("parking", "booking", service="parking", booking=target)
    assert shown["status"] == "disputed" and shown["refunded"] == 0

    # Seoul's operator sees it with its facts and refunds it in full.
    use_key(operator_page, server, demo_wallet(server, "seoul-admin"))
    open_account_page(operator_page, server.url + "/console/services/parking")
    row = operator_page.locator(f'#dispute-list [data-dispute="{target}"]')
    row.wait_for()
    facts = row.inner_text()
    assert ("다른 차가 자리에 있음" if window_open else "예약 시간이 지나도 차를 빼지 않음") in facts
    assert ("운전자가 신고" if window_open else "공간 주인이 신고") in facts and f"{refund} CIV" in facts
    row.scroll_into_view_if_needed()
    screenshot(operator_page, "services-console-parking-disputes")
    row.locator('input[name="note"]').fill("현장 확인")
    row.locator('input[name="driver_refund_bps"]').fill("150")
    status = submit_form(row.locator('form[data-method="resolve_dispute"]'))
    assert "0에서 100 사이의 비율" in status, status  # refused before signing: nothing sent
    assert row.get_attribute("data-dispute") == str(target)
    row.get_by_role("button", name="전액 환불 (100%)").click()
    assert row.locator('input[name="driver_refund_bps"]').input_value() == "100"
    assert f"운전자 환불 {refund} CIV" in row.locator("output.refund-split").inner_text()
    row.locator('form[data-method="resolve_dispute"] button[type=submit]').click()
    row.wait_for(state="detached")  # decided: it leaves the list, and the console says the outcome
    decided = operator_page.locator('#dispute-result[data-state="committed"]')
    decided.wait_for()
    assert f"운전자 {refund} 환불" in decided.inner_text() and decided.locator("a.tx-link").count() == 1

    # The driver's page shows the outcome; the refund is in her balance.
    open_account_page(driver_page, server.url + "/services/parking/parking")
    card = driver_page.locator(f'#my-bookings [data-booking="{target}"]')
    assert card.get_attribute("data-status") == "resolved"
    assert "운전자에게 100% 환불" in card.inner_text() and "현장 확인" in card.inner_text()
    assert balance(driver_page) == spendable(server, driver) == held_before + refund
    with Client(server.url) as client:
        shown = client.query("parking", "booking", service="parking", booking=target)
    assert shown["status"] == "resolved" and shown["refunded"] == refund
    assert driver_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(driver_page, "services-parking-resolved-phone")


NOWON_OFFICE = {"latitude": 37.6543, "longitude": 127.0565}
"""Nowon district office, in the demo's Nowon zone: cell 0412-1087 (``civicledger.web.geo``)."""


@pytest.fixture
def located_page(browser) -> Iterator[object]:
    """A phone at Nowon district office that lets the portal read its location."""
    with profile(browser, PHONE, timeout_ms=20_000, geolocation=NOWON_OFFICE,
                 permissions=["geolocation"]) as page:
        yield page


def test_use_my_location_fills_the_cell_and_keeps_the_position_on_the_device(located_page, server):
    page = located_page
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url + (request.post_data or "")))
    page.goto(server.url + "/services/hazards/roads")
    page.click('button[data-locate="cell"]')
    status = page.locator('[data-located-for="cell"][data-state=done]')
    status.wait_for()
    assert page.input_value("#cell") == cell_at(NOWON_OFFICE["latitude"], NOWON_OFFICE["longitude"])
    assert page.input_value("#cell") == "0412-1087"
    assert "0412-1087" in status.inner_text() and "위치는 이 기기에만" in status.inner_text()
    assert not [r for r in requests if "37.65" in r or "127.05" in r], "the position was sent"
    screenshot(page, "services-locate-phone")


def test_the_browser_places_points_in_the_same_cells_as_python(located_page, server):
    page = located_page
    page.goto(server.url + "/services/air/air")
    rng = random.Random(5)
    points = [(35.8, 120.9), (35.79999, 120.9), (37.6543, 127.0565), (80.72, 177.51), (91.0, 0.0)]
    points += [(rng.uniform(35.0, 82.0), rng.uniform(119.0, 180.0)) for _ in range(400)]
    cells = page.evaluate("""async (points) => {
        const { cellAt } = await import("/static/locate.js");
        return points.map(([lat, lon]) => cellAt(lat, lon));
    }""", points)
    assert cells == [cell_at(lat, lon) for lat, lon in points]
    assert None in cells and cells[0] == "0000-0000"


@pytest.mark.parametrize(("answer", "words"), [
    ("fail({ code: 1, message: 'denied' })", "위치 권한이 거부되었습니다"),
    ("fail({ code: 2, message: 'unavailable' })", "위치를 찾지 못했습니다"),
    ("ok({ coords: { latitude: 35.1, longitude: 129.0 } })", "시의 격자 밖에"),  # Busan: south of it
])
def test_a_location_that_cannot_give_a_cell_says_why_and_leaves_the_field(page, server, answer, words):
    page.add_init_script(f"""navigator.geolocation.getCurrentPosition =
        (ok, fail) => setTimeout(() => {answer}, 10);""")
    page.goto(server.url + "/services/hazards/roads")
    page.fill("#cell", "0412-1088")
    page.click('button[data-locate="cell"]')
    status = page.locator('[data-located-for="cell"][data-state=error]')
    status.wait_for()
    assert words in status.inner_text()
    assert page.input_value("#cell") == "0412-1088"
