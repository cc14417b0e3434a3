"""The gateway application: one node, its routers, errors, limits and metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.types import Receive, Scope, Send

from civicledger import __version__
from civicledger.gateway import errors
from civicledger.gateway.admission import Admission
from civicledger.gateway.config import GatewayConfig
from civicledger.gateway.errors import ApiError
from civicledger.gateway.events import EventHub
from civicledger.gateway.lean import LeanSubmit
from civicledger.gateway.limits import BodyLimit
from civicledger.gateway.metrics import Metrics
from civicledger.gateway.models import ErrorBody
from civicledger.gateway.ratelimit import RateLimiter
from civicledger.gateway.submission import CommitWaits
from civicledger.node.blobs import MAX_BLOB_BYTES, BlobStore
from civicledger.node.devclock import DevClock
from civicledger.node.node import Node
from civicledger.node.peer import Peer

API_PREFIX = "/v1"
SUBMIT_PATH = f"{API_PREFIX}/transactions"
BATCH_PATH = f"{API_PREFIX}/transactions/batch"
BLOBS_PATH = f"{API_PREFIX}/blobs"

DESCRIPTION = """\
Every function of a CivicLedger node over HTTP.

* **Clients sign.** Build a transaction, sign it with your Ed25519 key and submit
  the envelope (base64). The gateway never holds anyone's key.
* **Refusals carry a code.** Every error body is `{"error": {"code", "message"}}`;
  the code is stable (`bad_signature`, `wrong_chain`, `expired`, `unknown_method`,
  `busy`, `rate_limited`, …) and the message is for people.
* **Bytes as text.** Addresses are `civ1…`, ids and hashes lowercase hex,
  envelopes base64. Amounts are integers in minor units.
* **Live events** stream over Server-Sent Events at `/v1/events`, resumable with
  `Last-Event-ID`.
"""


@dataclass
class Gateway:
    """What every route needs, kept on ``app.state.gateway``."""

    node: Node
    config: GatewayConfig
    hub: EventHub
    metrics: Metrics
    limiter: RateLimiter
    admission: Admission
    blobs: BlobStore | None
    waits: CommitWaits = field(default_factory=CommitWaits)
    dev_clock: DevClock | None = None
    """The orderer's clock on a dev chain (``civic up --dev-clock``); None elsewhere."""
    consortium: Peer | None = None
    """The consortium peer this node runs as, if it is one (else the node orders solo)."""

    def client_of(self, request: Request) -> str:
        return self.client_of_scope(request.scope)

    def client_of_scope(self, scope: Scope) -> str:
        """Who is asking, for rate limiting: the peer, or the proxy's X-Forwarded-For if trusted."""
        if self.config.trust_forwarded:
            forwarded = next((v for k, v in scope["headers"] if k == b"x-forwarded-for"), b"")
            if forwarded:
                return forwarded.decode("latin-1").split(",")[0].strip()
        client = scope.get("client")
        return client[0] if client else "unknown"

    def charge(self, client: str, cost: int = 1) -> None:
        """Spend ``cost`` of ``client``'s rate; refuse with 429 ``rate_limited`` when it runs out."""
        wait = self.limiter.take(client, cost)
        if wait > 0:
            raise ApiError(429, f"too many requests; retry in {wait:.1f} s", code="rate_limited",
                           headers={"Retry-After": self.limiter.retry_after(wait)})


def gateway_of(request: Request) -> Gateway:
    """The ``Gateway`` serving ``request`` (the routes' and the portal's way to the node)."""
    gateway: Gateway = request.app.state.gateway
    return gateway


class GatewayApp(FastAPI):
    """The FastAPI application, whose submit routes are answered first by lean endpoints.

    ``lean`` serves well-formed ``POST`` submissions without FastAPI's per-request work
    and hands everything else to ``full``, the whole FastAPI application (see
    ``lean.py``). The OpenAPI document comes from the FastAPI routes, which describe both.
    """

    lean: LeanSubmit | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lean = self.lean
        if lean is not None and lean.serves(scope):
            await lean(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def full(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The whole FastAPI application, lean endpoints aside."""
        await super().__call__(scope, receive, send)


def create_app(node: Node, config: GatewayConfig | None = None, *,
               blobs: BlobStore | None = None, data_dir: Path | None = None,
               dev_clock: DevClock | None = None, consortium: Peer | None = None) -> GatewayApp:
    """The FastAPI application for ``node`` (started or not; routes need it started).

    ``blobs``: where uploaded photos are kept; without it the blob routes answer 503.
    ``data_dir``: the node's data directory, whose free space ``/metrics`` reports.
    ``dev_clock``: the orderer's clock if it may be moved forward (``/v1/dev/advance-time``).
    ``consortium``: the peer ``node`` belongs to, on a consortium member's peer.
    """
    from civicledger import web
    from civicledger.gateway.routes import (
        accounts,
        blocks,
        chain,
        contracts,
        dev,
        stream,
        transactions,
    )
    from civicledger.gateway.routes import (
        blobs as blob_routes,
    )

    config = config or GatewayConfig()
    gateway = Gateway(
        node, config, EventHub(node.store, config.stream_queue_bytes), Metrics(node, data_dir),
        RateLimiter(config.rate_per_s, config.burst), Admission(node, config.max_batch),
        blobs, dev_clock=dev_clock, consortium=consortium,
    )
    if consortium is not None:
        gateway.metrics.watch_peer(consortium.status)
    node.on_commit(gateway.hub.publish)
    node.on_commit(gateway.metrics.on_commit)
    app = GatewayApp(
        title="CivicLedger gateway", version=__version__, description=DESCRIPTION,
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",  # docs: web/docs.py
        responses={
            400: {"model": ErrorBody, "description": "Refused: malformed, unsigned, expired, …"},
            403: {"model": ErrorBody, "description": "The signers lack a needed role"},
            404: {"model": ErrorBody, "description": "No such route, contract, block, …"},
            409: {"model": ErrorBody, "description": "Replayed, or in conflict with the state"},
            413: {"model": ErrorBody, "description": "Body too large"},
            422: {"model": ErrorBody, "description": "Arguments off-schema"},
            429: {"model": ErrorBody, "description": "Rate limited; see Retry-After"},
            503: {"model": ErrorBody, "description": "Busy or faulted; see Retry-After"},
        },
    )
    app.state.gateway = gateway
    errors.install(app, gateway.metrics.refusal)
    for module in (chain, transactions, blocks, accounts, contracts, stream, blob_routes, dev):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(chain.ops)
    web.install(app)
    limits = {BATCH_PATH: config.max_batch_bytes, BLOBS_PATH: MAX_BLOB_BYTES}
    app.add_middleware(BodyLimit, default=config.max_body_bytes, larger=limits)
    app.lean = LeanSubmit(gateway, app.full, single=(SUBMIT_PATH, config.max_body_bytes),
                          batch=(BATCH_PATH, config.max_batch_bytes))
    return app
