"""Governance: member organisations, roles, parameters and quorum proposals."""

from __future__ import annotations

from typing import Any

import pytest

from civicledger.contracts.framework import contract_account
from civicledger.contracts.governance import Governance
from civicledger.contracts.governance.contract import (
    DEFAULT_QUORUM_PERCENT,
    MAX_PROPOSAL_TTL_MS,
    Org,
    ProposalStatus,
)
from civicledger.contracts.storage import encode_key
from civicledger.contracts.testing import Sandbox
from civicledger.core import encoding
from civicledger.core.address import address_of, to_text
from civicledger.core.block import Receipt
from civicledger.core.crypto import KeyPair
from civicledger.core.errors import NotFound


def account(n: int) -> bytes:
    return address_of(KeyPair.from_seed(bytes([n]) * 32).public_key)


CITY, NOWON, NGO = account(1), account(2), account(3)  # the founding orgs' admins
ALICE, BOB, NEWCOMER = account(10), account(11), account(12)
DAY = 24 * 3600 * 1000


def org_doc(org: str, name: str, admin: bytes, roles: dict[bytes, list[str]] | None = None) -> dict:
    return {
        "id": org,
        "name": name,
        "admins": [to_text(admin)],
        "roles": {to_text(a): r for a, r in (roles or {}).items()},
    }


GENESIS = {
    "governance": {
        "orgs": [
            org_doc("city", "Seoul City Hall", CITY, {ALICE: ["issuer", "operator"]}),
            org_doc("nowon", "Nowon District", NOWON, {ALICE: ["verifier"]}),
            org_doc("ngo", "Volunteer Centre", NGO),
        ],
        "params": {"max_hours": 8},
    }
}


@pytest.fixture
def box() -> Sandbox:
    return Sandbox([Governance], GENESIS)


def snapshot(box: Sandbox) -> dict[bytes, bytes]:
    return dict(box.state.entries)


def refused(receipt: Receipt, code: str) -> None:
    assert receipt.status == code, receipt
    assert receipt.message


def propose(box: Sandbox, admin: bytes, org: str, method: str, /, **args: Any) -> Receipt:
    return box.call(
        admin,
        "governance",
        "propose",
        org=org,
        contract="governance",
        method=method,
        args=args,
        expires_ms=box.time_ms + DAY,
    )


def deactivate(box: Sandbox, org: str) -> None:
    """Mark an org inactive in state (no method does this yet; the record supports it)."""
    key = encode_key(("governance", "org")) + encode_key((org,))
    record = Org.from_value(encoding.decode(box.state.entries[key], max_size=1 << 16))
    box.state.entries[key] = encoding.encode(record.replace(active=False).to_value())


# -- genesis and queries ---------------------------------------------------------


def test_genesis_orgs_roles_and_params(box: Sandbox) -> None:
    assert [o["id"] for o in box.query("governance", "orgs_list")] == ["city", "ngo", "nowon"]
    assert box.query("governance", "org", org="city") == {
        "id": "city",
        "name": "Seoul City Hall",
        "admins": [CITY],
        "active": True,
    }
    assert box.query("governance", "param", name="quorum_percent") == DEFAULT_QUORUM_PERCENT
    assert box.query("governance", "param", name="max_hours") == 8
    assert box.query("governance", "roles_of", account=ALICE) == [
        ["issuer", "city"],
        ["operator", "city"],
        ["verifier", "nowon"],
    ]
    assert box.query("governance", "has_role", account=ALICE, role="issuer", org="city")
    assert box.query("governance", "has_role", account=ALICE, role="issuer")
    assert not box.query("governance", "has_role", account=ALICE, role="issuer", org="nowon")
    assert not box.query("governance", "has_role", account=BOB, role="issuer")


@pytest.mark.parametrize(
    ("name", "args"),
    [("org", {"org": "ghost"}), ("param", {"name": "ghost"}), ("proposal", {"proposal": 1})],
)
def test_queries_for_missing_things(box: Sandbox, name: str, args: dict[str, Any]) -> None:
    with pytest.raises(NotFound):
        box.query("governance", name, **args)


def test_roles_in_an_unknown_org_count_for_nothing(box: Sandbox) -> None:
    assert not box.query("governance", "has_role", account=ALICE, role="issuer", org="ghost")
    refused(
        box.call(CITY, "governance", "grant_role", org="ghost", account=BOB, role="issuer"),
        "not_found",
    )


# -- admins and roles ------------------------------------------------------------


def test_admin_grants_and_revokes_roles_in_own_org(box: Sandbox) -> None:
    receipt = box.call(CITY, "governance", "grant_role", org="city", account=BOB, role="merchant")
    assert receipt.ok
    (event,) = receipt.events
    assert event.name == "RoleGranted" and event.topics == (BOB,)
    assert dict(event.data) == {"org": "city", "account": BOB, "role": "merchant"}
    assert box.query("governance", "has_role", account=BOB, role="merchant", org="city")

    receipt = box.call(CITY, "governance", "revoke_role", org="city", account=BOB, role="merchant")
    assert receipt.ok and receipt.events[0].name == "RoleRevoked"
    assert not box.query("governance", "has_role", account=BOB, role="merchant")


def test_only_an_admin_of_the_org_manages_its_roles(box: Sandbox) -> None:
    before = snapshot(box)
    for signer in (NOWON, ALICE, BOB):
        refused(
            box.call(signer, "governance", "grant_role", org="city", account=BOB, role="issuer"),
            "not_admin",
        )
        refused(
            box.call(signer, "governance", "revoke_role", org="city", account=ALICE, role="issuer"),
            "not_admin",
        )
    assert snapshot(box) == before


def test_double_grant_is_a_conflict(box: Sandbox) -> None:
    refused(
        box.call(CITY, "governance", "grant_role", org="city", account=ALICE, role="issuer"),
        "conflict",
    )


def test_revoking_a_role_not_held_is_not_found(box: Sandbox) -> None:
    refused(
        box.call(CITY, "governance", "revoke_role", org="city", account=BOB, role="issuer"),
        "not_found",
    )
    # a role held in another org is a different role
    refused(
        box.call(CITY, "governance", "revoke_role", org="city", account=ALICE, role="verifier"),
        "not_found",
    )


def test_role_names_are_checked(box: Sandbox) -> None:
    refused(
        box.call(CITY, "governance", "grant_role", org="city", account=BOB, role="Issuer!"),
        "invalid_argument",
    )


def test_set_admins_replaces_the_admin_set(box: Sandbox) -> None:
    receipt = box.call(CITY, "governance", "set_admins", org="city", admins=[BOB, NEWCOMER])
    assert receipt.ok and receipt.events[0].name == "AdminsChanged"
    assert box.query("governance", "org", org="city")["admins"] == [BOB, NEWCOMER]
    refused(
        box.call(CITY, "governance", "grant_role", org="city", account=BOB, role="x"), "not_admin"
    )
    assert box.call(BOB, "governance", "grant_role", org="city", account=BOB, role="x").ok


@pytest.mark.parametrize(
    ("signer", "org", "admins", "code"),
    [
        (NOWON, "city", [NOWON], "not_admin"),
        (CITY, "ghost", [CITY], "not_found"),
        (CITY, "city", [], "invalid_argument"),
        (CITY, "city", [BOB, BOB], "invalid_argument"),
        (CITY, "city", [b"short"], "invalid_argument"),
    ],
)
def test_set_admins_refusals(
    box: Sandbox, signer: bytes, org: str, admins: list[bytes], code: str
) -> None:
    refused(box.call(signer, "governance", "set_admins", org=org, admins=admins), code)


# -- what only a proposal may do -------------------------------------------------


def test_add_org_and_set_param_need_a_quorum(box: Sandbox) -> None:
    before = snapshot(box)
    refused(
        box.call(CITY, "governance", "add_org", org="gangnam", name="Gangnam", admins=[NEWCOMER]),
        "needs_quorum",
    )
    refused(box.call(CITY, "governance", "set_param", name="max_hours", value=9), "needs_quorum")
    assert snapshot(box) == before


# -- proposals -------------------------------------------------------------------


def test_proposal_lifecycle_until_executed(box: Sandbox) -> None:
    receipt = propose(box, CITY, "city", "add_org", org="gangnam", name="Gangnam", admins=[NEWCOMER])
    assert receipt.ok and receipt.result == 1
    assert [e.name for e in receipt.events] == ["Proposed", "Approved"]
    assert dict(receipt.events[1].data) == {"id": 1, "org": "city", "approvals": 1, "required": 2}
    proposal = box.query("governance", "proposal", proposal=1)
    assert proposal["status"] == "open"
    assert proposal["approvals"] == ["city"] and proposal["required"] == 2
    assert proposal["args"] == {"org": "gangnam", "name": "Gangnam", "admins": (NEWCOMER,)}

    receipt = box.call(NOWON, "governance", "approve", org="nowon", proposal=1)
    assert receipt.ok and receipt.result == ProposalStatus.EXECUTED
    assert [e.name for e in receipt.events] == ["Approved", "OrgAdded", "Decided"]
    proposal = box.query("governance", "proposal", proposal=1)
    assert proposal["status"] == "executed" and proposal["approvals"] == ["city", "nowon"]
    assert box.query("governance", "org", org="gangnam")["admins"] == [NEWCOMER]
    # the new member counts towards the quorum at once: 4 orgs need 3 approvals
    receipt = propose(box, NEWCOMER, "gangnam", "set_param", name="max_hours", value=9)
    assert receipt.ok
    assert box.query("governance", "proposal", proposal=2)["required"] == 3

    refused(box.call(NGO, "governance", "approve", org="ngo", proposal=1), "conflict")


def test_proposal_ids_count_up(box: Sandbox) -> None:
    assert propose(box, CITY, "city", "set_param", name="a", value=1).result == 1
    assert propose(box, NGO, "ngo", "set_param", name="b", value=2).result == 2


def test_a_refused_call_marks_the_proposal_failed(box: Sandbox) -> None:
    assert propose(box, CITY, "city", "add_org", org="city", name="Again", admins=[NEWCOMER]).ok
    before = snapshot(box)
    receipt = box.call(NGO, "governance", "approve", org="ngo", proposal=1)
    assert receipt.ok and receipt.result == ProposalStatus.FAILED
    proposal = box.query("governance", "proposal", proposal=1)
    assert proposal["status"] == "failed"
    assert proposal["outcome"].startswith("conflict: ")
    decided = receipt.events[-1]
    assert decided.name == "Decided" and decided.data["status"] == "failed"
    assert box.query("governance", "org", org="city")["name"] == "Seoul City Hall"
    changed = {k for k in snapshot(box) if before.get(k) != snapshot(box)[k]}
    assert changed == {encode_key(("governance", "proposal")) + encode_key((1,))}


def test_a_proposal_cannot_use_an_admin_power(box: Sandbox) -> None:
    """Governance acting on a passed proposal is no org's admin."""
    assert propose(box, CITY, "city", "grant_role", org="city", account=BOB, role="issuer").ok
    assert box.call(NOWON, "governance", "approve", org="nowon", proposal=1).result == "failed"
    assert box.query("governance", "proposal", proposal=1)["outcome"].startswith("not_admin")
    assert not box.query("governance", "has_role", account=BOB, role="issuer")


def test_approving_an_expired_proposal_is_refused(box: Sandbox) -> None:
    assert propose(box, CITY, "city", "set_param", name="max_hours", value=9).ok
    box.advance(DAY + 1)
    assert box.query("governance", "proposal", proposal=1)["status"] == "expired"
    refused(box.call(NOWON, "governance", "approve", org="nowon", proposal=1), "proposal_expired")
    assert box.query("governance", "param", name="max_hours") == 8


def test_double_approval_is_a_conflict(box: Sandbox) -> None:
    assert propose(box, CITY, "city", "set_param", name="max_hours", value=9).ok
    refused(box.call(CITY, "governance", "approve", org="city", proposal=1), "conflict")
    assert box.query("governance", "proposal", proposal=1)["approvals"] == ["city"]


@pytest.mark.parametrize(
    ("signer", "org", "proposal", "code"),
    [
        (BOB, "nowon", 1, "not_admin"),
        (CITY, "nowon", 1, "not_admin"),
        (NOWON, "ghost", 1, "not_found"),
        (NOWON, "nowon", 2, "not_found"),
        (NOWON, "nowon", 0, "invalid_argument"),
    ],
)
def test_approve_refusals(box: Sandbox, signer: bytes, org: str, proposal: int, code: str) -> None:
    assert propose(box, CITY, "city", "set_param", name="max_hours", value=9).ok
    refused(box.call(signer, "governance", "approve", org=org, proposal=proposal), code)


@pytest.mark.parametrize(
    ("contract", "method", "args", "code"),
    [
        ("governance", "dissolve", {}, "unknown_method"),
        ("governance", "org", {"org": "city"}, "unknown_method"),  # a query is not callable
        ("treasury", "pay", {}, "unknown_contract"),
        ("governance", "set_param", {"name": "x"}, "invalid_argument"),
        ("governance", "set_param", {"name": "x", "value": -1}, "invalid_argument"),
    ],
)
def test_propose_checks_the_call_up_front(
    box: Sandbox, contract: str, method: str, args: dict[str, Any], code: str
) -> None:
    before = snapshot(box)
    receipt = box.call(
        CITY,
        "governance",
        "propose",
        org="city",
        contract=contract,
        method=method,
        args=args,
        expires_ms=box.time_ms + DAY,
    )
    refused(receipt, code)
    assert snapshot(box) == before


@pytest.mark.parametrize("offset", [0, -1, MAX_PROPOSAL_TTL_MS + 2])
def test_propose_expiry_window(box: Sandbox, offset: int) -> None:
    receipt = box.call(
        CITY,
        "governance",
        "propose",
        org="city",
        contract="governance",
        method="set_param",
        args={"name": "x", "value": 1},
        expires_ms=box.time_ms + offset,  # the call's block time is one ms later
    )
    refused(receipt, "out_of_range")


def test_propose_needs_an_admin(box: Sandbox) -> None:
    refused(propose(box, ALICE, "city", "set_param", name="x", value=1), "not_admin")


def test_quorum_percent_changes_through_a_proposal(box: Sandbox) -> None:
    assert propose(box, CITY, "city", "set_param", name="quorum_percent", value=100).ok
    assert box.call(NGO, "governance", "approve", org="ngo", proposal=1).result == "executed"
    assert box.query("governance", "param", name="quorum_percent") == 100

    assert propose(box, CITY, "city", "set_param", name="max_hours", value=10).ok
    assert box.query("governance", "proposal", proposal=2)["required"] == 3
    assert box.call(NGO, "governance", "approve", org="ngo", proposal=2).result == "open"
    assert box.query("governance", "param", name="max_hours") == 8
    assert box.call(NOWON, "governance", "approve", org="nowon", proposal=2).result == "executed"
    assert box.query("governance", "param", name="max_hours") == 10


def test_quorum_percent_out_of_range_fails_the_proposal(box: Sandbox) -> None:
    assert propose(box, CITY, "city", "set_param", name="quorum_percent", value=0).ok
    assert box.call(NGO, "governance", "approve", org="ngo", proposal=1).result == "failed"
    assert box.query("governance", "proposal", proposal=1)["outcome"].startswith("out_of_range")
    assert box.query("governance", "param", name="quorum_percent") == DEFAULT_QUORUM_PERCENT


def test_a_sole_member_decides_alone() -> None:
    box = Sandbox([Governance], {"governance": {"orgs": [org_doc("city", "Seoul", CITY)]}})
    receipt = propose(box, CITY, "city", "set_param", name="max_hours", value=6)
    assert receipt.ok
    assert box.query("governance", "proposal", proposal=1)["status"] == "executed"
    assert box.query("governance", "param", name="max_hours") == 6
    assert receipt.events[-1].name == "Decided"


def test_set_param_event_and_value(box: Sandbox) -> None:
    assert propose(box, CITY, "city", "set_param", name="max_hours", value=12).ok
    receipt = box.call(NOWON, "governance", "approve", org="nowon", proposal=1)
    param_set = next(e for e in receipt.events if e.name == "ParamSet")
    assert dict(param_set.data) == {"name": "max_hours", "value": 12}
    assert box.query("governance", "param", name="max_hours") == 12


def test_executed_call_runs_with_governance_as_sender(box: Sandbox) -> None:
    """Only the governance account passes _require_governance; the proposer's key does not."""
    assert contract_account("governance") not in (CITY, NOWON, NGO)
    assert propose(box, CITY, "city", "set_param", name="x", value=1).ok
    assert box.call(NOWON, "governance", "approve", org="nowon", proposal=1).result == "executed"


# -- deactivated organisations ---------------------------------------------------


def test_a_deactivated_org_loses_roles_admin_power_and_its_vote(box: Sandbox) -> None:
    assert propose(box, CITY, "city", "set_param", name="max_hours", value=9).ok
    deactivate(box, "nowon")
    assert box.query("governance", "org", org="nowon")["active"] is False
    assert not box.query("governance", "has_role", account=ALICE, role="verifier", org="nowon")
    assert not box.query("governance", "has_role", account=ALICE, role="verifier")
    assert box.query("governance", "has_role", account=ALICE, role="issuer")  # city still active
    refused(
        box.call(NOWON, "governance", "grant_role", org="nowon", account=BOB, role="x"),
        "not_found",
    )
    refused(box.call(NOWON, "governance", "approve", org="nowon", proposal=1), "not_found")
    # two active orgs: more than half of two is two
    assert box.query("governance", "proposal", proposal=1)["required"] == 2
    assert box.call(NGO, "governance", "approve", org="ngo", proposal=1).result == "executed"
