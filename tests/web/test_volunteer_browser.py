"""Volunteering in real Chromium against ``civic up --demo``: a manager and a citizen, each in
their own browser profile with their demo key, take a request from posting to spending.

Check-in and check-out are co-signed across the two profiles through the hand-off link. The
node's clock is the wall clock, and the contract confirms only whole minutes between check-in
and check-out, so the test lets a minute pass between them (no timing is asserted).
"""

from __future__ import annotations

import os
import time

from civicledger.core import encoding
from civicledger.core.tx import Transaction
from civicledger.sdk import Client
from tests.web.conftest import (
    PHONE,
    demo_wallet,
    open_account_page,
    post_volunteer_request,
    profile,
    screenshot,
    use_key,
)

TASK = "놀이터 정리 Playground tidy-up"


def nw_balance(page) -> str:
    return page.locator('#coin-balances td[data-currency="NW"]').inner_text().split()[0]


def hand_off_link(page, form) -> str:
    form.locator("button[type=submit]").click()
    url = form.locator(".handoff-url")
    url.wait_for(state="visible")
    return url.input_value()


def test_a_request_from_posting_to_spending_across_two_browsers(browser, server):
    with profile(browser) as manager, profile(browser, PHONE) as citizen, profile(browser, PHONE) as other:
        use_key(manager, server, demo_wallet(server, "welfare-admin"))
        junho = use_key(citizen, server, demo_wallet(server, "junho"))
        use_key(other, server, demo_wallet(server, "minji"))
        cafe = demo_wallet(server, "cafe-admin").address_text

        # The manager posts a request that starts in a few minutes.
        request = post_volunteer_request(manager, server, TASK, place="nowon:sanggye-6", skills="cleaning")
        screenshot(manager, "volunteer-console")

        # The citizen finds it recommended, and applies.
        open_account_page(citizen, server.url + "/volunteer")
        card = citizen.locator(f'#recommended [data-request="{request}"]')
        card.wait_for()
        assert citizen.locator(f'#open-requests tr[data-request="{request}"]').is_visible(), \
            "the open list starts at the district of the recommendations"
        assert citizen.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "fits a phone"
        screenshot(citizen, "volunteer-home-phone")
        before = _balance(server, junho)
        card.locator("a").click()
        citizen.wait_for_selector("#apply-form")
        citizen.click("#apply-form button[type=submit]")
        citizen.wait_for_selector('#my-application [data-status="applied"]')

        # The manager closes applications and runs the selection.
        open_account_page(manager, f"{server.url}/console/volunteer/requests/{request}")
        manager.click("#close-form button")
        applicant = manager.locator(f'article.applicant[data-volunteer="{junho}"]')
        applicant.locator('[data-status="selected"]').wait_for()

        # Check-in: the manager starts, the citizen co-signs on their phone.
        link = hand_off_link(manager, applicant.locator('form[data-cosign="check_in"]'))
        assert "/volunteer/cosign#" in link
        other.goto(link)
        other.wait_for_selector('#cosign-refused[data-code="wrong_wallet"]')
        assert junho in other.locator("#cosign-refused").inner_text(), "the right account is named"
        manager_tab = manager.context.new_page()
        manager_tab.goto(link)
        manager_tab.wait_for_selector('#cosign-refused[data-code="own_link"]')
        manager_tab.close()
        citizen.goto(link)
        citizen.wait_for_selector("#cosign-details:not([hidden])")
        assert "도착" in citizen.locator("#cosign-what").inner_text()
        assert TASK in citizen.locator("#cosign-facts").inner_text()
        citizen.click("#cosign-button")
        citizen.wait_for_selector("#cosign-status[data-state=committed]")
        checked_in = time.monotonic()
        applicant.locator('.activity [data-status="checked_in"]').wait_for()

        # A link that has expired is refused in plain words.
        citizen.goto(expired_link(server))
        citizen.wait_for_selector('#cosign-refused[data-code="expired"]')
        assert "만료" in citizen.locator("#cosign-refused").inner_text()

        # Check-out: the citizen starts from their page, the manager co-signs.
        open_account_page(citizen, server.url + "/volunteer/me")
        activity = citizen.locator(f'article[data-activity="{request}"]')
        link = hand_off_link(citizen, activity.locator('form[data-cosign="check_out"]'))
        manager.goto(link)
        manager.wait_for_selector("#cosign-details:not([hidden])")
        assert "종료" in manager.locator("#cosign-what").inner_text()
        time.sleep(max(0.0, 62 - (time.monotonic() - checked_in)))  # a whole minute's work to confirm
        manager.click("#cosign-button")
        manager.wait_for_selector("#cosign-status[data-state=committed]")
        citizen.wait_for_selector(f'article[data-activity="{request}"][data-status="checked_out"]')

        # Confirming as a non-manager is refused and changes nothing.
        open_account_page(other, f"{server.url}/console/volunteer/requests/{request}")
        assert other.locator("#not-manager").is_visible()
        other.click(".confirm-form button[type=submit]")
        other.wait_for_selector(".confirm-form .tx-status[data-state=failed]")
        assert "담당자(manager)만" in other.locator(".confirm-form .tx-status").inner_text()
        with Client(server.url) as client:
            state = client.query("volunteering", "activity", request=int(request), volunteer=junho)
        assert state["status"] == "checked_out"

        # The manager confirms with minutes and a rating.
        open_account_page(manager, f"{server.url}/console/volunteer/requests/{request}")
        confirm = manager.locator(".confirm-form")
        assert int(confirm.locator("[name=minutes]").input_value()) >= 1
        confirm.locator("[name=minutes]").fill("1")
        confirm.locator("[name=rating]").select_option("5")
        confirm.locator('fieldset input[value="punctual"]').check()
        confirm.locator('fieldset input[value="kind"]').check()
        confirm.locator("button[type=submit]").click()
        applicant.locator('.activity [data-status="verified"]').wait_for()
        screenshot(manager, "volunteer-console-request")

        # The citizen sees the confirmed activity, a certificate that verifies, and more coin.
        open_account_page(citizen, server.url + "/volunteer/me")
        done = citizen.locator(f'article[data-activity="{request}"][data-status="verified"]')
        assert "1분 인정" in done.inner_text() and "시간 엄수" in done.inner_text()
        after = _balance(server, junho)
        assert after == before + 700 // 60, "1 minute at 700 NW an hour"
        assert nw_balance(citizen) == f"{after:,}"
        assert citizen.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "fits a phone"
        screenshot(citizen, "volunteer-me-phone")
        done.locator("a[href^='/volunteer/certificates/']").click()
        citizen.wait_for_selector('#verify-ledger[data-verified="true"]')
        citizen.wait_for_selector('#verify-browser[data-verified="true"]')

        # …and spends some at the café.
        open_account_page(citizen, server.url + "/volunteer/me")
        spend = citizen.locator("#spend-NW")
        citizen.locator('[data-coin="NW"] summary', has_text="가맹점").click()
        spend.locator("[name=merchant]").fill(cafe)
        spend.locator("[name=amount]").fill("100")
        spend.locator("button[type=submit]").click()
        citizen.wait_for_function(
            "(v) => document.querySelector('#coin-balances td[data-currency=NW]').textContent.startsWith(v)",
            arg=f"{after - 100:,}")
        assert _balance(server, junho) == after - 100


def test_the_cosign_page_refuses_a_damaged_or_foreign_link(browser, server):
    with profile(browser, PHONE) as page:
        use_key(page, server, demo_wallet(server, "junho"))
        page.goto(server.url + "/volunteer/cosign")
        page.wait_for_selector('#cosign-refused[data-code="no_link"]')
        page.goto(server.url + "/volunteer/cosign#AAAA")
        page.wait_for_selector('#cosign-refused[data-code="damaged"]')
        welfare, junho = demo_wallet(server, "welfare-admin"), demo_wallet(server, "junho")
        with Client(server.url) as client:
            chain = client.chain_id
        tx = Transaction(chain, "token", "transfer", {"currency": "CIV", "to": junho.address, "amount": 1},
                         welfare.public_key, os.urandom(16), int(time.time() * 1000) + 600_000,
                         (junho.public_key,)).sign(welfare.keypair, junho.keypair)
        page.goto(server.url + "/volunteer/cosign#" + _link(encoding.encode([tx.body, [tx.signatures[0]]])))
        page.wait_for_selector('#cosign-refused[data-code="unsupported"]')
        assert page.locator("#cosign-button").is_hidden()


def _link(envelope: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(envelope).decode().rstrip("=")


def _balance(server, account: str) -> int:
    with Client(server.url) as client:
        return int(client.balances(account)["NW"]["spendable"])


def expired_link(server) -> str:
    """A check-in hand-off the manager signed whose validity has ended."""
    welfare, junho = demo_wallet(server, "welfare-admin"), demo_wallet(server, "junho")
    with Client(server.url) as client:
        chain = client.chain_id
    args = {"request": 1, "volunteer": junho.address, "manager": welfare.address}
    expired = int(time.time() * 1000) - 60_000
    tx = Transaction(chain, "volunteering", "check_in", args, welfare.public_key, os.urandom(16), expired,
                     (junho.public_key,)).sign(welfare.keypair, junho.keypair)
    return server.url + "/volunteer/cosign#" + _link(encoding.encode([tx.body, [tx.signatures[0]]]))

