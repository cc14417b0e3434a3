from __future__ import annotations

import hashlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from civicledger.core.errors import EncodingError, LimitExceeded
from civicledger.node import blobs
from civicledger.node.blobs import BlobStore, clean, media_type
from tests.node.photos import (
    BLUE,
    RED,
    animated_png,
    leaks,
    phone_jpeg,
    plain_png,
    tagged_png,
    tagged_webp,
    two_colours,
)

PNG = plain_png()
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(40)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def near(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(pixel, colour, strict=False))


def test_a_blob_is_kept_under_the_sha256_of_what_is_kept(tmp_path):
    store = BlobStore(tmp_path)
    kept = store.put(PNG)
    data = store.get(kept.sha256)
    assert kept.sha256 == hashlib.sha256(data).digest()
    assert (kept.size, kept.media_type) == (len(data), "image/png")
    assert store.put(PNG) == kept  # the same upload is the same blob
    assert len(list(tmp_path.rglob("*"))) == 2  # one folder, one file, no temporaries left
    assert store.get(bytes(32)) is None


def test_a_phone_photo_loses_its_gps_and_device_tags_before_it_is_hashed(tmp_path):
    photo = phone_jpeg()
    before = opened(photo)
    assert before.getexif().get_ifd(0x8825), "the upload does carry a GPS position"
    assert leaks(photo) == ["make", "model", "serial", "place", "xmp", "exif", "date"]
    store = BlobStore(tmp_path)
    kept = store.put(photo)
    data = store.get(kept.sha256)
    assert kept.sha256 == hashlib.sha256(data).digest() != hashlib.sha256(photo).digest()
    assert leaks(data) == []
    after = opened(data)
    assert after.format == "JPEG" and kept.media_type == "image/jpeg"
    assert not after.getexif() and not after.getexif().get_ifd(0x8825)
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(after.info)
    assert b"\xff\xe1" not in data  # no APP1 segment (EXIF or XMP) at all
    assert after.size == before.size and near(after.getpixel((2, 2)), RED)
    assert near(after.getpixel((37, 2)), BLUE)


@pytest.mark.parametrize(("orientation", "top_left", "size"), [
    (1, RED, (40, 20)),
    (3, BLUE, (40, 20)),  # upside down: turned half round
    (6, RED, (20, 40)),  # taken with the phone upright: turned a quarter clockwise
    (8, BLUE, (20, 40)),  # a quarter anticlockwise
])
def test_a_photo_is_turned_upright_before_its_orientation_tag_goes(orientation, top_left, size):
    upright = opened(clean(phone_jpeg(orientation)).data)
    assert upright.size == size
    assert near(upright.getpixel((2, 2)), top_left)
    assert 0x0112 not in upright.getexif()


def test_a_png_loses_its_text_chunks_and_keeps_its_pixels_and_transparency():
    png = tagged_png()
    data = clean(png).data
    assert leaks(data) == []
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME", b"iCCP"):
        assert chunk not in data, chunk
    after = opened(data)
    assert after.mode == "RGBA" and after.tobytes() == two_colours(mode="RGBA").tobytes()


def test_a_webp_loses_its_exif_and_xmp():
    data = clean(tagged_webp()).data
    assert media_type(data) == "image/webp" and leaks(data) == []
    assert b"EXIF" not in data and b"XMP " not in data
    assert near(opened(data).getpixel((2, 2)), RED)


def test_cleaning_is_deterministic_and_a_clean_png_stays_as_it_is():
    assert clean(phone_jpeg()) == clean(phone_jpeg())
    once = clean(tagged_png()).data
    assert clean(once).data == once


def test_images_are_recognised_by_content():
    jpeg, webp = phone_jpeg(), tagged_webp()
    assert [media_type(b) for b in (PNG, jpeg, webp, b"%PDF-1.7")] == [
        "image/png", "image/jpeg", "image/webp", None]


@pytest.mark.parametrize(("data", "error", "code", "says"), [
    (b"", EncodingError, "empty_blob", "empty"),
    (b"#!/bin/sh\nrm -rf /", EncodingError, "unsupported_media", "JPEG, PNG or WebP"),
    (HEIC, EncodingError, "unsupported_media", "HEIC"),
    (b"\xff\xd8\xff\xe0" + b"not really a photo", EncodingError, "unsupported_media", "cannot be read"),
    (PNG[: len(PNG) // 2], EncodingError, "unsupported_media", "cannot be read"),
    (animated_png(), EncodingError, "unsupported_media", "animated"),
    (PNG + bytes(1000), LimitExceeded, "blob_too_large", "bytes"),
])
def test_bad_blobs_are_refused_and_nothing_is_written(tmp_path, data, error, code, says):
    store = BlobStore(tmp_path / "b", max_bytes=1000)
    with pytest.raises(error) as refused:
        store.put(data)
    assert refused.value.code == code and says in str(refused.value)
    assert not (tmp_path / "b").exists()


def test_an_image_of_too_many_pixels_is_refused_before_it_is_decoded(tmp_path, monkeypatch):
    monkeypatch.setattr(blobs, "MAX_PIXELS", 63)
    store = BlobStore(tmp_path / "b")
    with pytest.raises(LimitExceeded) as refused:
        store.put(PNG)  # 8 × 8
    assert refused.value.code == "blob_too_large" and "pixels" in str(refused.value)
    assert not (tmp_path / "b").exists()


def test_a_decompression_bomb_is_refused_as_too_large(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 16)  # Pillow's own guard, met before ours
    with pytest.raises(LimitExceeded) as refused:
        clean(PNG)
    assert refused.value.code == "blob_too_large"


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([phone_jpeg(6), tagged_png(), tagged_webp()]), st.data())
def test_damaged_images_are_refused_or_cleaned_never_a_crash(image, data):
    """Bytes flipped or cut anywhere after the signature: a refusal with a code, or a clean
    image; never another exception (which the gateway would answer as a fault)."""
    damaged = bytearray(image)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(12, len(damaged) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    damaged = bytes(damaged[: data.draw(st.integers(12, len(damaged)))])
    try:
        cleaned = clean(damaged)
    except (EncodingError, LimitExceeded) as refused:
        assert refused.code in ("unsupported_media", "blob_too_large")
    else:
        assert leaks(cleaned.data) == [] and media_type(cleaned.data) == media_type(image)
