"""Lean ASGI endpoints for the two submit routes, the gateway's busiest.

FastAPI spends about a millisecond of interpreter time per request on routing,
dependency solving, validation and its middleware stack: more than admitting
the transaction costs. These endpoints answer ``POST /v1/transactions`` and
``POST /v1/transactions/batch`` directly when the request is plainly
well-formed: a JSON content type, a body that is exactly
``{"envelope": "<text>"}`` (or ``{"envelopes": [...]}``) within the schema's
limits, and query parameters that validate. Anything else is handed, body and
all, to the FastAPI route, so every malformed request is refused exactly as
the documented route refuses it (same code, status and message). A body that is
not strict JSON is refused here as everywhere: 400 ``malformed_json``.

What a well-formed request gets is the same too: the rate limit is charged
first (as the routes' dependency does), the work is ``submission.py``'s, and
refusals are answered through ``errors.response`` and counted in the metrics.
The body limit applies here as everywhere (the same limits, read by ``limits.read_body``).

Who wins is decided before anything is charged or admitted, so a request is
charged once, by whichever door serves it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from pydantic import TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from civicledger.core.errors import CivicError
from civicledger.gateway import errors, jsonbody, submission
from civicledger.gateway.limits import read_body, replay
from civicledger.gateway.models import MAX_BATCH_ENVELOPES, MAX_ENVELOPE_TEXT

if TYPE_CHECKING:
    from civicledger.gateway.app import Gateway

JSON = b"application/json"
MAX_CACHED_QUERIES = 1024

_WAIT = TypeAdapter(submission.Wait)
_TIMEOUT = TypeAdapter(submission.TimeoutMs)
_NOT_FOUND = object()

Handler = Callable[[Scope, Any, bytes], Awaitable[tuple[int, bytes] | None]]
"""(scope, query, body) → (status, JSON body), or None: not plainly well-formed."""


class LeanSubmit:
    """The ASGI app for the submit paths; ``fallback`` (the FastAPI app) serves what it declines."""

    def __init__(self, gateway: Gateway, fallback: ASGIApp, *, single: tuple[str, int],
                 batch: tuple[str, int]) -> None:
        """``single`` and ``batch``: each route's path and body limit."""
        self.gateway = gateway
        self.fallback = fallback
        self.routes: dict[str, tuple[Handler, int, int]] = {
            single[0]: (self._single, submission.SINGLE_TIMEOUT_MS, single[1]),
            batch[0]: (self._batch, submission.BATCH_TIMEOUT_MS, batch[1]),
        }
        self._queries: dict[tuple[bytes, int], tuple[bool, int] | None] = {}

    def serves(self, scope: Scope) -> bool:
        return scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler, default_timeout, limit = self.routes[scope["path"]]
        body = await read_body(scope, receive, send, limit)
        if body is None:
            return  # refused as too large, or the client went away
        query = self._query(scope["query_string"], default_timeout)
        if query is None or not _json_typed(scope):
            await self.fallback(scope, replay(body, receive), send)
            return
        try:
            answer = await handler(scope, query, body)
        except CivicError as error:
            self.gateway.metrics.refusal(error.code)
            await errors.response(error)(scope, receive, send)
            return
        if answer is None:
            await self.fallback(scope, replay(body, receive), send)
            return
        status, content = answer
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", str(len(content)).encode()),
                                (b"content-type", JSON)]})
        await send({"type": "http.response.body", "body": content})

    async def _single(self, scope: Scope, query: tuple[bool, int], body: bytes) -> tuple[int, bytes] | None:
        value = _json(body)
        if type(value) is not dict or len(value) != 1:
            return None
        text = value.get("envelope")
        if type(text) is not str or len(text) > MAX_ENVELOPE_TEXT:
            return None
        self.gateway.charge(self.gateway.client_of_scope(scope))
        return await submission.submit_one(self.gateway, text, *query)

    async def _batch(self, scope: Scope, query: tuple[bool, int], body: bytes) -> tuple[int, bytes] | None:
        value = _json(body)
        if type(value) is not dict or len(value) != 1:
            return None
        texts = value.get("envelopes")
        if (type(texts) is not list or not 1 <= len(texts) <= MAX_BATCH_ENVELOPES
                or any(type(t) is not str for t in texts)):
            return None
        client = self.gateway.client_of_scope(scope)
        self.gateway.charge(client)
        return 200, await submission.submit_batch(self.gateway, client, texts, *query)

    def _query(self, raw: bytes, default_timeout: int) -> tuple[bool, int] | None:
        """(wait, timeout_ms) as the route's parameters validate them; None if they do not.

        Clients repeat the same few query strings, so the verdicts are kept.
        """
        key = (raw, default_timeout)
        found = self._queries.get(key, _NOT_FOUND)
        if found is not _NOT_FOUND:
            return found  # type: ignore[return-value]
        params = dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
        try:
            parsed: tuple[bool, int] | None = (
                _WAIT.validate_python(params["wait"]) if "wait" in params else False,
                _TIMEOUT.validate_python(params["timeout_ms"]) if "timeout_ms" in params
                else default_timeout,
            )
        except ValidationError:
            parsed = None
        if len(self._queries) >= MAX_CACHED_QUERIES:
            self._queries.clear()
        self._queries[key] = parsed
        return parsed


def _json_typed(scope: Scope) -> bool:
    """Whether the request says its body is JSON, plainly (parameters: the route decides)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.lower() == JSON
    return False


def _json(body: bytes) -> Any:
    """The body's value, read as every route reads it (``jsonbody.loads``: ApiError 400
    ``malformed_json`` or ``duplicate_key`` if it is not strict JSON); None for no body at
    all, which the route refuses as a missing one."""
    return jsonbody.loads(body) if body else None
