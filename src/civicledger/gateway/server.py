"""Running the gateway with uvicorn on the node's own process."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from civicledger.gateway.app import create_app
from civicledger.gateway.config import GatewayConfig
from civicledger.node.blobs import BlobStore
from civicledger.node.node import Node
from civicledger.node.peer import Peer

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


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, each response written in one piece."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]


def server(node: Node, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
           config: GatewayConfig | None = None, blobs: BlobStore | None = None,
           consortium: Peer | None = None) -> uvicorn.Server:
    """A uvicorn server for ``node``'s gateway; ``run()`` serves until SIGINT or SIGTERM."""
    app = create_app(node, config, blobs=blobs, consortium=consortium)
    return uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False,
        http=HttpProtocol, loop="uvloop", timeout_graceful_shutdown=5,
    ))
