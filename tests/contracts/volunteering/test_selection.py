"""The reverse auction's selection: the documented score, a total order, and determinism."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from civicledger.contracts.volunteering import selection
from civicledger.contracts.volunteering.selection import Bid, Terms
from tests.contracts.volunteering.town import HOUR_MS, Town, make_town

TERMS = Terms(slots=2, offer_per_hour=700, skills=("cooking", "driving"), start_ms=0,
              end_ms=4 * HOUR_MS)


def bid(n: int, ask: int = 700, skills: tuple[str, ...] = ("cooking", "driving"),
        available: tuple[int, int] = (0, 4 * HOUR_MS), ratings: tuple[int, int] = (0, 0)) -> Bid:
    return Bid(bytes([n]) * 20, n, ask, skills, *available, *ratings)


def test_the_score_parts_follow_the_formula() -> None:
    parts = selection.score(TERMS, bid(1, ask=350, skills=("driving", "music"),
                                       available=(HOUR_MS, 8 * HOUR_MS), ratings=(9, 2)))
    # skills 400*1/2, rating 300*450/500, ask 200*350/700, availability 100*3h/4h
    assert (parts.skills, parts.rating, parts.ask, parts.availability) == (200, 270, 100, 75)
    assert parts.total == 645
    assert selection.score(TERMS, bid(2)).rating == 180  # unrated counts as 3.00
    no_skills = Terms(1, 700, (), 0, HOUR_MS)
    assert selection.score(no_skills, bid(3, skills=())).skills == 400
    assert selection.score(TERMS, bid(4, ratings=(5, 1))).total == 400 + 300 + 0 + 100


def test_ties_go_to_the_lower_ask_then_the_earlier_application() -> None:
    # All three score 680 (an ask of 699 of 700 earns 200*1//700 = 0 points); seq 2 asks less.
    bids = [bid(3, ask=700), bid(1, ask=700), bid(2, ask=699)]
    outcomes = selection.select(Terms(1, 700, (), 0, HOUR_MS), bids)
    assert [o.seq for o in outcomes] == [2, 1, 3]
    assert [o.selected for o in outcomes] == [True, False, False]
    assert outcomes[1].reason.startswith("not selected: rank 2 of 3 for 1 slot(s); score 680")


def test_reasons_explain_every_outcome() -> None:
    outcomes = selection.select(TERMS, [bid(1), bid(2, skills=()), bid(3, ask=0 + 1)])
    assert outcomes[0].reason == (
        "selected: rank 1 of 3 for 2 slot(s); score 879 = skills 400 + rating 180 + ask 199 + "
        "availability 100")
    assert outcomes[2].reason.endswith(
        "the last selected scored 680 (ties: lower ask, then earlier application)")


def test_fewer_applicants_than_slots_are_all_selected() -> None:
    outcomes = selection.select(TERMS, [bid(1)])
    assert [(o.rank, o.selected) for o in outcomes] == [(1, True)]
    assert selection.select(TERMS, []) == ()


skills = st.lists(st.sampled_from(("cooking", "driving", "music", "care")), max_size=4, unique=True)
bids = st.lists(
    st.builds(
        lambda ask, sk, start, length, rs, rc: (ask, tuple(sk), start, start + length, rs * rc, rc),
        st.integers(1, 700), skills, st.integers(0, 5 * HOUR_MS), st.integers(1, 5 * HOUR_MS),
        st.integers(1, 5), st.integers(0, 3),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(bids, st.integers(1, 5), st.randoms(use_true_random=False))
def test_the_order_of_applications_does_not_change_the_winners(raw, slots, rng) -> None:
    """Same applications in any order → the same winners, ranks, scores and reasons."""
    terms = Terms(slots, 700, ("cooking", "driving"), HOUR_MS, 4 * HOUR_MS)
    given_bids = [Bid(bytes([n]) * 20, n, *fields) for n, fields in enumerate(raw, start=1)]
    shuffled = list(given_bids)
    rng.shuffle(shuffled)
    assert selection.select(terms, shuffled) == selection.select(terms, given_bids)
    outcomes = selection.select(terms, given_bids)
    assert sum(o.selected for o in outcomes) == min(slots, len(raw))
    assert [o.rank for o in outcomes] == list(range(1, len(raw) + 1))
    scores = [o.score for o in outcomes]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= selection.MAX_SCORE for s in scores)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 700), skills, st.integers(0, 2)), min_size=1, max_size=6),
       st.integers(1, 3))
def test_the_contract_selects_what_the_pure_function_selects(raw, slots) -> None:
    """The contract stores the pure function's outcome for the same bids, and two peers running
    the same transactions end with the same state, byte for byte."""
    first = make_town()
    peers = [first, make_town(first.who)]
    volunteers = [bytes([n]) * 20 for n in range(1, len(raw) + 1)]
    for town in peers:
        request = town.post(slots=slots, skills=("cooking", "driving"))
        record = town.query("request", request=request)
        for volunteer, (ask, sk, hours) in zip(volunteers, raw, strict=True):
            assert town.call(volunteer, "apply", request=request, ask_per_hour=ask, skills=sk,
                             available_from_ms=record["start_ms"] + hours * HOUR_MS,
                             available_until_ms=record["end_ms"]).ok
    terms = Terms(slots, 700, ("cooking", "driving"), record["start_ms"], record["end_ms"])
    pure = [(o.volunteer, o.rank, o.selected, o.score, o.reason)
            for o in selection.select(terms, reversed(_bids(first, request)))]
    for town in peers:
        town.to_deadline(request)
        assert town.call(town.minji, "select", request=request).ok
        stored = sorted(
            ((a["volunteer"], a["rank"], a["status"] == "selected", a["score"], a["reason"])
             for a in town.query("applications_for", request=request)), key=lambda row: row[1])
        assert stored == pure
    assert peers[0].box.state.entries == peers[1].box.state.entries


def _bids(town: Town, request: int) -> list[Bid]:
    return [Bid(a["volunteer"], a["seq"], a["ask_per_hour"], tuple(a["skills"]),
                a["available_from_ms"], a["available_until_ms"])
            for a in town.query("applications_for", request=request)]
