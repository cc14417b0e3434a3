"""The API documentation pages work with the network closed: Swagger UI at /docs and ReDoc at
/redoc load everything from the node, and render its OpenAPI document in a real Chromium."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from tests.web.conftest import DESKTOP, profile, screenshot

LOCAL = {"127.0.0.1", "localhost"}


def closed_network(page) -> list[str]:
    """Abort every request that would leave this machine; the list of what was refused."""
    refused: list[str] = []

    def route(route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", route)
    return refused


@pytest.mark.parametrize(("path", "rendered", "name"), [
    ("/docs", ".swagger-ui .opblock-summary-path[data-path='/v1/ready']", "docs-swagger"),
    ("/redoc", "[data-section-id^='operation/'] h2", "docs-redoc"),
])
def test_the_api_documentation_renders_offline(browser, server, path, rendered, name):
    with profile(browser, DESKTOP) as page:
        refused = closed_network(page)
        page.goto(server.url + path)
        page.locator(rendered).first.wait_for()
        assert page.get_by_text("/v1/transactions/batch").count() > 0, "the operations are listed"
        screenshot(page, name, full_page=False)
        # ReDoc's sidebar offers its maker's logo from elsewhere; it is refused and hides itself.
        assert [url for url in refused if "redoc.ly/redoc/logo" not in url] == []


def test_the_documentation_pages_load_only_the_nodes_own_files(server):
    for path in ("/docs", "/redoc"):
        html = httpx.get(server.url + path, timeout=10).text
        assert "http://" not in html and "https://" not in html, f"{path} names no other site"
        assert "<script>" not in html, f"{path} has no inline script"
    for bundle in ("swagger-ui/swagger-ui-bundle.js", "redoc/redoc.standalone.js"):
        assert httpx.get(f"{server.url}/static/vendor/{bundle}", timeout=10).status_code == 200
