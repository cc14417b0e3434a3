"""The blob store: photos and documents kept off the chain, named by their SHA-256.

The chain holds only a blob's 32-byte hash (a hazard report's photo, say); the
bytes live here, in the node's data directory, one file per blob. A blob is
written to a temporary file, fsynced and renamed, so a crash never leaves half
a blob under its name, and storing the same bytes twice is one file. Anyone
holding the bytes can check them against the hash on chain.

Only image types a phone produces are accepted (JPEG, PNG, WebP), recognised by
their first bytes rather than by what a client claims.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from civicledger.core.errors import EncodingError, LimitExceeded

MAX_BLOB_BYTES = 5 * 1024 * 1024
MEDIA_TYPES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def media_type(data: bytes) -> str | None:
    """The image type ``data`` starts like, or None."""
    for magic, kind in MEDIA_TYPES:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class BlobStore:
    def __init__(self, root: str | Path, *, max_bytes: int = MAX_BLOB_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def _path(self, digest: bytes) -> Path:
        name = digest.hex()
        return self.root / name[:2] / name

    def put(self, data: bytes) -> bytes:
        """Keep ``data``; returns its SHA-256. Refuses empty, oversized and non-image data."""
        if not data:
            raise EncodingError("a blob cannot be empty", code="empty_blob")
        if len(data) > self.max_bytes:
            raise LimitExceeded(f"a blob is at most {self.max_bytes} bytes", code="blob_too_large")
        if media_type(data) is None:
            raise EncodingError("a blob must be a JPEG, PNG or WebP image", code="unsupported_media")
        digest = hashlib.sha256(data).digest()
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: bytes) -> bytes | None:
        """The blob named ``digest``, or None if this node does not hold it."""
        try:
            return self._path(digest).read_bytes()
        except FileNotFoundError:
            return None
