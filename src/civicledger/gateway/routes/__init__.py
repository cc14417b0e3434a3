"""The gateway's routers, one per resource, and what they share."""

from __future__ import annotations

from fastapi import Request

from civicledger.core import address as addresses
from civicledger.core.errors import UnknownCall
from civicledger.gateway.app import gateway_of


def charge(request: Request, cost: int = 1) -> None:
    """Spend ``cost`` of the client's rate; refuse with 429 ``rate_limited`` when it runs out."""
    gateway = gateway_of(request)
    gateway.charge(gateway.client_of(request), cost)


async def rate_limited(request: Request) -> None:
    """A router dependency: every request costs one (async: no thread hop per request)."""
    charge(request)


def parse_address(text: str, where: str = "account") -> bytes:
    try:
        return addresses.from_text(text)
    except addresses.AddressError as error:
        raise UnknownCall(f"{where}: {error}", code="invalid_address") from None


def parse_hex32(text: str, where: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != 32:
        raise UnknownCall(f"{where} must be 64 hex digits", code="invalid_argument")
    return value
