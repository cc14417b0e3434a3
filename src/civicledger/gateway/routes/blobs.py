"""Off-chain blobs: upload a photo, get back the SHA-256 to put on chain; fetch it by hash."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from civicledger.core.errors import NodeFault, NotFound
from civicledger.gateway import models
from civicledger.gateway.routes import gateway_of, parse_hex32, rate_limited
from civicledger.node.blobs import BlobStore, media_type

router = APIRouter(tags=["blobs"], dependencies=[Depends(rate_limited)])

BLOBS_PATH = "/blobs"


def _store(request: Request) -> BlobStore:
    blobs = gateway_of(request).blobs
    if blobs is None:
        raise NodeFault("this node keeps no blobs", code="no_blob_store")
    return blobs


@router.post(
    BLOBS_PATH, response_model=models.BlobRef, status_code=201,
    openapi_extra={"requestBody": {"required": True, "content": {
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "image/webp": {"schema": {"type": "string", "format": "binary"}},
    }}},
)
async def upload(request: Request) -> models.BlobRef:
    """Keep an image off the chain (the raw bytes as the body); answers its SHA-256.

    Put the hash in the transaction (e.g. a hazard report's `photo`); the chain never holds
    the image. JPEG, PNG or WebP, recognised by content, at most 5 MiB.
    """
    store = _store(request)
    data = await request.body()
    digest = await run_in_threadpool(store.put, data)
    return models.BlobRef(sha256=digest.hex(), size=len(data), media_type=media_type(data) or "")


@router.get(BLOBS_PATH + "/{sha256}", response_class=Response,
            responses={200: {"content": {"image/*": {}}, "description": "The blob's bytes"}})
def download(request: Request,
             sha256: Annotated[str, Path(description="The blob's SHA-256, 64 hex digits",
                                         pattern=models.HEX32_PATTERN)]) -> Response:
    """A kept blob by its hash; check it by hashing what you receive."""
    data = _store(request).get(parse_hex32(sha256, "sha256"))
    if data is None:
        raise NotFound(f"this node holds no blob {sha256}", code="unknown_blob")
    return Response(data, media_type=media_type(data) or "application/octet-stream",
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})
