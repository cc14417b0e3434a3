"""The blob store: photos and documents kept off the chain, named by their SHA-256.

The chain holds only a blob's 32-byte hash (a hazard report's photo, say); the
bytes live here, in the node's data directory, one file per blob. A blob is
written to a temporary file, fsynced and renamed, so a crash never leaves half
a blob under its name, and storing the same bytes twice is one file. Anyone
holding the bytes can check them against the hash on chain.

Only image types a phone produces are accepted (JPEG, PNG, WebP), recognised by
their first bytes rather than by what a client claims.

Metadata is removed before anything is hashed or kept. A phone photo carries its
GPS position, the time, and the device's make, model and serial numbers (EXIF),
often XMP too; a PNG can carry text chunks. So the node keeps the pixels only:
the image is decoded (Pillow), turned upright as its orientation tag says (so
dropping the tag does not leave it sideways), and encoded again in its own
format with no EXIF, XMP, ICC profile, comment or text chunk. A PNG keeps its
transparency and stays lossless; a JPEG is re-encoded with its own quantisation
tables, so its quality and size stay close to the upload's; a WebP is re-encoded
at quality 90. The hash is the SHA-256 of the kept bytes, and the upload's
answer names it: it is not the hash of the file as sent.

What cannot be cleaned is refused (``unsupported_media``) rather than kept as
sent: bytes that do not decode, animated images (only a first frame would be
kept), and HEIC/HEIF/AVIF, which this node cannot decode. An image of more than
``MAX_PIXELS`` is refused (``blob_too_large``): decoding it would cost the node
that much memory, however few bytes it came in.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, JpegImagePlugin

from civicledger.core.errors import EncodingError, LimitExceeded

MAX_BLOB_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 50_000_000
"""Largest image kept, in pixels (a 48-megapixel phone photo fits): about 150 MB decoded as
RGB, twice that while it is turned upright."""
MEDIA_TYPES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
"""Pillow's decoder for each accepted type; Pillow tries no other format on an upload."""
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif",
               b"avis")
"""ISO-BMFF brands of HEIC/HEIF/AVIF images (bytes 8 to 12, after ``ftyp``)."""
WEBP_QUALITY = JPEG_QUALITY = 90
"""Re-encoding quality of a WebP (and of a JPEG whose quantisation tables cannot be read)."""


def media_type(data: bytes) -> str | None:
    """The image type ``data`` starts like, or None."""
    for magic, kind in MEDIA_TYPES:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def is_heif(data: bytes) -> bool:
    """Whether ``data`` is a HEIC, HEIF or AVIF image (an iPhone's default photo format)."""
    return data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS


@dataclass(frozen=True, slots=True)
class Cleaned:
    """An image with its metadata removed: what the store keeps and hashes."""

    data: bytes
    media_type: str


def clean(data: bytes) -> Cleaned:
    """``data``'s pixels, upright, re-encoded in its own format with no metadata.

    Refuses (``unsupported_media``) what is not a JPEG, PNG or WebP that decodes as one still
    image, and (``blob_too_large``) an image of more than ``MAX_PIXELS``.
    """
    kind = media_type(data)
    if kind is None:
        if is_heif(data):
            raise EncodingError("HEIC, HEIF and AVIF photos cannot be cleaned of their location "
                                "and device data here; send the photo as JPEG",
                                code="unsupported_media")
        raise EncodingError("a blob must be a JPEG, PNG or WebP image", code="unsupported_media")
    with _refusing_what_cannot_be_read(kind):
        image = Image.open(io.BytesIO(data), formats=[FORMATS[kind]])
        if image.width * image.height > MAX_PIXELS:
            raise LimitExceeded(f"an image is at most {MAX_PIXELS:,} pixels", code="blob_too_large")
        if getattr(image, "n_frames", 1) > 1:
            raise EncodingError("an animated image cannot be kept; send a still photo",
                                code="unsupported_media")
        image.load()
        upright = ImageOps.exif_transpose(image)
        kept = {"transparency": image.info["transparency"]} if "transparency" in image.info else {}
        upright.info = kept  # nothing else Pillow read survives: EXIF, XMP, ICC, comments, text
        out = io.BytesIO()
        if kind == "image/jpeg" and image.quantization:  # the upload's own quality
            upright.save(out, "JPEG", qtables=image.quantization,
                         subsampling=JpegImagePlugin.get_sampling(image))
        elif kind == "image/jpeg":
            upright.save(out, "JPEG", quality=JPEG_QUALITY)
        elif kind == "image/png":
            upright.save(out, "PNG")
        else:
            upright.save(out, "WEBP", quality=WEBP_QUALITY)
    return Cleaned(out.getvalue(), kind)


@contextmanager
def _refusing_what_cannot_be_read(kind: str) -> Iterator[None]:
    """Pillow's failures on untrusted bytes as refusals; a decompression bomb is too large."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. corrupt EXIF: dropped anyway, here and in tests
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (LimitExceeded, EncodingError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LimitExceeded(f"an image is at most {MAX_PIXELS:,} pixels",
                            code="blob_too_large") from None
    except Exception:  # a decoder meets untrusted bytes: whatever it raises means "unreadable"
        raise EncodingError(f"the {kind} image cannot be read (damaged or truncated)",
                            code="unsupported_media") from None


@dataclass(frozen=True, slots=True)
class Kept:
    """What ``BlobStore.put`` kept: the hash to put on chain names these bytes, not the upload."""

    sha256: bytes
    size: int
    media_type: str


class BlobStore:
    def __init__(self, root: str | Path, *, max_bytes: int = MAX_BLOB_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def _path(self, digest: bytes) -> Path:
        name = digest.hex()
        return self.root / name[:2] / name

    def put(self, data: bytes) -> Kept:
        """Keep the image ``data`` with its metadata removed (``clean``); answers the SHA-256
        of the kept bytes. Refuses empty, oversized and non-image data, and writes nothing then."""
        if not data:
            raise EncodingError("a blob cannot be empty", code="empty_blob")
        if len(data) > self.max_bytes:
            raise LimitExceeded(f"a blob is at most {self.max_bytes} bytes", code="blob_too_large")
        cleaned = clean(data)
        data = cleaned.data
        digest = hashlib.sha256(data).digest()
        kept = Kept(digest, len(data), cleaned.media_type)
        path = self._path(digest)
        if path.exists():
            return kept
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
        return kept

    def get(self, digest: bytes) -> bytes | None:
        """The blob named ``digest``, or None if this node does not hold it."""
        try:
            return self._path(digest).read_bytes()
        except FileNotFoundError:
            return None
