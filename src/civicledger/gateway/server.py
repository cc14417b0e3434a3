"""Running the gateway with uvicorn on the node's own process."""

from __future__ import annotations

import uvicorn

from civicledger.gateway.app import create_app
from civicledger.gateway.config import GatewayConfig
from civicledger.node.blobs import BlobStore
from civicledger.node.node import Node

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8700


def server(node: Node, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
           config: GatewayConfig | None = None, blobs: BlobStore | None = None) -> uvicorn.Server:
    """A uvicorn server for ``node``'s gateway; ``run()`` serves until SIGINT or SIGTERM."""
    app = create_app(node, config, blobs=blobs)
    return uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False,
        http="httptools", loop="uvloop", timeout_graceful_shutdown=5,
    ))
