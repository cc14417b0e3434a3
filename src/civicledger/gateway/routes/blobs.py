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
    """Keep an image off the chain (the raw bytes as the body); answers the SHA-256 it is kept
    under.

    The node removes the image's metadata first (EXIF with GPS position and device serials,
    XMP, ICC profile, comments, PNG text chunks), turning it upright as its orientation said,
    so the bytes kept, and their hash, are not those of the file sent: put the answered
    `sha256` in the transaction (e.g. a hazard report's `photo`); the chain never holds the
    image. JPEG, PNG or WebP still images, recognised by content, at most 5 MiB; HEIC and
    animated images are refused (`unsupported_media`).
    """
    store = _store(request)
    data = await request.body()
    kept = await run_in_threadpool(store.put, data)
    return models.BlobRef(sha256=kept.sha256.hex(), size=kept.size, media_type=kept.media_type)


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
