"""Photos go to the blob store; only their SHA-256 goes on chain."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from civicledger.gateway import create_app
from tests.gateway.conftest import error_code

PHOTO = b"\xff\xd8\xff\xe0" + b"a pothole on Dongil-ro" * 20


def test_upload_then_fetch_by_hash(api):
    uploaded = api.post("/v1/blobs", content=PHOTO, headers={"content-type": "image/jpeg"})
    assert uploaded.status_code == 201
    assert uploaded.json() == {"sha256": hashlib.sha256(PHOTO).hexdigest(), "size": len(PHOTO),
                               "media_type": "image/jpeg"}
    fetched = api.get(f"/v1/blobs/{uploaded.json()['sha256']}")
    assert fetched.status_code == 200 and fetched.content == PHOTO
    assert fetched.headers["content-type"] == "image/jpeg"


def test_bad_uploads_are_refused(api, blobs):
    assert error_code(api.post("/v1/blobs", content=b"plain text")) == "unsupported_media"
    assert error_code(api.post("/v1/blobs", content=b"")) == "empty_blob"
    huge = api.post("/v1/blobs", content=b"\xff\xd8\xff" + bytes(6 * 1024 * 1024))
    assert (huge.status_code, error_code(huge)) == (413, "body_too_large")
    assert not blobs.root.exists()
    assert error_code(api.get("/v1/blobs/" + "00" * 32)) == "unknown_blob"
    assert error_code(api.get("/v1/blobs/nothex")) == "invalid_argument"


def test_a_node_without_a_blob_store_says_so(node):
    with TestClient(create_app(node)) as api:
        response = api.post("/v1/blobs", content=PHOTO)
        assert (response.status_code, error_code(response)) == (503, "no_blob_store")
