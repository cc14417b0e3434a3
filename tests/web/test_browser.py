"""The portal in a real headless Chromium against a real ``civic up --demo`` process.

The browser reproduces the ledger's byte formats (checked here against Python, byte for
byte), verifies an inclusion proof itself, switches language, and runs a citizen's wallet end
to end: a key made in the browser is funded by a demo citizen through the SDK and sends tokens
signed in the page. Screenshots of the key pages are saved as artefacts (see conftest).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from civicledger.cli.demo import DEMO_PASSPHRASE
from civicledger.cli.workspace import Workspace
from civicledger.core import encoding
from civicledger.core.address import address_of, to_text
from civicledger.core.crypto import KeyPair
from civicledger.core.tx import Transaction
from civicledger.sdk import Client, Wallet
from tests.web.conftest import PHONE, screenshot

# Values travel to the page as JSON tagged with their ledger type, and come back as hex.
REVIVE = """
(value) => {
  const revive = (v) => {
    if (Array.isArray(v)) return v.map(revive);
    if (v && typeof v === "object") {
      if ("int" in v) return BigInt(v.int);
      if ("bytes" in v) return Uint8Array.from(v.bytes.match(/../g) || [], (h) => parseInt(h, 16));
      if ("map" in v) return Object.fromEntries(Object.entries(v.map).map(([k, x]) => [k, revive(x)]));
    }
    return v;
  };
  return revive(value);
}
"""


def tagged(value: Any) -> Any:
    if type(value) is int:
        return {"int": str(value)}
    if type(value) is bytes:
        return {"bytes": value.hex()}
    if type(value) is dict:
        return {"map": {k: tagged(v) for k, v in value.items()}}
    if type(value) in (list, tuple):
        return [tagged(v) for v in value]
    return value


def run_js(page, body: str, arg: Any = None) -> Any:
    """Run ``body`` (an async function of ``civic``, ``wallet``, ``revive`` and ``arg``) in the page."""
    return page.evaluate(f"""async (arg) => {{
        const civic = await import("/static/civic.js");
        const wallet = await import("/static/wallet.js");
        const revive = {REVIVE};
        {body}
    }}""", arg)


VALUES = [
    None, True, False, 0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**53 + 1, 2**64 - 1,
    -1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**63),
    "", "a", "x" * 31, "x" * 32, "y" * 255, "y" * 256, "z" * 70000, "서울 시민", "😀 emoji",
    b"", b"\x00\xff", bytes(255), bytes(256), bytes(70000),
    [], [1, "two", b"3"], list(range(15)), list(range(16)), list(range(70000)),
    {}, {"b": 1, "a": 2, "": 3}, {"é": 1, "z": 2, "😀": 3, "\uffff": 4}, {str(i): i for i in range(16)},
    {"nested": [{"deep": [b"x", {"k": None}]}]},
]


@pytest.fixture
def portal(page, server):
    page.goto(server.url + "/")
    return page


def test_the_browser_encodes_values_exactly_like_python(portal):
    got = run_js(portal, "return revive(arg).map((v) => civic.toHex(civic.encode(v)));",
                 [tagged(v) for v in VALUES])
    assert got == [encoding.encode(v).hex() for v in VALUES]
    decoded = run_js(portal, """
        const same = (a, b) => civic.toHex(civic.encode(a)) === civic.toHex(civic.encode(b));
        return revive(arg).every((v) => same(civic.decode(civic.encode(v)), v));""",
                     [tagged(v) for v in VALUES])
    assert decoded is True
    refused = run_js(portal, """
        const bad = [1.5, 2n ** 64n, -(2n ** 63n) - 1n, undefined, new Date(0)];
        return bad.map((v) => { try { civic.encode(v); return "encoded"; } catch { return "refused"; } });""")
    assert refused == ["refused"] * 5


def test_the_browser_signs_the_same_envelope_as_python(portal):
    """Ed25519 is deterministic: the same seed and call give the same bytes in both."""
    seed = bytes(range(32))
    key = KeyPair.from_seed(seed)
    recipient = address_of(KeyPair.from_seed(bytes(32)).public_key)
    args = {"currency": "CIV", "to": recipient, "amount": 1234, "memo": "점심값"}
    tx = Transaction("civic-demo", "token", "transfer", args, key.public_key, bytes(range(16)),
                     1_900_000_000_000)
    expected = tx.sign(key)
    got = run_js(portal, """
        const pkcs8 = civic.concat(civic.fromHex("302e020100300506032b657004220420"), revive(arg.seed));
        const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, {name: "Ed25519"}, false, ["sign"]);
        const body = wallet.transactionBody({chainId: "civic-demo", contract: "token", method: "transfer",
          args: revive(arg.args), signer: revive(arg.signer), nonce: revive(arg.nonce),
          expires: 1900000000000});
        const signed = await wallet.sign(body, privateKey);
        return {body: civic.toHex(body), id: signed.id, envelope: civic.toHex(signed.envelope)};""",
                 {"seed": tagged(seed), "args": tagged(args), "signer": tagged(key.public_key),
                  "nonce": tagged(bytes(range(16)))})
    assert got == {"body": expected.body.hex(), "id": expected.id.hex(),
                   "envelope": expected.envelope().hex()}


def test_the_browser_derives_and_checks_addresses_like_python(portal):
    keys = [KeyPair.from_seed(bytes([i]) * 32).public_key for i in range(5)]
    got = run_js(portal, """
        const out = [];
        for (const key of revive(arg)) out.push(civic.addressText(await civic.addressOf(key)));
        return out;""", [tagged(k) for k in keys])
    expected = [to_text(address_of(k)) for k in keys]
    assert got == expected
    typo = expected[0][:-1] + ("q" if expected[0][-1] != "q" else "p")
    checks = run_js(portal, """
        return arg.map((text) => {
          try { return civic.toHex(civic.parseAddress(text)); } catch (e) { return e.code; }
        });""",
                    [expected[1], expected[1].upper(), typo, "civ1short", "bc1" + expected[1][4:]])
    assert checks == [address_of(keys[1]).hex(), address_of(keys[1]).hex(), "address_checksum",
                      "address_length", "address_length"]


def test_the_explorer_shows_blocks_live_and_verifies_a_proof(portal, server):
    rows = portal.locator("#latest-blocks tr")
    assert rows.count() == 10
    portal.wait_for_selector("#live-state[data-state=live]")
    top = int(rows.first.get_attribute("data-height"))
    with Client(server.url) as client:
        minji = Wallet.load(Workspace(server.data).key_path("minji"), DEMO_PASSPHRASE)
        outcome = client.call(minji, "token", "transfer", currency="CIV", to=Wallet.create().address_text,
                              amount=3, memo="live")
    portal.wait_for_selector(f'#latest-blocks tr[data-height="{outcome.height}"]')
    assert outcome.height > top
    portal.wait_for_selector(f'#latest-txs a[href="/tx/{outcome.tx_id}"]')
    screenshot(portal, "explorer-home")

    portal.click(f'#latest-txs a[href="/tx/{outcome.tx_id}"]')
    result = portal.locator("#proof-result[data-verified]")
    result.wait_for()
    assert result.get_attribute("data-verified") == "true"
    assert "증명 확인됨" in result.inner_text()
    assert portal.locator("#proof-steps li.ok").count() == 4
    screenshot(portal, "transaction-proof")

    portal.fill("#q", outcome.tx_id)
    portal.press("#q", "Enter")
    portal.wait_for_url(f"**/tx/{outcome.tx_id}")
    portal.fill("#q", str(outcome.height))
    portal.press("#q", "Enter")
    portal.wait_for_url(f"**/blocks/{outcome.height}")


def test_switching_language_changes_the_text(portal):
    assert portal.locator("h1").inner_text() == "공개 탐색기"
    assert portal.locator("html").get_attribute("lang") == "ko"
    portal.click("a[data-lang=en]")
    portal.wait_for_url("**/?lang=en")
    assert portal.locator("h1").inner_text() == "Public explorer"
    portal.click("header nav a[href='/transparency']")
    assert portal.locator("h1").inner_text() == "Service transparency", "the choice is remembered"
    assert portal.locator("svg.chart").count() >= 2
    screenshot(portal, "transparency-en")
    portal.click("a[data-lang=ko]")
    assert portal.locator("h1").inner_text() == "서비스 투명성"


def balance_cell(page, currency: str) -> str:
    return page.locator(f'#wallet-balances td[data-currency="{currency}"]').inner_text()


def test_a_citizen_creates_a_wallet_is_funded_and_sends_from_the_browser(page, server):
    page.set_viewport_size(PHONE)
    page.goto(server.url + "/wallet")
    page.fill("#new-passphrase", "a long enough passphrase")
    page.fill("#new-passphrase-again", "a long enough passphrase")
    page.click("#create-wallet")
    address = page.locator("#wallet-address")
    page.wait_for_function("() => document.getElementById('wallet-address').textContent.startsWith('civ1')")
    mine = address.inner_text()
    page.wait_for_selector('#wallet-balances td[data-currency="CIV"]')
    assert balance_cell(page, "CIV") == "0"
    kept = page.evaluate("""async () => {
        const wallet = await import("/static/wallet.js");
        const w = await wallet.load();
        let exported = "refused";
        try { await crypto.subtle.exportKey("pkcs8", w.keys.privateKey); exported = "exported"; } catch {}
        return {address: w.address, extractable: w.keys.privateKey.extractable, exported};
    }""")
    assert kept == {"address": mine, "extractable": False, "exported": "refused"}

    with Client(server.url) as client:
        minji = Wallet.load(Workspace(server.data).key_path("minji"), DEMO_PASSPHRASE)
        assert client.call(minji, "token", "transfer", currency="CIV", to=mine, amount=100).ok
        friend = Wallet.create()
        page.click("#refresh-balances")
        page.wait_for_function("() => document.querySelector('#wallet-balances td[data-currency=CIV]')"
                               ".textContent === '100'")
        screenshot(page, "wallet-phone")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "fits a phone"

        page.click("a.button[href='/wallet/send']")
        page.wait_for_selector("#send-form:not([hidden])")
        page.fill("#recipient", friend.address_text[:-1] + ("q" if friend.address_text[-1] != "q" else "p"))
        page.fill("#amount", "30")
        page.click("#send-button")
        page.wait_for_selector("#tx-status[data-state=error]")
        assert "오타" in page.locator("#tx-status").inner_text(), "a typo is named in plain words"

        page.fill("#recipient", friend.address_text)
        page.fill("#amount", "500")
        page.click("#send-button")
        page.wait_for_selector("#tx-status[data-state=failed]")
        assert "잔액이 부족합니다" in page.locator("#tx-status").inner_text()

        page.fill("#amount", "30")
        page.fill("#memo", "고마워요")
        page.click("#send-button")
        page.wait_for_selector("#tx-status[data-state=committed]")
        assert "확정됨" in page.locator("#tx-status").inner_text()
        screenshot(page, "send-committed-phone")
        assert client.balances(friend.address_text)["CIV"]["spendable"] == 30
        assert client.balances(mine)["CIV"]["spendable"] == 70
        tx_id = page.locator("#tx-status .tx-link").get_attribute("href").rsplit("/", 1)[1]
        assert client.transaction(tx_id)["call"]["args"]["memo"] == "고마워요"

    page.click("#tx-status .tx-link")
    page.wait_for_selector("#proof-result[data-verified=true]")


def test_pages_are_usable_by_keyboard(portal):
    portal.keyboard.press("Tab")
    focused = portal.evaluate("document.activeElement.textContent")
    assert focused == "본문으로 건너뛰기", "the first tab stop skips to the content"
    portal.keyboard.press("Enter")
    assert portal.evaluate("location.hash") == "#main"
    labels = portal.evaluate("""() => [...document.querySelectorAll('input, select')]
        .filter((i) => !document.querySelector(`label[for="${i.id}"]`)).map((i) => i.id)""")
    assert labels == []


def test_screens_of_key_pages_on_a_phone(page, server):
    page.set_viewport_size(PHONE)
    for path, name in (("/", "explorer-phone"), ("/transparency", "transparency-phone")):
        page.goto(server.url + path)
        screenshot(page, name)
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map((e) => `${e.tagName}#${e.id}.${e.className}: ${e.textContent.slice(0, 40)}`)""")
        assert wide == [], f"{path} is wider than a phone"
    assert json.loads(page.locator("#i18n").inner_text())["site.name"] == "시빅레저 서울"


def test_action_forms_turn_fields_into_typed_arguments(portal):
    """static/actions.js: each data-kind converts its field; a bad field is named by its code."""
    raw = address_of(KeyPair.from_seed(bytes(32)).public_key)
    recipient = to_text(raw)
    got = run_js(portal, """
        const actions = await import("/static/actions.js");
        const form = document.createElement("form");
        form.innerHTML = `
          <input name="service" type="hidden" value="roads">
          <input name="amount" data-kind="amount" data-decimals="2" value="1,234.5">
          <input name="to" data-kind="address" value="${arg.to}">
          <input name="hazard" data-kind="int" value="42">
          <input name="values.pm10" data-kind="int" value="35">
          <input name="values.no2" data-kind="int" value="-3">
          <input name="skills" data-kind="list" value="cooking, , driving">
          <input name="accept" type="checkbox" data-kind="bool" checked>
          <input name="memo" data-optional value="">
          <input name="photo" type="file" data-kind="blob" data-optional>`;
        const args = await actions.argumentsOf(form);
        const bad = [];
        const cases = [["amount", "0"], ["amount", "1.234"], ["int", "4.5"], ["address", "civ1x"],
                       ["time", "soon"], ["hex", "abc"], ["blob", ""], ["nope", "1"]];
        for (const [kind, value] of cases) {
          const f = document.createElement("form");
          const type = kind === "blob" ? 'type="file"' : "";
          f.innerHTML = `<input name="x" data-kind="${kind}" value="${value}" ${type}>`;
          try { await actions.argumentsOf(f); bad.push("accepted"); } catch (e) { bad.push(e.code); }
        }
        return {encoded: civic.toHex(civic.encode(args)), bad};""", {"to": recipient})
    expected = {"service": "roads", "amount": 123450, "to": raw,
                "hazard": 42, "values": {"pm10": 35, "no2": -3}, "skills": ["cooking", "driving"],
                "accept": True}
    assert got["encoded"] == encoding.encode(expected).hex()
    assert got["bad"] == ["invalid_amount", "invalid_amount", "invalid_number", "address_length",
                          "invalid_time", "invalid_hex", "missing_file", "unknown_kind"]
