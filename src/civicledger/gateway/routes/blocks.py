"""Blocks: the latest, a page of recent headers, one by height or hash."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from civicledger.core.errors import NotFound
from civicledger.gateway import models, views
from civicledger.gateway.routes import gateway_of, rate_limited
from civicledger.node.store import StoredBlock

router = APIRouter(tags=["blocks"], dependencies=[Depends(rate_limited)])

MAX_PAGE = 100


def _view(block: StoredBlock) -> models.BlockView:
    return models.BlockView(header=views.header(block.header), transactions=views.block_txs(block))


@router.get("/blocks/latest", response_model=models.BlockView)
def latest(request: Request) -> models.BlockView:
    """The last committed block with its transactions."""
    node = gateway_of(request).node
    block = node.store.block(node.head.height)
    assert block is not None
    return _view(block)


@router.get("/blocks", response_model=models.BlockList)
def recent(
    request: Request,
    before: Annotated[int | None, Query(ge=1, description="Headers below this height")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
) -> models.BlockList:
    """Recent block headers, newest first; page back with `before`."""
    store = gateway_of(request).node.store
    with store.reading():
        head = store.head()
        assert head is not None
        top = head.height if before is None else min(head.height, before - 1)
        headers = [store.header(h) for h in range(top, max(-1, top - limit), -1)]
    return models.BlockList(blocks=[views.header(h) for h in headers if h is not None])


@router.get("/blocks/{ref}", response_model=models.BlockView)
def block(request: Request,
          ref: Annotated[str, Path(description="A height, or a block hash (64 hex digits)",
                                    pattern=models.BLOCK_REF_PATTERN)]
          ) -> models.BlockView:
    """One committed block, by height or hash, with its transactions."""
    store = gateway_of(request).node.store
    height = views.block_height(store, ref)
    found = store.block(height) if height is not None else None
    if found is None:
        raise NotFound(f"no block {ref}", code="unknown_block")
    return _view(found)


@router.get("/blocks/{ref}/attestations", response_model=models.BlockAttestations)
def attestations(request: Request,
                 ref: Annotated[str, Path(description="A height, or a block hash (64 hex digits)",
                                          pattern=models.BLOCK_REF_PATTERN)]
                 ) -> models.BlockAttestations:
    """Which member peers signed this block's header, with the peer keys in force at its height.

    Check each signature against ``peers`` (governance's registered keys) and count those naming
    this header: the block is final at ``quorum``. A solo node has no peers; its blocks are final
    once committed."""
    gateway = gateway_of(request)
    node = gateway.node
    height = views.block_height(node.store, ref)
    header = node.store.header(height) if height is not None else None
    if header is None:
        raise NotFound(f"no block {ref}", code="unknown_block")
    if gateway.consortium is None:
        return models.BlockAttestations(height=header.height, header_hash=header.hash.hex(),
                                        mode="solo", quorum=0, peers={}, attestations=[],
                                        final=header.height <= node.final_height)
    answer = node.query("governance", "peers", {"height": header.height})
    held = gateway.consortium.attestations(header.height)
    return models.BlockAttestations(
        height=header.height, header_hash=header.hash.hex(), mode="consortium",
        quorum=answer["quorum"], peers={p["org"]: p["key"].hex() for p in answer["peers"]},
        attestations=[models.AttestationView(org=a.org, header_hash=a.header_hash.hex(),
                                             signature=a.signature.hex(), matches=a.header == header)
                      for a in held],
        final=header.height <= node.final_height,
    )
