"""Real images for the blob store's tests, made with Pillow: a phone photo with GPS and device
tags, a PNG with text chunks, a WebP with EXIF."""

from __future__ import annotations

import io

from PIL import Image, PngImagePlugin

MAKE, MODEL, SERIAL = "Google", "Pixel 9", "SERIAL-4D1F-77A0"
"""Device identifiers a phone writes into its photos."""
PLACE = "37.6541N 127.0617E"
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description exif:GPSLatitude="37,39.2N"/></x:xmpmeta>'
RED, BLUE = (230, 20, 20), (20, 20, 230)


def two_colours(width: int = 40, height: int = 20, mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: which way up an image ends up is plain to see."""
    image = Image.new(mode, (width, height), RED if mode == "RGB" else (*RED, 255))
    image.paste(BLUE if mode == "RGB" else (*BLUE, 128), (width // 2, 0, width, height))
    return image


def phone_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = MAKE, MODEL, orientation
    gps = exif.get_ifd(0x8825)  # GPSInfo
    gps[1], gps[2], gps[3], gps[4] = "N", (37.0, 39.0, 14.76), "E", (127.0, 3.0, 42.12)
    gps[6] = 31.5  # altitude
    details = exif.get_ifd(0x8769)  # the Exif IFD
    details[0xA431] = SERIAL  # BodySerialNumber
    details[0x9003] = "2026:03:14 08:15:00"  # DateTimeOriginal
    return exif


def phone_jpeg(orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: EXIF with GPS position, make, model, serial; XMP; a comment."""
    out = io.BytesIO()
    two_colours().save(out, "JPEG", quality=92, exif=phone_exif(orientation), xmp=XMP,
                       comment=f"taken at {PLACE}".encode())
    return out.getvalue()


def tagged_png() -> bytes:
    """An RGBA PNG with tEXt, zTXt and iTXt (XMP) chunks and an eXIf chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", f"taken at {PLACE}")
    info.add_text("Author", "Kim Minji", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    out = io.BytesIO()
    two_colours(mode="RGBA").save(out, "PNG", pnginfo=info, exif=phone_exif())
    return out.getvalue()


def tagged_webp() -> bytes:
    out = io.BytesIO()
    two_colours().save(out, "WEBP", quality=90, exif=phone_exif(), xmp=XMP)
    return out.getvalue()


def plain_png(size: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def animated_png() -> bytes:
    out = io.BytesIO()
    frames = [Image.new("RGB", (8, 8), colour) for colour in (RED, BLUE)]
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:])
    return out.getvalue()


def leaks(data: bytes) -> list[str]:
    """Which of the photo's personal and device details are still in ``data``'s bytes."""
    needles = {"make": MAKE, "model": MODEL, "serial": SERIAL, "place": PLACE, "xmp": "xmpmeta",
               "author": "Kim Minji", "exif": "Exif\x00\x00", "date": "2026:03:14"}
    return [name for name, text in needles.items() if text.encode("latin-1") in data]
