"""Recommendations: open requests ranked for one volunteer, with the reasons. A pure function.

Each open request gets an integer score out of 1000:

    skills     400 × (required skills the volunteer prefers or has verified) ÷ (required skills)
               (400 when the request requires none)
    district   200 if the district is among the volunteer's preferred districts
               (or the volunteer prefers none), plus 100 if the volunteer has verified
               hours there already
    offer      200 × (offer per hour) ÷ (the district's most per hour)
    chance     100 × slots ÷ max(slots, applicants + 1): how likely one more applicant is chosen

every division rounding down. Requests rank by score, highest first, then by
the earlier deadline, then by request id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SKILL_POINTS = 400
PREFERRED_DISTRICT_POINTS = 200
KNOWN_DISTRICT_POINTS = 100
OFFER_POINTS = 200
CHANCE_POINTS = 100


@dataclass(frozen=True, slots=True)
class Seeker:
    """What is known of the volunteer: stated preferences and verified history."""

    preferred_districts: tuple[str, ...]
    preferred_skills: tuple[str, ...]
    verified_skills: tuple[str, ...]
    district_minutes: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Opening:
    """An open request as a recommendation sees it."""

    request: int
    district: str
    task: str
    skills: tuple[str, ...]
    offer_per_hour: int
    max_hourly: int
    slots: int
    applicants: int
    deadline_ms: int


def _rate(seeker: Seeker, opening: Opening) -> tuple[int, list[str]]:
    reasons = []
    known = set(seeker.preferred_skills) | set(seeker.verified_skills)
    required = sorted(set(opening.skills))
    if required:
        matched = [skill for skill in required if skill in known]
        skills = SKILL_POINTS * len(matched) // len(required)
        reasons.append(f"skills {len(matched)}/{len(required)} matched"
                       + (f" ({', '.join(matched)})" if matched else ""))
    else:
        skills = SKILL_POINTS
        reasons.append("no skills required")
    district = 0
    if not seeker.preferred_districts or opening.district in seeker.preferred_districts:
        district += PREFERRED_DISTRICT_POINTS
        if seeker.preferred_districts:
            reasons.append(f"preferred district {opening.district}")
    minutes = seeker.district_minutes.get(opening.district, 0)
    if minutes:
        district += KNOWN_DISTRICT_POINTS
        reasons.append(f"{minutes // 60}h {minutes % 60}m volunteered in {opening.district}")
    offer = OFFER_POINTS * min(opening.offer_per_hour, opening.max_hourly) // opening.max_hourly
    reasons.append(f"offers {opening.offer_per_hour} of at most {opening.max_hourly} per hour")
    chance = CHANCE_POINTS * opening.slots // max(opening.slots, opening.applicants + 1)
    reasons.append(f"{opening.slots} slot(s), {opening.applicants} applicant(s)")
    return skills + district + offer + chance, reasons


def recommend(seeker: Seeker, openings: Iterable[Opening], limit: int) -> list[dict[str, Any]]:
    """The best ``limit`` openings for ``seeker``, each with its score and reasons."""
    rated = [(*_rate(seeker, opening), opening) for opening in openings]
    rated.sort(key=lambda item: (-item[0], item[2].deadline_ms, item[2].request))
    return [
        {"request": opening.request, "district": opening.district, "task": opening.task,
         "offer_per_hour": opening.offer_per_hour, "deadline_ms": opening.deadline_ms,
         "score": points, "reasons": reasons}
        for points, reasons, opening in rated[:limit]
    ]
