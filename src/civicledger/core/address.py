"""Account addresses: 20 bytes derived from a public key, shown with a checksum.

On the wire and in state an address is its 20 raw bytes. People see and type
the Bech32 form ``civ1…`` whose checksum catches typos (any error of up to four
characters is detected), and whose fixed length is checked too.
"""

from __future__ import annotations

import functools

import bech32

from civicledger.core.crypto import digest

ADDRESS_SIZE = 20
HRP = "civ"
_TEXT_LENGTH = len(HRP) + 1 + 32 + 6
ADDRESS_CACHE = 65_536
TEXT_CACHE = 65_536
"""Addresses whose text is remembered: Bech32 in pure Python costs ~65 µs an address, and
the gateway writes the same accounts' addresses into receipt after receipt."""


class AddressError(ValueError):
    """Raised for an address string that is not a valid ``civ1…`` address."""


@functools.lru_cache(maxsize=ADDRESS_CACHE)
def address_of(public_key: bytes) -> bytes:
    """The address of an Ed25519 public key (remembered: every admitted transaction needs
    its signer's, and the same accounts sign again and again)."""
    return digest(b"civicledger/address", public_key)[:ADDRESS_SIZE]


def derived_address(kind: str, name: str) -> bytes:
    """The address of an account that no key holds: a contract's or an organisation's."""
    return digest(b"civicledger/derived-address", f"{kind}:{name}".encode())[:ADDRESS_SIZE]


@functools.lru_cache(maxsize=TEXT_CACHE)
def to_text(address: bytes) -> str:
    if len(address) != ADDRESS_SIZE:
        raise AddressError(f"an address is {ADDRESS_SIZE} bytes, not {len(address)}")
    return bech32.bech32_encode(HRP, bech32.convertbits(address, 8, 5))


def from_text(text: str) -> bytes:
    """Parse ``civ1…``; raises AddressError naming what is wrong."""
    text = text.strip()
    if len(text) != _TEXT_LENGTH:
        raise AddressError(f"an address has {_TEXT_LENGTH} characters, this one {len(text)}")
    hrp, data = bech32.bech32_decode(text)
    if hrp is None or data is None:
        raise AddressError("address checksum does not match: check it for a typo")
    if hrp != HRP:
        raise AddressError(f"address must start with '{HRP}1'")
    raw = bech32.convertbits(data, 5, 8, False)
    if raw is None or len(raw) != ADDRESS_SIZE:
        raise AddressError("address has the wrong length")
    return bytes(raw)
