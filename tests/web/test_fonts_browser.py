"""Korean text renders with the portal's own font, on a machine that has no Korean font at all.

Chromium runs here with a fontconfig that offers only the system fonts without Korean (so
neither fonts-nanum nor any other CJK font can help), and Chromium itself says which font drew
each text (DevTools' ``CSS.getPlatformFontsForNode``): every glyph of a Korean heading and of Korean
body text must come from the vendored Noto Sans KR web font.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, screenshot

FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>{fonts}</dir><cachedir>{cache}</cachedir></fontconfig>
"""


def font_files(*pattern: str) -> set[str]:
    listed = subprocess.run(["fc-list", *pattern, "--format", "%{file}\\n"], capture_output=True,
                            text=True, check=True).stdout
    return {line for line in listed.splitlines() if line}


def fonts_without_korean(folder: Path) -> int:
    """Link every system font that has no Korean into ``folder``; how many there are."""
    if shutil.which("fc-list") is None:
        pytest.skip("fc-list is missing (Debian's fontconfig): cannot tell which fonts hold Korean")
    korean = font_files(":lang=ko") | font_files(":lang=ja") | font_files(":lang=zh-cn")
    kept = sorted(font_files() - korean)
    for n, file in enumerate(kept):
        (folder / f"{n}-{Path(file).name}").symlink_to(file)
    return len(kept)


@pytest.fixture(scope="module")
def bare_browser(tmp_path_factory) -> Iterator[object]:
    """Chromium on a fontconfig whose fonts hold no Korean: only a web font can draw Hangul."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does) to run browser tests")
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("fontconfig")
    fonts = folder / "fonts"
    fonts.mkdir()
    assert fonts_without_korean(fonts) > 0, "Chromium needs some font to start"
    config = folder / "fonts.conf"
    config.write_text(FONTCONFIG.format(fonts=fonts, cache=folder / "cache"))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            env={**os.environ, "FONTCONFIG_FILE": str(config), "FONTCONFIG_PATH": str(folder)})
        try:
            yield chromium
        finally:
            chromium.close()


def fonts_drawing(page, selector: str) -> list[dict]:
    """The fonts Chromium used for the text of the element at ``selector``, with glyph counts."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    assert node, f"nothing matches {selector}"
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


@pytest.mark.parametrize(("path", "selector", "weight"), [
    ("/", "h1", "700"),
    ("/transparency", "main > p", "400"),
])
def test_hangul_is_drawn_by_the_vendored_font_without_any_system_font(bare_browser, server, path,
                                                                    selector, weight):
    context = bare_browser.new_context(viewport=PHONE, locale="ko-KR")
    try:
        page = context.new_page()
        page.goto(server.url + path + "?lang=ko")
        page.evaluate("document.fonts.ready")
        text = page.locator(selector).first.inner_text()
        assert any("\uac00" <= c <= "\ud7a3" for c in text), f"{selector} on {path} holds Hangul: {text!r}"
        used = fonts_drawing(page, selector)
        # The files are instances of Noto Sans KR's variable font, named "Noto Sans KR Thin" inside.
        assert all(f["isCustomFont"] and f["familyName"].startswith("Noto Sans KR") for f in used), used
        visible = len("".join(text.split()))
        assert sum(f["glyphCount"] for f in used) >= visible, "every visible glyph (a space at a wrap is not)"
        loaded = page.evaluate("""() => [...document.fonts].filter((f) => f.status === "loaded")
            .map((f) => `${f.family.replaceAll('"', '')} ${f.weight} ${f.unicodeRange.slice(0, 6)}`)""")
        assert f"Noto Sans KR {weight} U+1100" in loaded, loaded
        assert page.evaluate("(w) => document.fonts.check(`${w} 16px 'Noto Sans KR'`, '가나다')", weight)
        screenshot(page, f"no-system-fonts{path.replace('/', '-') or '-'}")
    finally:
        context.close()


def test_hangul_without_the_web_font_would_not_be_drawn_at_all(bare_browser, server):
    """The check above can fail: a family with no web font has no glyph for Hangul here."""
    context = bare_browser.new_context(viewport=PHONE, locale="ko-KR")
    try:
        page = context.new_page()
        page.goto(server.url + "/?lang=ko")
        page.evaluate("document.fonts.ready")
        page.evaluate("document.querySelector('h1').style.fontFamily = 'sans-serif'")
        used = fonts_drawing(page, "h1")
        assert not any(f["isCustomFont"] for f in used), used
    finally:
        context.close()
