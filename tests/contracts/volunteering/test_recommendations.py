"""Profiles and recommendations: open requests ranked by preferences and history, explained."""

from __future__ import annotations

from civicledger.contracts.volunteering import recommendation
from civicledger.contracts.volunteering.recommendation import Opening, Seeker
from tests.contracts.volunteering.town import HOUR_MS, make_town


def opening(request: int, district: str = "nowon", skills: tuple[str, ...] = (), offer: int = 700,
            slots: int = 1, applicants: int = 0, deadline: int = 10) -> Opening:
    return Opening(request, district, "task", skills, offer, 700, slots, applicants, deadline)


def test_the_score_follows_the_formula_and_names_its_reasons() -> None:
    seeker = Seeker(("nowon",), ("cooking",), ("driving",), {"nowon": 150})
    (best,) = recommendation.recommend(
        seeker, [opening(1, skills=("cooking", "driving", "music"), offer=350, slots=2,
                         applicants=3)], 5)
    # skills 400*2/3, district 200+100, offer 200*350/700, chance 100*2/4
    assert best["score"] == 266 + 300 + 100 + 50
    assert best["reasons"] == ["skills 2/3 matched (cooking, driving)", "preferred district nowon",
                               "2h 30m volunteered in nowon", "offers 350 of at most 700 per hour",
                               "2 slot(s), 3 applicant(s)"]


def test_ranking_is_by_score_then_deadline_then_id() -> None:
    seeker = Seeker((), (), (), {})
    ranked = recommendation.recommend(
        seeker, [opening(3, deadline=5), opening(1, deadline=9), opening(2, deadline=5),
                 opening(4, offer=100)], 3)
    assert [r["request"] for r in ranked] == [2, 3, 1]


def test_recommend_ranks_open_requests_for_the_volunteer() -> None:
    town = make_town()
    town.earn(town.minji, hours=2)  # verified skills driving, elderly-care; 2h in nowon
    far = town.post(org="school", skills=("music",), offer_per_hour=800, place="gangseo:hwagok")
    near = town.post(skills=("driving",), offer_per_hour=600)
    cheap = town.post(skills=("driving",), offer_per_hour=100)
    applied = town.post(skills=())
    assert town.apply(town.minji, applied, ask=100, skills=()).ok
    town.ok(town.minji, "set_preferences", districts=["nowon"], skills=["cooking"])

    ranked = town.query("recommend", volunteer=town.minji)
    assert [r["request"] for r in ranked] == [near, cheap, far]
    top = ranked[0]
    assert top["score"] == 400 + 300 + 171 + 100
    assert "skills 1/1 matched (driving)" in top["reasons"]
    assert "2h 0m volunteered in nowon" in top["reasons"]
    assert ranked[2]["reasons"][0] == "skills 0/1 matched"
    assert len(town.query("recommend", volunteer=town.minji, limit=1)) == 1

    # Past the deadline a request is no longer recommended, even before selection ran.
    town.box.advance(13 * HOUR_MS)
    assert town.query("recommend", volunteer=town.minji) == []


def test_profile_lists_preferences_and_history() -> None:
    town = make_town()
    town.earn(town.junho, hours=1)
    town.earn(town.junho, hours=2, org="school")
    town.ok(town.junho, "set_preferences", districts=["gangseo"], skills=["music"])
    profile = town.query("profile", volunteer=town.junho)
    assert profile["districts"] == {"gangseo": 120, "nowon": 60}
    assert (profile["hours"], profile["activities"], profile["rating_centi"]) == (3, 2, 500)
    assert profile["credits_earned"] == 700 + 1_400
    assert (profile["preferred_districts"], profile["preferred_skills"]) == (["gangseo"], ["music"])
    assert [a["request"] for a in town.query("activities_of", volunteer=town.junho)] == [1, 2]
    assert [a["request"] for a in town.query("activities_of", volunteer=town.junho, after=1)] == [2]
    assert town.query("profile", volunteer=town.minji)["activities"] == 0


def test_a_volunteers_applications_are_listed_by_request_and_page() -> None:
    town = make_town()
    first, second, third = (town.post(skills=()) for _ in range(3))
    for request in (third, first):
        assert town.apply(town.minji, request, ask=600, skills=()).ok
    assert town.apply(town.junho, second, skills=()).ok
    mine = town.query("applications_of", volunteer=town.minji)
    assert [(a["request"], a["ask_per_hour"], a["status"]) for a in mine] == [
        (first, 600, "applied"), (third, 600, "applied")]
    assert [a["request"] for a in town.query("applications_of", volunteer=town.minji,
                                              after=first)] == [third]
    assert [a["request"] for a in town.query("applications_of", volunteer=town.minji,
                                              limit=1)] == [first]
    assert [a["request"] for a in town.query("applications_of", volunteer=town.junho)] == [second]
    assert town.query("applications_of", volunteer=town.dohyun) == []
