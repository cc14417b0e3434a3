"""The reverse auction's selection: a pure function, the same on every peer.

Each applicant gets an integer score out of 1000, in four parts:

    skills        400 × (required skills the applicant has) ÷ (required skills)
                  (400 when the request requires none)
    rating        300 × (average rating in hundredths, 100…500) ÷ 500
                  (a volunteer with no rating yet counts as 3.00, i.e. 180)
    ask           200 × (offer − ask) ÷ offer        the reverse auction: cheaper scores higher
    availability  100 × (minutes of the window the applicant is available) ÷ (window minutes)

every division rounding down. Applicants are ranked by score, highest first;
a tie goes to the lower ask, then to the earlier application (``seq``), then to
the smaller address, so the order is total and does not depend on the order
the applications are given in. The first ``slots`` are selected. Every
applicant gets a reason that spells out the parts, the rank and, for those
not selected, the score of the last one selected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SKILL_POINTS = 400
RATING_POINTS = 300
ASK_POINTS = 200
AVAILABILITY_POINTS = 100
MAX_SCORE = SKILL_POINTS + RATING_POINTS + ASK_POINTS + AVAILABILITY_POINTS
NEUTRAL_RATING_CENTI = 300
"""The average rating (in hundredths) assumed for a volunteer never rated."""
TOP_RATING_CENTI = 500


@dataclass(frozen=True, slots=True)
class Terms:
    """What the request asks for."""

    slots: int
    offer_per_hour: int
    skills: tuple[str, ...]
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class Bid:
    """One application with the applicant's rating history at selection time."""

    volunteer: bytes
    seq: int
    ask_per_hour: int
    skills: tuple[str, ...]
    available_from_ms: int
    available_until_ms: int
    rating_sum: int = 0
    rating_count: int = 0


@dataclass(frozen=True, slots=True)
class Score:
    skills: int
    rating: int
    ask: int
    availability: int

    @property
    def total(self) -> int:
        return self.skills + self.rating + self.ask + self.availability

    def explain(self) -> str:
        return (f"score {self.total} = skills {self.skills} + rating {self.rating} + "
                f"ask {self.ask} + availability {self.availability}")


@dataclass(frozen=True, slots=True)
class Outcome:
    volunteer: bytes
    seq: int
    score: int
    rank: int
    """1 for the best applicant."""
    selected: bool
    reason: str


def average_rating_centi(rating_sum: int, rating_count: int) -> int:
    """The average rating in hundredths (100…500); the neutral 300 with no rating yet."""
    return rating_sum * 100 // rating_count if rating_count else NEUTRAL_RATING_CENTI


def score(terms: Terms, bid: Bid) -> Score:
    required = set(terms.skills)
    matched = len(required & set(bid.skills))
    skills = SKILL_POINTS * matched // len(required) if required else SKILL_POINTS
    rating = RATING_POINTS * average_rating_centi(bid.rating_sum, bid.rating_count) // TOP_RATING_CENTI
    ask = ASK_POINTS * (terms.offer_per_hour - bid.ask_per_hour) // terms.offer_per_hour
    window = terms.end_ms - terms.start_ms
    covered = max(0, min(terms.end_ms, bid.available_until_ms) - max(terms.start_ms, bid.available_from_ms))
    availability = AVAILABILITY_POINTS * covered // window
    return Score(skills, rating, ask, availability)


def select(terms: Terms, bids: Iterable[Bid]) -> tuple[Outcome, ...]:
    """Rank ``bids`` and select the first ``terms.slots``; returns every outcome in rank order."""
    scored = [(score(terms, bid), bid) for bid in bids]
    scored.sort(key=lambda item: (-item[0].total, item[1].ask_per_hour, item[1].seq, item[1].volunteer))
    count = len(scored)
    chosen = min(terms.slots, count)
    cutoff = scored[chosen - 1][0].total if chosen else 0
    outcomes = []
    for rank, (parts, bid) in enumerate(scored, start=1):
        selected = rank <= terms.slots
        place = f"rank {rank} of {count} for {terms.slots} slot(s)"
        if selected:
            reason = f"selected: {place}; {parts.explain()}"
        else:
            reason = (f"not selected: {place}; {parts.explain()}; "
                      f"the last selected scored {cutoff} (ties: lower ask, then earlier application)")
        outcomes.append(Outcome(bid.volunteer, bid.seq, parts.total, rank, selected, reason))
    return tuple(outcomes)
