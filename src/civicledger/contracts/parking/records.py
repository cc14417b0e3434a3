"""The parking service's stored records, argument types and rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from civicledger.contracts.storage import Record
from civicledger.core.schema import Int, ListOf, Text

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
    DISPUTED = "disputed"
    """Its driver or its spot's owner reported a problem; the escrow waits for the operator."""
    RESOLVED = "resolved"
    """The operator split the escrow between driver and owner."""


class DisputeReason(StrEnum):
    """What went wrong, as a fixed code: a dispute carries no free text, so no personal data."""

    SPOT_OCCUPIED = "spot_occupied"
    """The driver found someone else in the spot."""
    OVERSTAY = "overstay"
    """The driver stayed past the booking's end."""
    BLOCKED = "blocked"
    """The spot, or the way out of it, was blocked."""
    OTHER = "other"


Reason = Annotated[str, Text(16, "|".join(r.value for r in DisputeReason), low=1)]


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


@dataclass(frozen=True, slots=True)
class Dispute(Record):
    """A booking's dispute, stored beside the booking (so undisputed bookings keep their
    encoding) under the same key."""

    by: bytes
    """Who raised it: the booking's driver or the spot's owner."""
    reason: str
    """A ``DisputeReason`` code."""
    raised_ms: int
    from_status: str
    """``booked`` or ``checked_in``: where the booking stood when it was disputed."""
    driver_refund_bps: int | None = None
    """The share of the amount the operator refunded to the driver; None while open."""
    note: str = ""
    """The operator's short note on the resolution (a label, never personal data)."""
    resolved_by: bytes | None = None
    resolved_ms: int | None = None

    def describe(self) -> dict[str, Any]:
        return {"by": self.by, "reason": self.reason, "raised_ms": self.raised_ms,
                "from_status": self.from_status, "driver_refund_bps": self.driver_refund_bps,
                "note": self.note, "resolved_by": self.resolved_by, "resolved_ms": self.resolved_ms}
