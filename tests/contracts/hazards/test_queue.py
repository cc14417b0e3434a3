"""Each department's work list: hazards awaiting a decision (``queue``) and hazards verified but
not yet resolved (``open_work``) stay exact through every step of a hazard's life."""

from __future__ import annotations

from hashlib import sha256

import pytest

from civicledger.core.errors import NotFound, UnknownCall
from tests.contracts.hazards.test_hazards import report
from tests.contracts.incentives.city import DAY, GANGSEO_CELL, NOWON_CELL, City, refused

DEPARTMENTS = ("nowon", "gangseo", "seoul")
UNASSIGNED_CELL = "0100-0100"
"""A cell in a zone no department was assigned: its hazards fall to the operator (Seoul)."""


def ids(rows: list[dict]) -> list[int]:
    return [row["hazard"] for row in rows]


def queue(city: City, department: str, **page: int) -> list[dict]:
    return city.query("hazards", "queue", service="roads", department=department, **page)


def open_work(city: City, department: str, **page: int) -> list[dict]:
    return city.query("hazards", "open_work", service="roads", department=department, **page)


def every_hazard(city: City) -> list[dict]:
    found, hazard = [], 1
    while True:
        try:
            found.append(city.query("hazards", "hazard", service="roads", hazard=hazard))
        except NotFound:  # past the last id handed out
            return found
        hazard += 1


def assert_index_matches(city: City) -> None:
    """The lists say exactly what the hazards' own statuses say, department by department."""
    hazards = every_hazard(city)
    for department in DEPARTMENTS:
        mine = [h for h in hazards if h["department"] == department]
        assert ids(queue(city, department)) == [h["hazard"] for h in mine if h["status"] == "reported"]
        assert ids(open_work(city, department)) == [
            h["hazard"] for h in mine if h["status"] in ("verified", "repairing")]


def verify(city: City, department: str, hazard: int) -> None:
    city.ok(f"{department}_verifier", "hazards", "verify", service="roads", hazard=hazard)


def test_the_lists_follow_a_hazard_from_report_to_resolution(city: City) -> None:
    first = report(city, "alice")["hazard"]
    assert ids(queue(city, "nowon")) == [first] and queue(city, "gangseo") == []
    assert report(city, "bob")["merged"] is True
    waiting = queue(city, "nowon")
    assert ids(waiting) == [first], "a merged report joins the hazard already waiting"
    assert [r["reporter"] for r in waiting[0]["reports"]] == [city.alice, city.bob]
    assert all(len(r["photo"]) == 32 for r in waiting[0]["reports"])
    assert_index_matches(city)

    verify(city, "nowon", first)
    assert queue(city, "nowon") == [] and ids(open_work(city, "nowon")) == [first]
    assert open_work(city, "nowon")[0]["status"] == "verified"
    city.ok("nowon_verifier", "hazards", "start_repair", service="roads", hazard=first)
    assert [(h["hazard"], h["status"]) for h in open_work(city, "nowon")] == [(first, "repairing")]
    assert_index_matches(city)
    city.ok("nowon_verifier", "hazards", "resolve", service="roads", hazard=first)
    assert queue(city, "nowon") == [] and open_work(city, "nowon") == []
    assert_index_matches(city)


def test_a_rejected_hazard_leaves_the_queue_and_never_becomes_work(city: City) -> None:
    hazard = report(city, "dave", cell=GANGSEO_CELL)["hazard"]
    assert ids(queue(city, "gangseo")) == [hazard]
    city.ok("gangseo_verifier", "hazards", "reject", service="roads", hazard=hazard,
            reason="no hazard in the photo")
    assert queue(city, "gangseo") == [] and open_work(city, "gangseo") == []
    assert_index_matches(city)


def test_each_department_sees_only_its_own_hazards_oldest_first_in_pages(city: City) -> None:
    nowon = [report(city, "alice", category=c)["hazard"]
             for c in ("pothole", "sinkhole", "streetlight", "guardrail")]
    gangseo = report(city, "dave", cell=GANGSEO_CELL)["hazard"]
    elsewhere = report(city, "carol", cell=UNASSIGNED_CELL)["hazard"]
    assert ids(queue(city, "nowon")) == nowon
    assert ids(queue(city, "gangseo")) == [gangseo]
    assert ids(queue(city, "seoul")) == [elsewhere], "an unassigned zone falls to the operator"
    assert ids(queue(city, "nowon", limit=2)) == nowon[:2]
    assert ids(queue(city, "nowon", after=nowon[1], limit=2)) == nowon[2:]
    verify(city, "nowon", nowon[2])
    verify(city, "nowon", nowon[0])
    assert ids(open_work(city, "nowon")) == [nowon[0], nowon[2]]
    assert ids(open_work(city, "nowon", after=nowon[0])) == [nowon[2]]
    assert ids(queue(city, "nowon")) == [nowon[1], nowon[3]]
    assert_index_matches(city)


def test_a_hazard_keeps_its_department_when_the_zone_is_reassigned(city: City) -> None:
    hazard = report(city, "alice")["hazard"]
    city.ok("seoul_admin", "hazards", "assign_zone", service="roads", zone="041-108",
            department="gangseo")
    assert ids(queue(city, "nowon")) == [hazard] and queue(city, "gangseo") == []
    later = report(city, "bob", category="flooding")["hazard"]
    assert ids(queue(city, "gangseo")) == [later]
    assert_index_matches(city)


def test_a_new_sighting_after_the_merge_window_is_queued_beside_the_old_one(city: City) -> None:
    old = report(city, "alice")["hazard"]
    city.at(city.box.time_ms + 3 * DAY + 10)
    new = report(city, "bob")["hazard"]
    assert new != old and ids(queue(city, "nowon")) == [old, new]
    verify(city, "nowon", new)
    assert ids(queue(city, "nowon")) == [old] and ids(open_work(city, "nowon")) == [new]
    assert_index_matches(city)


def test_refused_steps_leave_the_lists_unchanged(city: City) -> None:
    hazard = report(city, "alice")["hazard"]
    photo = sha256(b"again").digest()
    refused(city, "duplicate_report", "alice", "hazards", "report", service="roads",
            category="pothole", cell=NOWON_CELL, photo=photo)
    refused(city, "not_verifier", "gangseo_verifier", "hazards", "verify", service="roads",
            hazard=hazard)
    refused(city, "wrong_status", "nowon_verifier", "hazards", "start_repair", service="roads",
            hazard=hazard)
    city.ok("seoul_admin", "incentives", "withdraw", service="roads",
            amount=city.flows("roads")["budget"])
    refused(city, "budget_exhausted", "nowon_verifier", "hazards", "verify", service="roads",
            hazard=hazard)
    assert ids(queue(city, "nowon")) == [hazard] and open_work(city, "nowon") == []
    assert_index_matches(city)


def test_the_lists_are_empty_for_a_department_with_no_work_and_refuse_bad_pages(city: City) -> None:
    assert queue(city, "nowon") == [] and open_work(city, "nobody") == []
    for bad in ({"limit": 0}, {"limit": 101}, {"after": -1}):
        with pytest.raises(UnknownCall) as refusal:
            queue(city, "nowon", **bad)
        assert refusal.value.code == "invalid_argument", bad
