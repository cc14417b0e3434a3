"""The API's documentation pages, Swagger UI at ``/docs`` and ReDoc at ``/redoc``, served from
the node's own files (``static/vendor/``), so they work offline and under the portal's
Content-Security-Policy: no script inline, nothing fetched from elsewhere. Each page loads its
bundle and a small starter script (``static/docs.js``) that points it at ``/openapi.json``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from civicledger.web.render import templates

router = APIRouter(include_in_schema=False)

OPENAPI_URL = "/openapi.json"


def _page(request: Request, name: str) -> Response:
    return templates.TemplateResponse(request, name, {
        "title": request.app.title, "openapi_url": OPENAPI_URL,
    })


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> Response:
    return _page(request, "docs/swagger.html")


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> Response:
    return _page(request, "docs/redoc.html")
