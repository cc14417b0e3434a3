"""The hazard service's stored records, argument types and rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from civicledger.contracts.storage import Record
from civicledger.core.schema import Int, Text

MERGE_WINDOW_MS = 3 * 24 * 3600 * 1000
"""A report of the same category in the same cell within three days of the first joins it."""
MAX_REPORTERS = 8
FIRST_WEIGHT, LATER_WEIGHT = 3, 1
"""How a verified hazard's reward is shared: the first reporter weighs 3, each later one 1."""


class Category(StrEnum):
    POTHOLE = "pothole"
    SINKHOLE = "sinkhole"
    STREETLIGHT = "streetlight"
    GUARDRAIL = "guardrail"
    SIGNAGE = "signage"
    FLOODING = "flooding"
    OTHER = "other"


class HazardStatus(StrEnum):
    REPORTED = "reported"
    VERIFIED = "verified"
    REPAIRING = "repairing"
    RESOLVED = "resolved"
    REJECTED = "rejected"


OPEN = (HazardStatus.REPORTED, HazardStatus.VERIFIED, HazardStatus.REPAIRING)
"""Statuses a new report of the same hazard merges into."""
LISTED = (HazardStatus.VERIFIED, HazardStatus.REPAIRING)
"""Statuses the paid feed lists."""

CategoryName = Annotated[str, Text(16, "|".join(c.value for c in Category), low=1)]
HazardId = Annotated[int, Int(1, 2**63 - 1)]
After = Annotated[int, Int(0, 2**63 - 1)]


def shares(reward: int, reporters: int) -> list[int]:
    """Each reporter's part of ``reward``, first reporter first (floors; the rest stays in
    the budget)."""
    weight = FIRST_WEIGHT + LATER_WEIGHT * (reporters - 1)
    first = reward * FIRST_WEIGHT // weight
    return [first] + [reward * LATER_WEIGHT // weight] * (reporters - 1)


@dataclass(frozen=True, slots=True)
class Hazard(Record):
    category: str
    cell: str
    department: str
    """The organisation whose ``verifier`` role holders verify, reject and track it."""
    status: str
    reported_ms: int
    """When its first report came."""
    updated_ms: int
    reporters: int
    reason: str
    """Why it was rejected; empty otherwise."""
    reward: int
    """Units its reporters earned together."""

    def describe(self, hazard: int) -> dict[str, Any]:
        return {"hazard": hazard, "category": self.category, "cell": self.cell,
                "department": self.department, "status": self.status,
                "reported_ms": self.reported_ms, "updated_ms": self.updated_ms,
                "reporters": self.reporters, "reason": self.reason, "reward": self.reward}


@dataclass(frozen=True, slots=True)
class Report(Record):
    reporter: bytes
    photo: bytes
    """SHA-256 of the photo in the off-chain blob store."""
    reported_ms: int
    reward: int
