"""How errors look over HTTP: ``{"error": {"code", "message"}}`` and a status code.

Status codes are assigned here and nowhere else. The code is the error's own
stable code (see ``core.errors``); the status only groups them for HTTP.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from civicledger.core.errors import (
    Busy,
    CivicError,
    Conflict,
    InsufficientFunds,
    InvalidTransaction,
    LimitExceeded,
    NodeFault,
    NotFound,
    Replayed,
    Unauthorized,
    UnknownCall,
)
from civicledger.gateway.models import PATH_CODES

RETRY_AFTER_S = 1


class ApiError(CivicError):
    """A refusal that only HTTP knows: body too large, too many requests, bad route input."""

    def __init__(self, status: int, message: str, *, code: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.headers = headers or {}


_STATUS: tuple[tuple[type[CivicError], int], ...] = (
    (UnknownCall, 422),
    (InvalidTransaction, 400),
    (Unauthorized, 403),
    (NotFound, 404),
    (Replayed, 409),
    (Conflict, 409),
    (InsufficientFunds, 409),
    (LimitExceeded, 409),
    (Busy, 503),
    (NodeFault, 503),
)


def status_of(error: CivicError) -> int:
    if isinstance(error, ApiError):
        return error.status
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 400


def body(error: CivicError) -> dict[str, Any]:
    return {"error": {"code": error.code, "message": error.message}}


def response(error: CivicError) -> JSONResponse:
    headers = dict(error.headers) if isinstance(error, ApiError) else {}
    if isinstance(error, Busy):
        headers["Retry-After"] = str(RETRY_AFTER_S)
    return JSONResponse(body(error), status_code=status_of(error), headers=headers)


def install(app: FastAPI, on_refusal: Any) -> None:
    """Answer every error in the one shape; ``on_refusal(code)`` counts them. A body that is
    not strict JSON is refused before routing (``jsonbody.StrictJson``), so it gets 400
    ``malformed_json`` on every route, not FastAPI's 400 or 422 depending on the fault."""
    from civicledger.gateway.jsonbody import StrictJson  # it builds on this module

    app.add_middleware(StrictJson, on_refusal=on_refusal)

    async def civic(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, CivicError)
        on_refusal(error.code)
        return response(error)

    async def validation(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        first = error.errors()[0] if error.errors() else {}
        loc = tuple(first.get("loc", ()))
        where = ".".join(str(p) for p in loc)
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
        code = PATH_CODES.get(str(loc[1]), "invalid_request") if loc[:1] == ("path",) and len(
            loc) > 1 else "invalid_request"
        on_refusal(code)
        return JSONResponse({"error": {"code": code, "message": message}}, 422)

    async def http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        code = {404: "no_route", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        on_refusal(code)
        return JSONResponse({"error": {"code": code, "message": str(error.detail)}},
                            error.status_code, headers=getattr(error, "headers", None))

    app.add_exception_handler(CivicError, civic)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http)
