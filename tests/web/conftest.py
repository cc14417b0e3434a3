"""Fixtures for the portal: the gateway app in-process, and a real node with a real Chromium.

Browser tests drive Debian's ``chromium`` (``/usr/bin/chromium``) through Playwright; no browser
is ever downloaded. They are skipped, saying why, only where that binary is missing (``.ci/run``
installs it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh browser profile (its own IndexedDB and cookies) with a phone-or-desktop page."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR")
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(20_000)
    try:
        yield page
        assert errors == [], f"script errors on the page: {errors}"
    finally:
        context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as a test artefact and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
