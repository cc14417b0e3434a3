"""The chain at a glance, health and readiness (never rate limited), and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from civicledger.gateway import models, views
from civicledger.gateway.routes import gateway_of, rate_limited

router = APIRouter(tags=["chain"])
"""Under /v1. Health and readiness are not rate limited: a load balancer or orchestrator
probing them from one address must not be told 429 (and take the node out) because that
address is busy. Both are cheap: no store read beyond the head, no queue walk."""
ops = APIRouter(tags=["operations"])

READY_PENDING_FRACTION = 0.9
"""Not ready once the pending queue is this full: new work would be refused as busy."""


@router.get("/chain", response_model=models.ChainInfo, dependencies=[Depends(rate_limited)])
def chain(request: Request) -> models.ChainInfo:
    """The chain id, the latest block header and the contracts this chain runs."""
    node = gateway_of(request).node
    return models.ChainInfo(chain_id=node.chain_id, head=views.header(node.head),
                            contracts=list(node.registry.contracts),
                            now_ms=max(node.head.time_ms, node.clock()))


@router.get("/health", response_model=models.Health)
def health(request: Request) -> models.Health:
    """Liveness: the process answers. On a consortium peer, also its height, the final
    height, its lag behind the ordering log, the peers it hears from, and whether it diverged
    (a diverged peer still answers here, and its ``/v1/ready`` says why it is not ready)."""
    gateway = gateway_of(request)
    node = gateway.node
    peer = views.peer_health(gateway.consortium.status()) if gateway.consortium else None
    return models.Health(status="diverged" if peer is not None and peer.diverged else "ok",
                         height=node.head.height, final_height=node.final_height, consortium=peer)


@router.get("/ready", response_model=models.Readiness,
            responses={503: {"model": models.Readiness, "description": "Not ready"}})
def ready(request: Request, response: Response) -> models.Readiness:
    """Readiness: the node commits blocks and its pending queue has room."""
    node = gateway_of(request).node
    pending = node.orderer.pending()
    reason = ""
    if node.fault is not None:
        reason = f"the node stopped committing: {node.fault}"
    elif not node.running:
        reason = "the node is not running"
    elif pending >= READY_PENDING_FRACTION * node.orderer.capacity:
        reason = "the pending queue is nearly full"
    if reason:
        response.status_code = 503
    return models.Readiness(ready=not reason, height=node.head.height, pending=pending, reason=reason)


@ops.get("/metrics", response_class=Response,
         responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
def metrics(request: Request) -> Response:
    """Height, committed transactions, pending queue, commit latency, refusals by code and
    the bytes free on the data directory's filesystem."""
    data = generate_latest(gateway_of(request).metrics.registry)
    return Response(data, media_type=CONTENT_TYPE_LATEST)
