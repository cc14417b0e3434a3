"""The token contract's stored records, argument types and limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from civicledger.contracts.storage import Record
from civicledger.core.schema import MAX_AMOUNT, Int, Optional

MAX_DECIMALS = 18
MAX_VALIDITY_MS = 100 * 365 * 24 * 3600 * 1000
"""Longest validity of a minted lot: a hundred years. Keeps lot expiries far below 2**64."""

Decimals = Annotated[int, Int(0, MAX_DECIMALS)]
RatePart = Annotated[int, Int(1, MAX_AMOUNT)]
"""Numerator or denominator of an exchange rate: positive."""
OptionalLimit = Annotated[int | None, Optional(Int(1, MAX_AMOUNT))]
"""A per-holder cap or a maximum supply in minor units; None for no limit."""
OptionalValidity = Annotated[int | None, Optional(Int(1, MAX_VALIDITY_MS))]
"""How long each minted lot stays spendable, in milliseconds; None for never expiring."""


@dataclass(frozen=True, slots=True)
class Currency(Record):
    """One currency's policy; its symbol is the key it is stored under."""

    name: str
    """Display name (may be Korean)."""
    issuer: str
    """Governance organisation whose ``issuer`` role holders mint and burn."""
    decimals: int
    """Minor units per major unit are 10**decimals; display only, amounts are minor units."""
    cap: int | None
    """Most unexpired units one person may hold after receiving; None for no cap."""
    validity_ms: int | None
    """Lifetime of each minted lot from its mint's block time; None for never expiring."""
    max_supply: int | None
    """Most units that may exist at once (expired, unswept units count); None for MAX_AMOUNT."""

    @property
    def expires(self) -> bool:
        return self.validity_ms is not None

    def describe(self, symbol: str, supply: int) -> dict[str, Any]:
        return {
            "symbol": symbol,
            "name": self.name,
            "issuer": self.issuer,
            "decimals": self.decimals,
            "cap": self.cap,
            "validity_ms": self.validity_ms,
            "max_supply": self.max_supply,
            "supply": supply,
        }


@dataclass(frozen=True, slots=True)
class Rate(Record):
    """``amount`` of one currency exchanges for ``floor(amount * num / den)`` of another."""

    num: int
    den: int

    def apply(self, amount: int) -> int:
        return amount * self.num // self.den

    def minimum(self) -> int:
        """The smallest amount that exchanges for at least one unit."""
        return -(-self.den // self.num)
