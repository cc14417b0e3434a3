"""Security headers on every answer of the node: a strict Content-Security-Policy, no MIME
sniffing, and no full URLs sent as referrers.

The portal's pages hold the citizen's signing key (in the browser), so the policy allows only
what they need, from the node itself:

- scripts from the node's own files only: no inline script, no inline event handler, no
  ``eval``. JSON handed to a page sits in ``<script type="application/json">`` blocks, which
  are data and never run;
- styles from the node's stylesheets only: no ``style`` attribute, no ``<style>`` block (a
  script may still set ``element.style``);
- images from the node, and ``data:`` images (Swagger UI's icons);
- fonts, connections (``fetch``, the event stream) and workers from the node only;
- no plugins, no ``<base>``, no framing by another site, forms sent only to the node.

Two exceptions, each for named paths only:

- the key-file worker (``static/keyfile-worker.js``) may also compile WebAssembly
  (``'wasm-unsafe-eval'``): its Argon2id is hash-wasm's, and a worker runs under the policy of
  its own script's answer;
- the API documentation pages (``/docs``, ``/redoc``; no key, no form of the portal) may also
  apply inline styles: Swagger UI and ReDoc are React bundles that inject their styles (ReDoc
  does not start without). Their scripts still come from the node only: ReDoc's logo from its
  maker's site and its search worker made from a ``blob:`` are refused (the page works without).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
WASM_WORKERS = frozenset({"/static/keyfile-worker.js"})
"""Scripts whose worker compiles WebAssembly."""
INLINE_STYLES = frozenset({"/docs", "/redoc"})
"""Pages whose vendored bundles inject styles."""


def policy(path: str) -> str:
    """The Content-Security-Policy of the answer to ``path``."""
    rules = dict(POLICY)
    if path in WASM_WORKERS:
        rules["script-src"] += " 'wasm-unsafe-eval'"
    if path in INLINE_STYLES:
        rules["style-src"] += " 'unsafe-inline'"
    return "; ".join(f"{name} {value}" for name, value in rules.items())


HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP answer (one that sets its own
    Content-Security-Policy keeps it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = policy(scope["path"]).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp))
                headers.extend(h for h in HEADERS if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI) -> None:
    app.add_middleware(SecurityHeaders)
