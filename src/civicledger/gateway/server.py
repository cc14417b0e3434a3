"""Running the gateway with uvicorn on the node's own process.

What uvicorn leaves to us, done here:

* **A head must arrive in time.** uvicorn closes a kept-alive connection that stays idle
  (``timeout_keep_alive``) but has no deadline for a request's head: a connection that
  sends nothing, or trickles its headers a byte at a time (slowloris), was kept forever.
  ``HttpProtocol`` closes one whose request line and headers are not complete within
  ``GatewayConfig.header_timeout_s`` of connecting (or of the first byte of a later
  request on the same connection), answering 408 if it had begun one; and one whose
  body has not arrived ``body_timeout_s`` after its head.
* **Connections are bounded.** uvicorn's ``limit_concurrency`` answers 503 only once a
  request's head has arrived, so idle connections still take a file descriptor each.
  ``HttpProtocol`` answers a connection beyond ``GatewayConfig.max_connections`` with
  503 ``busy`` at once and closes it.
* **A signal stops the server, not the process.** uvicorn re-raises SIGINT and SIGTERM
  once it has shut down, which killed ``civic up`` before it could stop its node.
  ``GatewayServer`` keeps them: ``run()`` returns, and the caller stops the node.
* **Proxy headers are the gateway's call.** uvicorn trusts X-Forwarded-For from
  127.0.0.1 by default; the gateway alone decides (``GatewayConfig.trust_forwarded``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import signal
import socket
import threading
from collections.abc import Callable, Generator
from types import FrameType
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import HANDLED_SIGNALS

from civicledger.gateway.app import create_app
from civicledger.gateway.config import GatewayConfig
from civicledger.node.blobs import BlobStore
from civicledger.node.node import Node

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8700
FLUSH_AT = 64 * 1024
"""Bytes held back at most before they are written anyway."""


class CoalescingTransport:
    """A transport that gathers what is written during one turn of the event loop into one write.

    uvicorn writes a response's head and body separately: two system calls, and on a
    loopback connection two trips through the TCP stack that the sender pays for. Held
    until the loop turns, they leave as one. Everything else goes to the real transport.
    """

    __slots__ = ("_loop", "_pending", "_size", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None
        self._size = 0

    def write(self, data: bytes) -> None:
        if self._pending is None:
            self._pending = [data]
            self._size = len(data)
            self._loop.call_soon(self.flush)
        else:
            self._pending.append(data)
            self._size += len(data)
        if self._size >= FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


FD_RESERVE = 64
"""File descriptors kept for the node itself (store, blobs, logs) when bounding connections."""


def _answer(status: bytes, message: str, code: str, extra: bytes = b"") -> bytes:
    """A complete response in the API's error shape that closes the connection."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n" + extra
            + b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
            + body)


TOO_MANY = _answer(b"503 Service Unavailable", "too many connections; retry shortly", "busy",
                   b"retry-after: 1\r\n")
TOO_SLOW = _answer(b"408 Request Timeout", "the request head did not arrive in time",
                   "request_timeout")
TOO_SLOW_BODY = _answer(b"408 Request Timeout", "the request body did not arrive in time",
                        "request_timeout")


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, each response written in one piece, with a deadline for
    each request's head and a bound on open connections (set by ``protocol_for``)."""

    header_timeout_s: ClassVar[float] = 10.0
    body_timeout_s: ClassVar[float] = 30.0
    max_connections: ClassVar[int] = 1000
    _head_timer: asyncio.TimerHandle | None = None
    _body_timer: asyncio.TimerHandle | None = None
    _head_begun = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        if len(self.connections) > self.max_connections:
            self.transport.write(TOO_MANY)
            self.transport.close()
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        self._disarm_body_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_begun = True
        if self._head_timer is None:  # a later request on a kept-alive connection
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._head_begun = False
        self._disarm_head_timer()
        super().on_headers_complete()
        self._body_timer = self.loop.call_later(self.body_timeout_s, self._body_too_slow)

    def on_message_complete(self) -> None:
        self._disarm_body_timer()
        super().on_message_complete()

    def _disarm_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_too_slow(self) -> None:
        self._body_timer = None
        if not self.transport.is_closing():
            if self.cycle is not None and not self.cycle.response_started:
                self.transport.write(TOO_SLOW_BODY)
            self.transport.close()

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            if self._head_begun:
                self.transport.write(TOO_SLOW)
            self.transport.close()


def protocol_for(config: GatewayConfig) -> type[HttpProtocol]:
    """``HttpProtocol`` with ``config``'s head deadline and connection bound.

    The bound is lowered to what the process may open (its file limit less ``FD_RESERVE``):
    past that, accepting would fail for want of descriptors instead of answering busy.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    bound = config.max_connections
    if soft != resource.RLIM_INFINITY:
        bound = max(1, min(bound, soft - FD_RESERVE))
    return type("HttpProtocol", (HttpProtocol,), {
        "header_timeout_s": config.header_timeout_s, "body_timeout_s": config.body_timeout_s,
        "max_connections": bound,
    })


class GatewayServer(uvicorn.Server):
    """A uvicorn server whose ``run()`` returns on SIGINT or SIGTERM instead of re-raising it.

    The first signal starts a graceful shutdown: the listener closes, idle connections
    close, requests in flight are answered (for ``timeout_graceful_shutdown`` at most).
    A second SIGINT stops waiting. ``stopped_by`` names the signal that stopped it.
    """

    stopped_by: signal.Signals | None = None

    def __init__(self, config: uvicorn.Config,
                 on_started: Callable[[str], None] | None = None) -> None:
        super().__init__(config)
        self.on_started = on_started
        """Called with the gateway's URL once it listens (an exception stops the server)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.on_started is not None:
            self.on_started(self.url)

    @property
    def url(self) -> str:
        """Where it listens (the port chosen, if 0 was asked for)."""
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.stopped_by is None:
            self.stopped_by = signal.Signals(sig)
        super().handle_exit(sig, frame)


def server(node: Node, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
           config: GatewayConfig | None = None, blobs: BlobStore | None = None, *,
           on_started: Callable[[str], None] | None = None, **options: Any) -> GatewayServer:
    """A uvicorn server for ``node``'s gateway; ``run()`` serves until SIGINT or SIGTERM.

    ``on_started(url)`` runs once it listens; ``options`` go to ``create_app``
    (``data_dir``, ``dev_clock``).
    """
    config = config or GatewayConfig()
    app = create_app(node, config, blobs=blobs, **options)
    return GatewayServer(uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False,
        http=protocol_for(config), loop="uvloop", timeout_graceful_shutdown=5,
        timeout_keep_alive=config.keep_alive_s,  # type: ignore[arg-type]  # a float works
        # uvicorn answers 503 once this many connections *or tasks* exist; connections are
        # bounded by HttpProtocol below it, so this bounds requests in flight (a request
        # whose client left still runs until its commit wait ends).
        limit_concurrency=config.max_connections + 1,
        proxy_headers=False,
    ), on_started)
