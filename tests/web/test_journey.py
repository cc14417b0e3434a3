"""A citizen's first week on the portal, end to end, in real Chromium against ``civic up --demo``.

One newcomer, on a phone, with a wallet made in the browser: registered as a resident by the
Nowon district office, she reports a hazard with a photo; Nowon's verifier confirms it and she is
rewarded; she books a shared parking spot with the reward; she volunteers at the welfare centre,
checks in and out with the manager co-signing, and is paid in Nowon's coin once the manager
confirms. The explorer shows her transactions and verifies a proof of the reward in the browser,
and the language switch changes the page. Operators work in their own browser profiles with the
demo keys. The contract confirms whole minutes of work, so the test lets a minute pass between
check-in and check-out (no timing is asserted).
"""

from __future__ import annotations

import time

from civicledger.sdk import Client
from tests.web.conftest import (
    PHONE,
    demo_wallet,
    open_account_page,
    post_volunteer_request,
    profile,
    screenshot,
    submit_form,
    use_key,
)
from tests.web.test_services_pages import png

PASSPHRASE = "나의 첫 지갑 passphrase"
HAZARD_CELL = "0416-1084"
"""In Nowon's zone 041-108 (Nowon's department reviews it); no demo hazard is there."""
TASK = "복지관 급식 봉사 Lunch service"


def balance(server, account: str, currency: str) -> int:
    with Client(server.url) as client:
        held = client.balances(account)
    return int(held[currency]["spendable"]) if currency in held else 0


def hand_off(page, form) -> str:
    """Start a co-signed call from ``form``; the hand-off link for the other party."""
    form.locator("button[type=submit]").click()
    url = form.locator(".handoff-url")
    url.wait_for(state="visible")
    return url.input_value()


def cosign(page, link: str) -> None:
    page.goto(link)
    page.wait_for_selector("#cosign-details:not([hidden])")
    page.click("#cosign-button")
    page.wait_for_selector("#cosign-status[data-state=committed]")


def test_a_newcomer_reports_books_volunteers_and_checks_it_on_the_explorer(browser, server):
    with (profile(browser, PHONE) as citizen, profile(browser) as district,
          profile(browser) as manager):
        # A wallet made in this browser, with its backup.
        citizen.goto(server.url + "/wallet")
        citizen.fill("#new-passphrase", PASSPHRASE)
        citizen.fill("#new-passphrase-again", PASSPHRASE)
        citizen.click("#create-wallet")
        citizen.wait_for_selector("#backup-offer:not([hidden])", timeout=60_000)
        me = citizen.locator("#wallet-address").inner_text()
        assert me.startswith("civ1")
        screenshot(citizen, "journey-wallet-phone")

        # The district office registers her as a resident.
        use_key(district, server, demo_wallet(server, "nowon-admin"))
        open_account_page(district, server.url + "/console/roles?org=nowon")
        grant = district.locator("#grant-form")
        grant.locator("#grant-account").fill(me)
        grant.locator("#grant-role").select_option("citizen")
        assert "확정됨" in submit_form(grant)

        # She reports a hazard with a photo…
        open_account_page(citizen, server.url + "/services/hazards/roads")
        citizen.select_option("#category", "pothole")
        citizen.fill("#cell", HAZARD_CELL)
        citizen.set_input_files("#photo", files=[{"name": "pothole.jpg", "mimeType": "image/png",
                                                  "buffer": png((90, 90, 90), size=24)}])
        status = submit_form(citizen.locator("#report-form"))
        assert "확정됨" in status, status
        report = citizen.locator('#my-reports [data-status="reported"]')
        hazard = report.get_attribute("data-hazard")
        screenshot(citizen, "journey-hazard-reported-phone")

        # …which Nowon's verifier confirms, paying her the service's reward.
        open_account_page(district, server.url + "/console/services/roads")
        queued = district.locator(f'#hazard-queue [data-hazard="{hazard}"]')
        queued.locator('form[data-method="verify"] button').click()
        district.locator(f'#hazard-work [data-work="{hazard}"][data-status="verified"]').wait_for()
        citizen.reload()
        rewarded = citizen.locator(f'#my-reports [data-hazard="{hazard}"]')
        reward = int(rewarded.locator("[data-reward]").get_attribute("data-reward"))
        assert reward > 0 and balance(server, me, "CIV") == reward

        # She books a shared spot for an hour with her reward.
        open_account_page(citizen, server.url + "/services/parking/parking")
        spot = citizen.locator('#spots [data-spot]:has(form[data-method="book"])').first
        spot.locator('input[name="hours"]').fill("1")
        status = submit_form(spot.locator('form[data-method="book"]'))
        assert "확정됨" in status, status
        booked = citizen.locator('#my-bookings [data-status="booked"]').first
        cost = int(booked.locator("[data-amount]").get_attribute("data-amount"))
        assert 0 < cost <= reward and balance(server, me, "CIV") == reward - cost
        screenshot(citizen, "journey-parking-booked-phone")

        # The welfare centre posts a request; she applies and is selected.
        use_key(manager, server, demo_wallet(server, "welfare-admin"))
        request = post_volunteer_request(manager, server, TASK, place="nowon:welfare-centre",
                                         skills="cooking")

        open_account_page(citizen, f"{server.url}/volunteer/requests/{request}")
        citizen.click("#apply-form button[type=submit]")
        citizen.wait_for_selector('#my-application [data-status="applied"]')
        open_account_page(manager, f"{server.url}/console/volunteer/requests/{request}")
        manager.click("#close-form button")
        applicant = manager.locator(f'article.applicant[data-volunteer="{me}"]')
        applicant.locator('[data-status="selected"]').wait_for()

        # Check-in and check-out, each co-signed by the other party through a hand-off link.
        cosign(citizen, hand_off(manager, applicant.locator('form[data-cosign="check_in"]')))
        checked_in = time.monotonic()
        open_account_page(citizen, server.url + "/volunteer/me")
        activity = citizen.locator(f'article[data-activity="{request}"]')
        link = hand_off(citizen, activity.locator('form[data-cosign="check_out"]'))
        time.sleep(max(0.0, 62 - (time.monotonic() - checked_in)))  # a whole minute's work
        cosign(manager, link)

        # The manager confirms; she is paid in Nowon's coin and holds a certificate.
        open_account_page(manager, f"{server.url}/console/volunteer/requests/{request}")
        confirm = manager.locator(".confirm-form")
        confirm.locator("[name=minutes]").fill("1")
        confirm.locator("[name=rating]").select_option("5")
        confirm.locator("button[type=submit]").click()
        applicant.locator('.activity [data-status="verified"]').wait_for()
        assert balance(server, me, "NW") == 700 // 60, "one minute at 700 NW an hour"
        open_account_page(citizen, server.url + "/volunteer/me")
        citizen.locator(f'article[data-activity="{request}"][data-status="verified"]').wait_for()
        screenshot(citizen, "journey-volunteered-phone")

        # The explorer lists her transactions and checks the reward's proof in her browser.
        citizen.goto(f"{server.url}/address/{me}")
        with Client(server.url) as client:
            history = client.history(me, limit=100)["entries"]
        reward_tx = next(e["tx_id"] for e in history
                         if any(ev["name"] == "Rewarded" for ev in e["events"]))
        assert citizen.locator(f'a[href="/tx/{reward_tx}"]').count() == 1
        citizen.click(f'a[href="/tx/{reward_tx}"]')
        citizen.wait_for_selector("#proof-result[data-verified=true]")
        screenshot(citizen, "journey-proof-phone")

        # And the same page reads in English at a tap.
        citizen.click("a[data-lang=en]")
        citizen.wait_for_selector("#proof-result[data-verified=true]")
        assert "Proof verified" in citizen.locator("#proof-result").inner_text()
