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
from collections.abc import Iterator

import pytest

from civicledger.sdk import Client
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
    photo_hash = hashlib.sha256(photo).hexdigest()

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
    assert kept == len(photo), "the node keeps the photo; the chain holds its hash"

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
