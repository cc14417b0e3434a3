"""Reading JSON request bodies strictly, one way for every route.

A body that cannot be read as one JSON value is refused with 400
``malformed_json``, whatever is wrong with it: bytes that are not UTF-8, text
that is not JSON (truncated, random), nesting deeper than ``MAX_DEPTH``, an
integer longer than ``MAX_INT_DIGITS`` digits, or ``NaN``/``Infinity`` (not
JSON). A body whose object repeats a key is refused with 400 ``duplicate_key``:
parsers disagree on which copy wins, so the gateway takes neither. Only then do
the routes' schemas judge the value (422 ``invalid_request`` when it is off
them).

``StrictJson`` applies this to every request with a JSON content type
before any route sees it (a body without one is not read as JSON: the routes
refuse it as off-schema). The lean submit endpoints call ``loads`` themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from civicledger.gateway import errors
from civicledger.gateway.limits import App, Receive, Scope, Send, read_body, replay

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects read (ledger values nest at most 16 levels)."""
MAX_INT_DIGITS = 40
"""Longest integer read; every amount and time fits in 20 digits."""
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def malformed(message: str) -> errors.ApiError:
    return errors.ApiError(400, message, code="malformed_json")


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return value


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer longer than {MAX_INT_DIGITS} digits")
    return int(digits)


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _too_deep(value: Any) -> bool:
    """Whether ``value`` nests deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if type(item) is dict else item if type(item) is list else ()
        for child in children:
            if type(child) in (dict, list):
                if depth + 1 > MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def loads(body: bytes) -> Any:
    """The JSON value of ``body``; ApiError 400 ``malformed_json`` or ``duplicate_key`` if the
    body is not one strict JSON value."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise malformed(f"the body is not UTF-8 (byte {error.start})") from None
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_int=_int,
                           parse_constant=_constant)
    except _Duplicate as duplicate:
        raise errors.ApiError(400, f"the key {duplicate.key!r} appears twice in one object",
                              code="duplicate_key") from None
    except RecursionError:
        raise malformed(f"the body nests deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise malformed(f"the body is not JSON: {error.msg} at character {error.pos}") from None
    except ValueError as error:
        raise malformed(f"the body is not JSON: {error}") from None
    if type(value) in (dict, list) and _too_deep(value):
        raise malformed(f"the body nests deeper than {MAX_DEPTH} levels")
    return value


def content_kind(scope: Scope) -> bytes | None:
    """The request's media type, lower case and without parameters; None if it names none."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower()
    return None


def is_json(kind: bytes) -> bool:
    return kind == b"application/json" or kind.endswith(b"+json")


class StrictJson:
    """An ASGI middleware: refuse a request whose JSON body ``loads`` refuses, before routing.

    The body was read within its limit by ``limits.BodyLimit`` outside this middleware; it is
    handed on unchanged.
    """

    def __init__(self, app: App, on_refusal: Callable[[str], None]) -> None:
        self.app = app
        self.on_refusal = on_refusal

    @staticmethod
    def _carries_json(scope: Scope) -> bool:
        kind = content_kind(scope)
        return kind is not None and is_json(kind)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] not in BODY_METHODS
                or not self._carries_json(scope)):
            await self.app(scope, receive, send)
            return
        body = await read_body(scope, receive, send, 2**62)  # the limit was applied outside
        if body is None:
            return
        if body:
            try:
                loads(body)
            except errors.ApiError as error:
                self.on_refusal(error.code)
                await errors.response(error)(scope, receive, send)
                return
        await self.app(scope, replay(body, receive), send)
