"""The web portal: public explorer, transparency dashboards and the citizens' browser wallet.

Server-rendered pages (FastAPI + Jinja2) in Korean and English, served by the
node's own gateway at ``/`` with their scripts and styles at ``/static``; no
build step and nothing fetched from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

STATIC_DIR = Path(__file__).with_name("static")
STATIC_PREFIX = "/static"


def install(app: FastAPI) -> None:
    """Serve the portal's pages and static files from ``app``, and its own page for a path that
    names nothing outside the API (which keeps its JSON 404).

    Call after the gateway's error handlers are installed: the portal's 404 hands every other
    error back to them.
    """
    from civicledger.gateway import API_PREFIX
    from civicledger.web import console, docs, pages, security, service_console, services, volunteer
    from civicledger.web.render import no_page

    for area in (pages, services, volunteer, console, service_console, docs):
        app.include_router(area.router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")

    api_error = app.exception_handlers.get(HTTPException)
    if api_error is None:
        raise RuntimeError("install the gateway's error handlers before the portal")

    def is_api(path: str) -> bool:
        return any(path == prefix or path.startswith(prefix + "/") for prefix in (API_PREFIX, STATIC_PREFIX))

    async def portal_404(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if error.status_code == 404 and request.method in ("GET", "HEAD") and not is_api(request.url.path):
            return no_page(request)
        return await api_error(request, error)

    app.add_exception_handler(HTTPException, portal_404)
    security.install(app)
