"""The parking service's stored records, argument types and rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from civicledger.contracts.storage import Record
from civicledger.core.schema import Int, ListOf

HOUR_MS = 3600 * 1000
MAX_BOOKING_HOURS = 24
MAX_WINDOWS = 16
MAX_WINDOW_MS = 31 * 24 * HOUR_MS
CHECK_IN_EARLY_MS = 15 * 60 * 1000
"""A driver may check in from 15 minutes before the booking starts …"""
GRACE_MS = 30 * 60 * 1000
"""… until 30 minutes after; later, the spot's owner may record a no-show."""
FREE_CANCEL_MS = 2 * HOUR_MS
"""A driver who cancels at least two hours before the start gets everything back."""
LATE_SHARE_BPS = 5_000
"""A late cancellation or a no-show pays the owner half the price; the driver gets the rest."""

Window = Annotated[tuple[int, int], ListOf(Int(0, 2**53), 2, low=2)]
Windows = Annotated[tuple[tuple[int, int], ...],
                    ListOf(ListOf(Int(0, 2**53), 2, low=2), MAX_WINDOWS, low=1)]
"""Availability windows ``[[start_ms, end_ms], …]``: whole hours, in order, not overlapping."""
Hours = Annotated[int, Int(1, MAX_BOOKING_HOURS)]
SpotId = Annotated[int, Int(1, 2**63 - 1)]
BookingId = Annotated[int, Int(1, 2**63 - 1)]
After = Annotated[int, Int(0, 2**63 - 1)]


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


@dataclass(frozen=True, slots=True)
class Spot(Record):
    owner: bytes
    cell: str
    price_per_hour: int
    windows: tuple[tuple[int, int], ...]
    active: bool

    def describe(self, spot: int) -> dict[str, Any]:
        return {"spot": spot, "owner": self.owner, "cell": self.cell,
                "price_per_hour": self.price_per_hour,
                "windows": [list(w) for w in self.windows], "active": self.active}


@dataclass(frozen=True, slots=True)
class Booking(Record):
    spot: int
    driver: bytes
    owner: bytes
    start_ms: int
    hours: int
    amount: int
    """Held in escrow from booking until it settles."""
    status: str
    paid_owner: int = 0
    """What the owner received, after the platform share."""
    refunded: int = 0

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.hours * HOUR_MS

    def describe(self, booking: int) -> dict[str, Any]:
        return {"booking": booking, "spot": self.spot, "driver": self.driver, "owner": self.owner,
                "start_ms": self.start_ms, "end_ms": self.end_ms, "hours": self.hours,
                "amount": self.amount, "status": self.status, "paid_owner": self.paid_owner,
                "refunded": self.refunded}
