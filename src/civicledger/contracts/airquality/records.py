"""The air-quality service's stored records, argument types and validation rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from civicledger.contracts.cells import Zone
from civicledger.contracts.storage import Record
from civicledger.core.schema import Int, Optional, Struct

HOUR_MS = 3600 * 1000
MAX_AGE_MS = 24 * HOUR_MS
"""A reading is submitted within a day of its measurement."""
MAX_DATASET_DAYS = 7
MIN_NEIGHBOURS = 3
"""Readings of a pollutant in the surrounding cells needed before one is judged an outlier."""

POLLUTANTS: tuple[tuple[str, int, str], ...] = (
    ("pm10", 2_000, "µg/m³"),
    ("pm25", 1_000, "µg/m³"),
    ("o3", 1_000, "ppb"),
    ("no2", 2_000, "ppb"),
    ("co", 100_000, "ppb"),
    ("so2", 1_000, "ppb"),
)
"""Each pollutant, the top of its physical range (the bottom is 0) and its unit."""
OUTLIER_FLOOR = (20, 10, 20, 20, 500, 10)
"""Per pollutant, a margin so that low, noisy values are not flagged."""

_VALUE = Optional(Int(0, 2**32 - 1))
Values = Annotated[dict[str, Any], Struct(tuple((name, _VALUE) for name, _, _ in POLLUTANTS))]
"""``{"pm10": 41, "pm25": 23, …}``: integers, any subset of the pollutants."""
ReadingId = Annotated[int, Int(1, 2**63 - 1)]
Day = Annotated[int, Int(0, 2**40)]
"""A UTC day: block time // 86 400 000."""
DatasetDays = Annotated[int, Int(1, MAX_DATASET_DAYS)]
OptionalZone = Annotated[str | None, Optional(Zone.__metadata__[0])]
OptionalDay = Annotated[int | None, Optional(Int(0, 2**40))]


def hour_of(time_ms: int) -> int:
    return time_ms // HOUR_MS


def is_outlier(value: int, count: int, total: int, pollutant: int) -> bool:
    """Whether ``value`` is more than twice the mean of ``count`` neighbours summing to
    ``total`` plus a floor, or under a third of that mean less the floor."""
    floor = OUTLIER_FLOOR[pollutant]
    return value * count > 2 * total + floor * count or (3 * value + floor) * count < total


class ReadingStatus(StrEnum):
    PENDING = "pending"
    """Awaiting a verifier: the service verifies every reading."""
    FLAGGED = "flagged"
    """Awaiting a verifier: far from the neighbouring cells' readings."""
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Reading(Record):
    provider: bytes
    cell: str
    measured_ms: int
    values: tuple[int | None, ...]
    """One entry per pollutant, in ``POLLUTANTS`` order; None where not measured."""
    status: str
    reward: int
    """Units the reading earned (0 until accepted, or when over the daily cap)."""

    def describe(self, reading: int) -> dict[str, Any]:
        return {"reading": reading, "provider": self.provider, "cell": self.cell,
                "measured_ms": self.measured_ms,
                "values": {name: v for (name, _, _), v in zip(POLLUTANTS, self.values, strict=True)
                           if v is not None},
                "status": self.status, "reward": self.reward}


@dataclass(frozen=True, slots=True)
class ZoneDay(Record):
    """A zone's accepted readings on one day, and what its sales earned per reading."""

    readings: int = 0
    per_reading: int = 0
    """Sum over its sales of each sale's provider share per reading."""
    sales: int = 0


@dataclass(frozen=True, slots=True)
class Contribution(Record):
    """One provider's accepted readings in a zone on a day."""

    readings: int
    claimed: int
    """Fee shares taken so far; what it may claim is readings × per_reading − claimed."""


@dataclass(frozen=True, slots=True)
class Purchase(Record):
    buyer: bytes
    zone: str
    first_day: int
    days: int
    readings: int
    amount: int
    bought_ms: int

    def describe(self, purchase: int) -> dict[str, Any]:
        return {"purchase": purchase, "buyer": self.buyer, "zone": self.zone,
                "first_day": self.first_day, "days": self.days, "readings": self.readings,
                "amount": self.amount, "bought_ms": self.bought_ms}
