"""The HTTP gateway: every ledger function over HTTP, served on the node's process.

``create_app(node)`` builds the FastAPI application; ``serve`` runs it with
uvicorn. Clients sign; the gateway checks what it can judge from the bytes
alone (size, encoding, signatures, chain id, expiry, contract and method)
before anything is ordered, and answers every refusal with a stable code.
"""

from civicledger.gateway.app import API_PREFIX, create_app, gateway_of
from civicledger.gateway.config import GatewayConfig

__all__ = ["API_PREFIX", "GatewayConfig", "create_app", "gateway_of"]
