"""The volunteering contract's stored records, statuses, argument types and limits.

Nothing here names a person: volunteers and managers are addresses, places are
coarse area labels, skills and rating tags are short fixed words.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from civicledger.contracts.storage import Record
from civicledger.core.schema import MAX_AMOUNT, Int, ListOf, Text

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
MAX_SLOTS = 50
MAX_APPLICANTS = 200
"""Applicants per request; selection then emits at most 201 events, under the per-transaction limit."""
MAX_WINDOW_MS = 12 * HOUR_MS
"""Longest time window of one request."""
MAX_POSTING_MS = 180 * 24 * HOUR_MS
"""How far ahead of now a request's window may start."""
CHECK_IN_EARLY_MS = 30 * MINUTE_MS
"""How long before the window starts a volunteer may check in."""
MAX_PAGE = 50
MAX_RECOMMENDATIONS = 20
MAX_RECOMMEND_SCAN = 500
"""Open requests a recommendation looks at (oldest first): bounds the query's cost."""
MAX_PROFILE_ITEMS = 32
"""Skills and districts a profile lists (most frequent first among the first this many)."""
MANAGER_ROLE = "manager"
"""Governance role, in the organisation's own org, of those who post requests and verify work."""
MERCHANT_ROLE = "merchant"
"""Governance role, in a district's org, of the merchants that accept that district's coin."""
ISSUER_ROLE = "issuer"


class RequestStatus(StrEnum):
    OPEN = "open"
    """Taking applications until the deadline (or an early close)."""
    FILLED = "filled"
    """Selection ran and chose at least one volunteer."""
    UNFILLED = "unfilled"
    """Selection ran and nobody had applied."""
    CANCELLED = "cancelled"


class ApplicationStatus(StrEnum):
    APPLIED = "applied"
    SELECTED = "selected"
    NOT_SELECTED = "not_selected"
    CANCELLED = "cancelled"
    """The organisation cancelled the request."""


class ActivityStatus(StrEnum):
    ASSIGNED = "assigned"
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"
    VERIFIED = "verified"
    """Hours confirmed, credits minted, certificate issued."""
    REJECTED = "rejected"
    DISPUTED = "disputed"
    """The volunteer contests the rejection; a district admin decides."""
    DISMISSED = "dismissed"
    """The district admin upheld the rejection."""
    CANCELLED = "cancelled"


class RatingTag(StrEnum):
    PUNCTUAL = "punctual"
    KIND = "kind"
    SKILLED = "skilled"
    CAREFUL = "careful"
    RELIABLE = "reliable"
    PROACTIVE = "proactive"
    TEAMWORK = "teamwork"
    LATE = "late"
    UNPREPARED = "unprepared"


class RejectReason(StrEnum):
    NO_SHOW = "no_show"
    LEFT_EARLY = "left_early"
    TASK_NOT_DONE = "task_not_done"
    CONDUCT = "conduct"


class ContestReason(StrEnum):
    WAS_PRESENT = "was_present"
    HOURS_DONE = "hours_done"
    UNFAIR = "unfair"


def _one_of(words: type[StrEnum]) -> str:
    return "|".join(word.value for word in words)


_SKILL = Text(24, r"[a-z][a-z0-9-]{0,23}", low=1)
_NAME = Text(64, r"[a-z][a-z0-9_.-]{0,63}", low=1)

RequestId = Annotated[int, Int(1, 2**63 - 1)]
Skills = Annotated[tuple[str, ...], ListOf(_SKILL, 8, unique=True)]
"""Short skill words such as ``cooking``, ``driving``, ``elderly-care``."""
Districts = Annotated[tuple[str, ...], ListOf(_NAME, 8, unique=True)]
Place = Annotated[str, Text(48, r"[a-z0-9][a-z0-9_.:-]{0,47}", low=1)]
"""A coarse area label such as ``nowon:gongneung-2``, never a street address."""
Slots = Annotated[int, Int(1, MAX_SLOTS)]
Credits = Annotated[int, Int(1, MAX_AMOUNT // (MAX_WINDOW_MS // MINUTE_MS))]
"""Credits per hour in the district coin's minor units; small enough that a window's pay fits."""
Minutes = Annotated[int, Int(0, MAX_WINDOW_MS // MINUTE_MS)]
Rating = Annotated[int, Int(1, 5)]
Tags = Annotated[tuple[str, ...], ListOf(Text(12, _one_of(RatingTag), low=1), 3, unique=True)]
RejectWord = Annotated[str, Text(16, _one_of(RejectReason), low=1)]
ContestWord = Annotated[str, Text(16, _one_of(ContestReason), low=1)]
Limit = Annotated[int, Int(1, MAX_PAGE)]
After = Annotated[int, Int(0, 2**63 - 1)]


@dataclass(frozen=True, slots=True)
class District(Record):
    """A district taking part; its org id is the key it is stored under."""

    currency: str
    """The district's coin (its issuer is the district's org)."""
    max_hourly: int
    """Most credits an organisation of the district may offer for an hour (Nowon: 700 NW)."""


@dataclass(frozen=True, slots=True)
class Request(Record):
    """A need an organisation posted."""

    org: str
    district: str
    task: str
    place: str
    start_ms: int
    end_ms: int
    slots: int
    skills: tuple[str, ...]
    offer_per_hour: int
    """The most credits per hour the organisation pays; volunteers ask at most this."""
    deadline_ms: int
    """Applications close when the block time reaches it."""
    poster: bytes
    status: str = RequestStatus.OPEN
    applicants: int = 0
    selected: int = 0

    @property
    def window_minutes(self) -> int:
        return (self.end_ms - self.start_ms) // MINUTE_MS


@dataclass(frozen=True, slots=True)
class Application(Record):
    """A volunteer's bid, and once selection ran, its outcome and why."""

    seq: int
    """1 for the request's first application, 2 for the next…; breaks ties in selection."""
    ask_per_hour: int
    skills: tuple[str, ...]
    available_from_ms: int
    available_until_ms: int
    status: str = ApplicationStatus.APPLIED
    score: int = 0
    rank: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Activity(Record):
    """A selected volunteer's work on a request, from assignment to verification."""

    rate_per_hour: int
    """The agreed rate: the volunteer's ask."""
    status: str = ActivityStatus.ASSIGNED
    check_in_ms: int = 0
    check_out_ms: int = 0
    manager: bytes = b""
    """The manager who co-signed the last step."""
    minutes: int = 0
    rating: int = 0
    tags: tuple[str, ...] = ()
    credits: int = 0
    certificate: int = 0
    note: str = ""
    """The rejection or contest reason word."""
    uncredited_minutes: int = 0
    """Verified minutes left unpaid because of the volunteer's cap (see ``Certificate``)."""

    @property
    def worked_minutes(self) -> int:
        return max(0, self.check_out_ms - self.check_in_ms) // MINUTE_MS


@dataclass(frozen=True, slots=True)
class Certificate(Record):
    """Who did what, where, for how long, for which organisation and when."""

    volunteer: bytes
    request: int
    org: str
    district: str
    task: str
    place: str
    minutes: int
    work_date_ms: int
    """When the work started (check-in, or the window's start if a dispute decided it)."""
    issued_ms: int
    credits: int
    currency: str
    uncredited_minutes: int = 0
    """Verified minutes that earned no credits: paying them would have passed the volunteer's
    cap. Every minute counts as volunteering; only ``minutes - uncredited_minutes`` are paid."""

    def describe(self, number: int, digest: bytes) -> dict[str, Any]:
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return {"id": number, **fields, "hours": self.minutes // 60, "digest": digest}


@dataclass(frozen=True, slots=True)
class Profile(Record):
    """A volunteer's totals over verified activities."""

    minutes: int = 0
    activities: int = 0
    rating_sum: int = 0
    rating_count: int = 0
    credits: int = 0


@dataclass(frozen=True, slots=True)
class Preferences(Record):
    districts: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DistrictStats(Record):
    requests: int = 0
    activities: int = 0
    minutes: int = 0
    minted: int = 0
    spent: int = 0
    donated: int = 0
    exchanged_out: int = 0
    """District coin units exchanged into other currencies."""
    exchanged_in: int = 0
    """District coin units received in exchange for other currencies."""


@dataclass(frozen=True, slots=True)
class OrgStats(Record):
    requests: int = 0
    filled: int = 0
    """Requests whose every slot was filled."""
    partly_filled: int = 0
    unfilled: int = 0
    cancelled: int = 0
    volunteers_selected: int = 0
    activities_verified: int = 0
    minutes: int = 0
