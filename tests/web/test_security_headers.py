"""The node's security headers (web/security.py), and the portal working under its policy.

Every answer carries a strict Content-Security-Policy, ``nosniff`` and a same-origin referrer
policy. In Chromium every portal page loads without a single policy violation or console error,
and a wallet made in the browser (its Argon2id backup compiled as WebAssembly in a worker) signs
a transfer the node checks and executes. The templates hold nothing the policy would refuse.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from civicledger.web.security import POLICY, policy
from tests.web.conftest import PHONE, profile
from tests.web.portal_pages import demo_address, portal_pages, with_language

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "civicledger" / "web" / "templates"

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
  `${e.effectiveDirective} refused ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));
"""


def test_every_answer_carries_the_headers(server):
    for path in ("/", "/wallet", "/no/such/page", "/static/style.css", "/static/keyfile-worker.js",
                 "/v1/chain", "/v1/no/such/route", "/docs", "/openapi.json"):
        headers = httpx.get(server.url + path, timeout=10).headers
        assert headers["content-security-policy"] == policy(path), path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path


def test_the_policy_is_strict():
    page = policy("/")
    for rule in ("default-src 'self'", "script-src 'self';", "style-src 'self';", "object-src 'none'",
                 "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"):
        assert rule in page + ";", rule
    assert "unsafe-inline" not in page and "unsafe-eval" not in page and "*" not in page
    assert "http" not in page, "nothing from elsewhere"
    assert "'wasm-unsafe-eval'" in policy("/static/keyfile-worker.js"), "the worker's Argon2id is WebAssembly"
    assert "'wasm-unsafe-eval'" not in page
    assert set(POLICY) >= {"default-src", "script-src", "style-src", "img-src", "connect-src", "font-src"}


def test_templates_hold_no_inline_script_style_or_handler():
    for template in TEMPLATES.rglob("*.html"):
        html = template.read_text()
        name = template.relative_to(TEMPLATES)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, f"{name}: inline script {tag}"
        assert not re.search(r"<style\b", html), f"{name}: a <style> block"
        assert not re.search(r"\sstyle=", html), f"{name}: a style attribute"
        assert not re.search(r"\son[a-z]+=", html), f"{name}: an inline event handler"


def watched(page) -> list[str]:
    """Console errors and failed loads of ``page`` from now on (policy violations are kept in
    the page). The demo's hazard report names a photo the demo never uploads, so that photo's
    404 is expected."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and "/v1/blobs/" not in response.url else None)
    page.add_init_script(WATCH)
    return errors


def settle(page) -> list[str]:
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => new Promise((done) => requestAnimationFrame(done)))")
    return page.evaluate("window.__violations")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_portal_page_works_under_the_policy(browser, server, lang):
    with profile(browser, PHONE) as page:
        errors = watched(page)
        for portal_page in portal_pages(server):
            response = page.goto(server.url + with_language(portal_page.path, lang))
            assert response is not None and "content-security-policy" in response.headers
            assert settle(page) == [], portal_page.name
            if portal_page.name == "not-found":
                errors[:] = [e for e in errors if not e.startswith(f"404 {server.url}{portal_page.path}")]
            assert errors == [], (portal_page.name, errors)
            errors.clear()


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_documentation_works_under_the_policy(browser, server, path):
    with profile(browser) as page:
        errors = watched(page)
        page.goto(server.url + path)
        page.locator(".opblock, [data-section-id^='operation/']").first.wait_for()
        # Refused on purpose (security.py): ReDoc's logo from elsewhere, its blob: search worker.
        refused = ("img-src refused https://cdn.redoc.ly/", "worker-src refused blob")
        assert [v for v in settle(page) if not v.startswith(refused)] == []
        assert [e for e in errors if "Content Security Policy" not in e] == []


def test_a_wallet_made_under_the_policy_backs_up_and_signs(browser, server):
    with profile(browser, PHONE, timeout_ms=60_000) as page:
        errors = watched(page)
        page.goto(server.url + "/wallet")
        page.fill("#new-passphrase", "a long enough passphrase")
        page.fill("#new-passphrase-again", "a long enough passphrase")
        page.click("#create-wallet")
        page.wait_for_function("() => document.getElementById('wallet-address').textContent"
                               ".startsWith('civ1')")
        page.locator("a[download]").first.wait_for()  # the sealed backup: Argon2id ran in the worker
        assert settle(page) == []
        page.goto(server.url + "/wallet/send")
        page.wait_for_selector("#send-form:not([hidden])")
        page.fill("#recipient", demo_address(server, "minji"))
        page.fill("#amount", "1")
        page.click("#send-button")
        page.wait_for_selector("#tx-status[data-state=failed]")  # signed, accepted, executed: no funds
        assert settle(page) == [] and errors == []
