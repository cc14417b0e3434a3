"""The web portal: public explorer, transparency dashboards and the citizens' browser wallet.

Server-rendered pages (FastAPI + Jinja2) in Korean and English, served by the
node's own gateway at ``/`` with their scripts and styles at ``/static``; no
build step and nothing fetched from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).with_name("static")


def install(app: FastAPI) -> None:
    """Serve the portal's pages and static files from ``app``."""
    from civicledger.web import console, docs, pages, service_console, services, volunteer

    for area in (pages, services, volunteer, console, service_console, docs):
        app.include_router(area.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
