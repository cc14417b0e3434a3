from __future__ import annotations

import hashlib

import pytest

from civicledger.core.errors import EncodingError, LimitExceeded
from civicledger.node.blobs import BlobStore, media_type

PNG = b"\x89PNG\r\n\x1a\n" + b"pothole" * 10
JPEG = b"\xff\xd8\xff\xe0" + b"streetlight"
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 "


def test_a_blob_is_kept_under_its_sha256(tmp_path):
    store = BlobStore(tmp_path)
    digest = store.put(PNG)
    assert digest == hashlib.sha256(PNG).digest()
    assert store.get(digest) == PNG
    assert store.put(PNG) == digest  # the same bytes are one blob
    assert len(list(tmp_path.rglob("*"))) == 2  # one folder, one file, no temporaries left
    assert store.get(bytes(32)) is None


def test_images_are_recognised_by_content():
    assert [media_type(b) for b in (PNG, JPEG, WEBP, b"%PDF-1.7")] == [
        "image/png", "image/jpeg", "image/webp", None]


@pytest.mark.parametrize(("data", "error", "code"), [
    (b"", EncodingError, "empty_blob"),
    (b"#!/bin/sh\nrm -rf /", EncodingError, "unsupported_media"),
    (PNG + bytes(100), LimitExceeded, "blob_too_large"),
])
def test_bad_blobs_are_refused_and_nothing_is_written(tmp_path, data, error, code):
    store = BlobStore(tmp_path / "b", max_bytes=len(PNG) + 10)
    with pytest.raises(error) as refused:
        store.put(data)
    assert refused.value.code == code
    assert not (tmp_path / "b").exists()
