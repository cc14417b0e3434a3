"""Photos go to the blob store; only their SHA-256 goes on chain."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from civicledger.gateway import create_app
from tests.gateway.conftest import error_code
from tests.node.photos import leaks, phone_jpeg

PHOTO = phone_jpeg()


def test_upload_then_fetch_by_hash(api):
    uploaded = api.post("/v1/blobs", content=PHOTO, headers={"content-type": "image/jpeg"})
    assert uploaded.status_code == 201
    fetched = api.get(f"/v1/blobs/{uploaded.json()['sha256']}")
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/jpeg"
    kept = fetched.content
    assert uploaded.json() == {"sha256": hashlib.sha256(kept).hexdigest(), "size": len(kept),
                               "media_type": "image/jpeg"}


def test_the_answer_names_the_hash_of_the_photo_without_its_gps_tags(api):
    """The node keeps the photo without its metadata, so its hash is not the upload's: the
    answer tells the uploader which hash to put on chain."""
    assert leaks(PHOTO)
    uploaded = api.post("/v1/blobs", content=PHOTO, headers={"content-type": "image/jpeg"}).json()
    assert uploaded["sha256"] != hashlib.sha256(PHOTO).hexdigest()
    kept = api.get(f"/v1/blobs/{uploaded['sha256']}").content
    assert leaks(kept) == [] and hashlib.sha256(kept).hexdigest() == uploaded["sha256"]
    heic = api.post("/v1/blobs", content=b"\x00\x00\x00\x18ftypheic" + bytes(40))
    assert (heic.status_code, error_code(heic)) == (400, "unsupported_media")
    assert "HEIC" in heic.json()["error"]["message"]


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
