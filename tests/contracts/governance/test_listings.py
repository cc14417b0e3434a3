"""Governance listings for the operators' console: who holds roles in an organisation, and
the proposals newest first. Both are index walks, never scans of every role or proposal."""

from __future__ import annotations

import itertools

import pytest

from civicledger.contracts.governance import Governance
from civicledger.contracts.testing import Sandbox
from civicledger.core.errors import NotFound, UnknownCall
from tests.contracts.governance.test_governance import (
    ALICE,
    BOB,
    CITY,
    GENESIS,
    NEWCOMER,
    NGO,
    NOWON,
    propose,
    snapshot,
)


@pytest.fixture
def box() -> Sandbox:
    return Sandbox([Governance], GENESIS)


def holders(box: Sandbox, org: str, **args) -> list[list]:
    return box.query("governance", "role_holders", org=org, **args)


def test_genesis_roles_are_listed_by_org(box: Sandbox) -> None:
    assert holders(box, "city") == [["issuer", ALICE], ["operator", ALICE]]
    assert holders(box, "nowon") == [["verifier", ALICE]]
    assert holders(box, "ngo") == []


def test_grants_and_revocations_show_in_the_listing(box: Sandbox) -> None:
    assert box.call(NOWON, "governance", "grant_role", org="nowon", account=BOB, role="citizen").ok
    assert box.call(NOWON, "governance", "grant_role", org="nowon", account=NEWCOMER,
                    role="citizen").ok
    citizens = sorted([["citizen", BOB], ["citizen", NEWCOMER]])
    assert holders(box, "nowon") == [*citizens, ["verifier", ALICE]]
    assert holders(box, "nowon", role="citizen") == citizens
    assert holders(box, "city") == [["issuer", ALICE], ["operator", ALICE]], "other orgs unchanged"

    assert box.call(NOWON, "governance", "revoke_role", org="nowon", account=BOB, role="citizen").ok
    assert holders(box, "nowon", role="citizen") == [["citizen", NEWCOMER]]
    assert box.query("governance", "roles_of", account=BOB) == []


def test_a_refused_grant_adds_nothing_to_the_listing(box: Sandbox) -> None:
    before = snapshot(box)
    refused = box.call(ALICE, "governance", "grant_role", org="nowon", account=BOB, role="citizen")
    assert refused.status == "not_admin"
    assert snapshot(box) == before and holders(box, "nowon") == [["verifier", ALICE]]


def test_the_listing_pages_after_the_last_pair(box: Sandbox) -> None:
    people = [bytes([n]) * 20 for n in range(1, 8)]
    for person, role in itertools.product(people, ("citizen", "merchant")):
        assert box.call(CITY, "governance", "grant_role", org="city", account=person, role=role).ok
    everyone = holders(box, "city", limit=200)
    assert len(everyone) == 2 + 2 * len(people)
    assert everyone == sorted(everyone), "by role, then account"
    pages, after = [], {}
    while True:
        page = holders(box, "city", limit=3, **after)
        if not page:
            break
        pages.extend(page)
        after = {"after_role": page[-1][0], "after_account": page[-1][1]}
    assert pages == everyone

    merchants = holders(box, "city", role="merchant", limit=200)
    first = holders(box, "city", role="merchant", limit=4)
    rest = holders(box, "city", role="merchant", after_account=first[-1][1], limit=200)
    assert first + rest == merchants and len(merchants) == len(people)
    # after a role alone: the next page starts at the following role
    assert holders(box, "city", after_role="issuer", limit=1) == [["merchant", people[0]]]


def test_listing_an_unknown_org_is_not_found(box: Sandbox) -> None:
    with pytest.raises(NotFound):
        holders(box, "ghost")
    with pytest.raises(UnknownCall):
        holders(box, "city", limit=0)


def test_proposals_are_listed_newest_first_with_their_state(box: Sandbox) -> None:
    assert box.query("governance", "proposals_list") == []
    assert propose(box, CITY, "city", "set_param", name="max_hours", value=9).ok
    assert propose(box, NGO, "ngo", "set_param", name="max_days", value=2).ok
    assert box.call(NOWON, "governance", "approve", org="nowon", proposal=1).result == "executed"
    listed = box.query("governance", "proposals_list")
    assert [p["id"] for p in listed] == [2, 1]
    assert listed[1] == box.query("governance", "proposal", proposal=1)
    assert listed[1]["status"] == "executed" and listed[1]["approvals"] == ["city", "nowon"]
    assert listed[0]["status"] == "open" and listed[0]["required"] == 2
    assert listed[0]["args"] == {"name": "max_days", "value": 2}


def test_proposals_page_before_an_id(box: Sandbox) -> None:
    for value in range(1, 6):
        assert propose(box, CITY, "city", "set_param", name="x", value=value).ok
    assert [p["id"] for p in box.query("governance", "proposals_list", limit=2)] == [5, 4]
    assert [p["id"] for p in box.query("governance", "proposals_list", before=4, limit=2)] == [3, 2]
    assert [p["id"] for p in box.query("governance", "proposals_list", before=2)] == [1]
    assert box.query("governance", "proposals_list", before=1) == []
    assert [p["id"] for p in box.query("governance", "proposals_list", before=99, limit=1)] == [5]


def test_listed_proposals_show_expiry(box: Sandbox) -> None:
    assert propose(box, CITY, "city", "set_param", name="x", value=1).ok
    box.advance(2 * 24 * 3600 * 1000)
    assert box.query("governance", "proposals_list")[0]["status"] == "expired"


def test_required_approvals_is_a_query_that_follows_the_quorum(box: Sandbox) -> None:
    assert box.query("governance", "required_approvals") == 2  # more than half of three
    assert propose(box, CITY, "city", "set_param", name="quorum_percent", value=100).ok
    assert box.call(NGO, "governance", "approve", org="ngo", proposal=1).result == "executed"
    assert box.query("governance", "required_approvals") == 3
