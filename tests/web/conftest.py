"""Fixtures for the portal: the gateway app in-process, and a real node with a real Chromium.

Browser tests drive Debian's ``chromium`` (``/usr/bin/chromium``) through Playwright; no browser
is ever downloaded. They are skipped, saying why, only where that binary is missing (``.ci/run``
installs it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.gateway.conftest import accounts, api, blobs, config, node, registry, store  # noqa: F401
from tests.sdk.conftest import server  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("CIVIC_WEB_ARTIFACTS", Path(__file__).parent / "artifacts"))
"""Where browser tests save screenshots of the key pages (git-ignored)."""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does) to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@contextmanager
def profile(browser, viewport=DESKTOP, *, timeout_ms: int = 30_000, **options: object) -> Iterator[object]:
    """A separate browser profile (its own wallet, IndexedDB and cookies) for one more person,
    with a page that fails the test on script errors; ``options``: more of Playwright's context
    options (a position and the permission to read it, say)."""
    context = browser.new_context(viewport=viewport, locale="ko-KR", **options)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(timeout_ms)
    try:
        yield page
        assert errors == [], f"script errors on the page: {errors}"
    finally:
        context.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh browser profile with a desktop page."""
    with profile(browser, {"width": 1280, "height": 800}, timeout_ms=20_000) as page:
        yield page


def open_account_page(page, url: str) -> None:
    """Open an account page; its script adds the browser wallet's address to the URL."""
    page.goto(url)
    page.wait_for_url(lambda address: "account=civ1" in address)
    page.wait_for_load_state("load")


def submit_form(form) -> str:
    """Submit an action form and wait for its call to settle; the text of its status box."""
    box = form.locator(".tx-status")
    box.evaluate("(box) => box.removeAttribute('data-state')")  # forget an earlier call's outcome
    form.locator("button[type=submit]").click()
    form.locator(".tx-status[data-state=committed], .tx-status[data-state=failed], "
                 ".tx-status[data-state=error]").wait_for()
    return box.inner_text()


def local_time(page, minutes_from_now: int) -> str:
    """A datetime-local field's value for the next whole minute plus ``minutes_from_now``."""
    return page.evaluate("""async (m) => {
        const civic = await import("/static/civic.js");
        return civic.localInputValue(Math.floor((Date.now() + m * 60000) / 60000) * 60000);
    }""", minutes_from_now)


def post_volunteer_request(page, node_server, task: str, *, place: str, skills: str) -> str:
    """As the welfare centre's manager (the page's wallet), post a one-slot request that starts
    in about three minutes and lasts an hour; its request id."""
    open_account_page(page, node_server.url + "/console/volunteer")
    form = page.locator("#org-welfare form.post-request")
    form.locator("[name=task]").fill(task)
    form.locator("[name=place]").fill(place)
    starts = local_time(page, 3)
    form.locator("[name=deadline_ms]").fill(starts)
    form.locator("[name=start_ms]").fill(starts)
    form.locator("[name=end_ms]").fill(local_time(page, 63))
    form.locator("[name=slots]").fill("1")
    form.locator("[name=skills]").fill(skills)
    form.locator("button[type=submit]").click()
    row = page.locator("#org-welfare tr[data-request]", has_text=task)
    row.wait_for()
    return row.get_attribute("data-request")


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot (of the whole page, or of the viewport) as a test artefact; its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")
    return path


PKCS8_ED25519_PREFIX = "302e020100300506032b657004220420"
"""DER prefix of a PKCS #8 Ed25519 private key; the 32-byte seed follows."""


def demo_wallet(node_server, name: str):
    """A demo key of the running ``civic up --demo`` node (``minji``, ``nowon-admin``, …)."""
    from civicledger.cli.demo import DEMO_PASSPHRASE
    from civicledger.cli.workspace import Workspace
    from civicledger.sdk import Wallet

    return Wallet.load(Workspace(node_server.data).key_path(name), DEMO_PASSPHRASE)


def use_key(page, node_server, wallet) -> str:
    """Put ``wallet``'s key into this browser profile's wallet, as the wallet page keeps it
    (non-extractable, in IndexedDB), so a test can act as a demo operator; returns the address.

    Test set-up only: people bring a key through the wallet page's import.
    """
    page.goto(node_server.url + "/wallet")
    address = page.evaluate("""async ([seedHex, address]) => {
        const civic = await import("/static/civic.js");
        const pkcs8 = civic.concat(civic.fromHex(arguments_prefix), civic.fromHex(seedHex));
        const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, {name: "Ed25519"}, false, ["sign"]);
        const publicKey = civic.fromHex(address.publicKey);
        const db = await new Promise((resolve, reject) => {
          const open = indexedDB.open("civicledger", 1);
          open.onupgradeneeded = () => open.result.createObjectStore("keys", {keyPath: "id"});
          open.onsuccess = () => resolve(open.result); open.onerror = () => reject(open.error);
        });
        await new Promise((resolve, reject) => {
          const tx = db.transaction("keys", "readwrite");
          tx.objectStore("keys").put({id: "default", keys: {privateKey}, publicKey, address: address.text,
                                      created: Date.now()});
          tx.oncomplete = resolve; tx.onerror = () => reject(tx.error);
        });
        db.close();
        return (await (await import("/static/wallet.js")).load()).address;
    }""".replace("arguments_prefix", f'"{PKCS8_ED25519_PREFIX}"'),
        [wallet.keypair.seed.hex(), {"publicKey": wallet.public_key.hex(), "text": wallet.address_text}])
    assert address == wallet.address_text
    return address
