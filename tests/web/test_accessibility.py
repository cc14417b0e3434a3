"""Every portal page passes axe-core's WCAG 2.0/2.1 A and AA rules (which KWCAG, the Korean
public web's standard, follows) on a 390-px phone, in Korean and in English.

axe-core is vendored for the tests only (tests/web/vendor/, pinned by test_vendored.py) and run
in Chromium through DevTools' evaluation, which the pages' Content-Security-Policy does not
govern. Also here: an unknown path gets the portal's own 404 page in the reader's language,
while the API keeps its JSON 404.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import PHONE, profile
from tests.web.portal_pages import portal_pages, with_language

AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return {version: axe.version, violations: result.violations.map((v) => ({
    rule: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}))};
}"""


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_portal_page_has_no_wcag_violation(browser, server, lang):
    source = AXE.read_text()
    found = {}
    with profile(browser, PHONE) as page:
        for portal_page in portal_pages(server):
            page.goto(server.url + with_language(portal_page.path, lang))
            page.wait_for_load_state("load")
            page.evaluate(source)
            result = page.evaluate(RUN, WCAG_A_AA)
            assert result["version"] == "4.14.1"
            if result["violations"]:
                found[portal_page.name] = result["violations"]
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


@pytest.mark.parametrize(("lang", "title", "text"), [
    ("ko", "찾을 수 없습니다 · 시빅레저 서울", "해당하는 페이지가 없습니다"),
    ("en", "Not found · CivicLedger Seoul", "There is no page at"),
])
def test_an_unknown_path_gets_the_portals_404_page_in_the_readers_language(server, lang, title, text):
    response = httpx.get(f"{server.url}/no/such/page?lang={lang}", timeout=10)
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in response.text and f"<title>{title}</title>" in response.text
    assert text in response.text and "/no/such/page" in response.text
    remembered = httpx.get(f"{server.url}/nope", cookies={"lang": lang}, timeout=10)
    assert f'<html lang="{lang}">' in remembered.text, "the remembered language"


@pytest.mark.parametrize("path", ["/v1/no/such/route", "/v1", "/static/no-such-file.js"])
def test_the_api_and_static_files_keep_their_json_404(server, path):
    response = httpx.get(server.url + path, timeout=10)
    assert response.status_code == 404 and response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "no_route"


def test_other_methods_on_unknown_paths_keep_the_api_answer(server):
    response = httpx.post(f"{server.url}/no/such/page", timeout=10)
    assert response.status_code == 404 and response.json()["error"]["code"] == "no_route"


def test_a_wide_value_on_the_transaction_page_is_reachable_by_keyboard(browser, server):
    tx = next(p for p in portal_pages(server) if p.name == "tx")
    with profile(browser, PHONE) as page:
        page.goto(server.url + tx.path)
        blocks = page.locator("pre.json")
        assert blocks.count() > 0
        for i in range(blocks.count()):
            block = blocks.nth(i)
            assert block.get_attribute("tabindex") == "0" and block.get_attribute("aria-label")
        blocks.first.focus()
        assert page.evaluate("document.activeElement.matches('pre.json')")
