"""The operators' console in a real Chromium against a real ``civic up --demo`` process.

Demo operators' keys are put into the browser's wallet (``use_key``); a citizen is a fresh
key made with the SDK. Every action is signed in the page and followed until committed;
what the ledger then says is checked through the SDK, not only on the page.
"""

from __future__ import annotations

import pytest

from civicledger.sdk import Client, Wallet
from civicledger.web.i18n import catalogue
from tests.web.conftest import PHONE, demo_wallet, open_account_page, profile, screenshot, use_key

KO = catalogue("ko")


@pytest.fixture(scope="module")
def client(server):
    with Client(server.url) as client:
        yield client


def holders(client: Client, org: str, role: str) -> list[str]:
    return [account for _, account in client.query("governance", "role_holders", org=org, role=role)]


def test_the_nowon_admin_registers_and_removes_a_citizen(browser, page, server, client):
    citizen = Wallet.create()
    resident = browser.new_context(viewport=PHONE, locale="ko-KR")
    try:
        mine = resident.new_page()
        use_key(mine, server, citizen)
        open_account_page(mine, server.url + "/console")
        assert mine.locator("#no-roles").is_visible()
        assert KO["console.no_roles"] in mine.locator("#no-roles").inner_text()
        screenshot(mine, "console-index-no-roles-phone")

        use_key(page, server, demo_wallet(server, "nowon-admin"))
        open_account_page(page, server.url + "/console")
        assert page.locator('#my-roles tr[data-org="nowon"] [data-role="issuer"]').count() == 1
        screenshot(page, "console-index-nowon-admin")

        page.locator('#card-roles a[href*="org=nowon"]').click()
        page.wait_for_url(lambda url: "org=nowon" in url)
        form = page.locator("#grant-form")
        form.locator("#grant-account").fill(citizen.address_text[:-1] + "x")
        form.locator("button[type=submit]").click()
        form.locator(".tx-status.error").wait_for()
        assert KO["error.address_checksum"] in form.locator(".tx-status").inner_text()
        assert holders(client, "nowon", "citizen").count(citizen.address_text) == 0

        form.locator("#grant-account").fill(citizen.address_text)
        form.locator("#grant-role").select_option("citizen")
        form.locator("button[type=submit]").click()
        form.locator(".tx-status.committed").wait_for()
        row = page.locator(f'#holders-table tr[data-role="citizen"][data-account="{citizen.address_text}"]')
        row.wait_for()
        assert citizen.address_text in holders(client, "nowon", "citizen")
        screenshot(page, "console-roles-nowon")

        mine.reload()
        assert mine.locator('#my-roles tr[data-org="nowon"] [data-role="citizen"]').count() == 1
        assert mine.locator("#no-roles").count() == 0

        page.once("dialog", lambda dialog: dialog.accept())
        row.locator("button[type=submit]").click()
        row.wait_for(state="detached")
        page.locator("#console-status.committed").wait_for()
        assert citizen.address_text not in holders(client, "nowon", "citizen")
    finally:
        resident.close()


def test_an_issuer_mints_its_coin_and_the_supply_rises(page, server, client):
    recipient = Wallet.create()
    before = client.query("token", "supply", currency="NW")
    use_key(page, server, demo_wallet(server, "nowon-admin"))
    open_account_page(page, server.url + "/console/currencies")
    assert page.locator("#mint-CIV").count() == 0, "Nowon issues NW, not the city token"
    supply = page.locator('[data-currency="NW"] .supply')
    assert supply.inner_text() == f"{before:,}"
    form = page.locator("#mint-NW")
    form.locator('[name="to"]').fill(recipient.address_text)
    form.locator('[name="amount"]').fill("700")
    form.locator("button[type=submit]").click()
    form.locator(".tx-status.committed").wait_for()
    page.wait_for_function(
        "([text]) => document.querySelector('[data-currency=\"NW\"] .supply').textContent === text",
        arg=[f"{before + 700:,}"])
    assert client.query("token", "supply", currency="NW") == before + 700
    assert client.balances(recipient.address_text)["NW"]["spendable"] == 700


def test_a_currency_is_proposed_and_approved_by_the_required_organisations(page, server, client):
    required = client.query("governance", "required_approvals")
    admins = ["nowon-admin", "seoul-admin", "gangseo-admin", "welfare-admin", "cafe-admin",
              "school-admin", "bakery-admin", "airlab-admin"][:required]
    use_key(page, server, demo_wallet(server, admins[0]))
    open_account_page(page, server.url + "/console/currencies")
    page.locator("summary", has_text=KO["console.kind.token.register_currency"]).click()
    form = page.locator("#propose-token-register_currency")
    form.locator('[name="args.symbol"]').fill("DB")
    form.locator('[name="args.name"]').fill("도봉 DB")
    form.locator('[name="args.issuer"]').select_option("nowon")
    form.locator('[name="args.cap"]').fill("50000")
    form.locator('[name="args.validity_ms"]').fill("1095")
    form.locator("button[type=submit]").click()
    form.locator(".tx-status.committed").wait_for()

    open_account_page(page, server.url + "/console/proposals")
    card = page.locator("article.proposal", has_text="DB")
    card.wait_for()
    proposal = int(card.get_attribute("id").removeprefix("proposal-"))
    assert f"1/{required}" in card.locator(".approvals").inner_text().replace(" ", "")
    assert card.locator("form.approve").count() == 0, "the proposer approved by proposing"
    screenshot(page, "console-proposals-open")

    for name in admins[1:]:
        use_key(page, server, demo_wallet(server, name))
        open_account_page(page, server.url + "/console/proposals")
        page.locator(f"#proposal-{proposal} form.approve button").first.click()
        page.locator("#console-status.committed").wait_for()
    page.locator(f'#past-table #proposal-{proposal}[data-status="executed"]').wait_for()

    currency = client.query("token", "currency", symbol="DB")
    assert (currency["issuer"], currency["cap"], currency["validity_ms"]) == (
        "nowon", 50_000, 1095 * 24 * 3600 * 1000)
    open_account_page(page, server.url + "/console/currencies")
    assert page.locator('[data-currency="DB"]').count() == 1


def test_a_crafted_grant_by_a_non_admin_is_refused_in_plain_words(browser, server, client):
    outsider = Wallet.create()
    context = browser.new_context(viewport=PHONE, locale="ko-KR")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        use_key(page, server, outsider)
        open_account_page(page, server.url + "/console/roles?org=nowon")
        assert page.locator("#needs-admin").is_visible()
        assert page.locator("#grant-form").count() == 0
        assert page.locator("form.revoke").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        before = client.query("governance", "role_holders", org="nowon")
        page.evaluate("""async ([account]) => {
            const form = document.createElement("form");
            form.id = "crafted";
            form.dataset.contract = "governance";
            form.dataset.method = "grant_role";
            form.innerHTML = `<input type="hidden" name="org" value="nowon">
              <input type="hidden" name="account" data-kind="address" value="${account}">
              <input type="hidden" name="role" value="issuer">
              <button type="submit">grant</button><div class="tx-status"></div>`;
            document.querySelector("main").append(form);
            (await import("/static/actions.js")).bind(document);
        }""", [outsider.address_text])
        page.locator("#crafted button").click()
        page.locator("#crafted .tx-status.failed").wait_for()
        assert KO["error.not_admin"] in page.locator("#crafted .tx-status").inner_text()
        assert client.query("governance", "role_holders", org="nowon") == before
        assert client.query("governance", "roles_of", account=outsider.address_text) == []
        assert errors == []
    finally:
        context.close()


def test_an_org_admin_adds_a_second_admin_key_who_can_then_grant(browser, page, server, client):
    deputy = Wallet.create()
    use_key(page, server, demo_wallet(server, "nowon-admin"))
    open_account_page(page, server.url + "/console/roles?org=nowon")
    page.locator("#admins-change summary").click()
    form = page.locator("#admins-form")
    current = form.locator("#admins-list").input_value().split()
    form.locator("#admins-list").fill("\n".join([*current, deputy.address_text[:-1] + "x"]))
    form.locator("button[type=submit]").click()
    form.locator(".tx-status.error").wait_for()
    assert KO["error.address_checksum"] in form.locator(".tx-status").inner_text(), "nothing is sent"

    form.locator("#admins-list").fill("\n".join([*current, deputy.address_text]))
    page.once("dialog", lambda dialog: dialog.accept())
    form.locator("button[type=submit]").click()
    page.locator(f'#org-admins a[href="/address/{deputy.address_text}"]').wait_for()
    assert client.query("governance", "org", org="nowon")["admins"] == [*current, deputy.address_text]

    with profile(browser) as other:
        use_key(other, server, deputy)
        open_account_page(other, server.url + "/console/roles?org=nowon")
        assert other.locator("#grant-form").count() == 1 and other.locator("#needs-admin").count() == 0
