"""Refusing oversized bodies before they are read into memory (an ASGI middleware)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """Answer 413 ``body_too_large`` when a body passes its route's limit.

    The body is read here, up to the limit, and handed on whole: a chunked
    upload that grows past the limit is refused as surely as a declared one.
    """

    def __init__(self, app: App, default: int, larger: dict[str, int]) -> None:
        self.app = app
        self.default = default
        self.larger = larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        body = await read_body(scope, receive, send, self.larger.get(scope["path"], self.default))
        if body is not None:
            await self.app(scope, replay(body, receive), send)


async def read_body(scope: Scope, receive: Receive, send: Send, limit: int) -> bytes | None:
    """The whole request body; None once 413 has been answered or the client went away."""
    declared = None
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            declared = value
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        await _refuse(send, limit)
        return None
    message = await receive()
    if message["type"] != "http.request":
        return None  # the client went away
    body = message.get("body", b"")
    if len(body) > limit:
        await _refuse(send, limit)
        return None
    if not message.get("more_body", False):
        return body
    chunks, size = [body], len(body)
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            await _refuse(send, limit)
            return None
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then whatever the client sends next."""
    delivered = False

    async def again() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"error": {
        "code": "body_too_large", "message": f"the request body is larger than {limit} bytes",
    }}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
