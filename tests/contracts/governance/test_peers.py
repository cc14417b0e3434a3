"""Governance: member peers' keys and the finality quorum."""

from __future__ import annotations

import pytest

from civicledger.contracts.governance import Governance
from civicledger.contracts.testing import Sandbox
from civicledger.core.crypto import KeyPair
from tests.contracts.governance.test_governance import (
    CITY,
    GENESIS,
    NOWON,
    propose,
    refused,
    snapshot,
)

CITY_PEER = KeyPair.from_seed(b"\x31" * 32).public_key
NOWON_PEER = KeyPair.from_seed(b"\x32" * 32).public_key
NOWON_NEW = KeyPair.from_seed(b"\x33" * 32).public_key
NGO_PEER = KeyPair.from_seed(b"\x34" * 32).public_key


@pytest.fixture
def box() -> Sandbox:
    genesis = {"governance": {**GENESIS["governance"], "peers": [
        {"org": "city", "key": CITY_PEER.hex()}, {"org": "nowon", "key": NOWON_PEER.hex()},
    ]}}
    return Sandbox([Governance], genesis)


def keys(box: Sandbox, height: int | None = None) -> dict[str, bytes]:
    return {p["org"]: p["key"] for p in box.query("governance", "peers", height=height)["peers"]}


def passed(box: Sandbox, method: str, **args: object) -> None:
    """Propose as the city and approve as Nowon (2 of 3 orgs: the quorum)."""
    receipt = propose(box, CITY, "city", method, **args)
    assert receipt.ok, receipt
    approval = box.call(NOWON, "governance", "approve", org="nowon", proposal=receipt.result)
    assert approval.ok and approval.result == "executed", approval


def test_genesis_peers_and_the_default_quorum_is_a_majority(box: Sandbox) -> None:
    answer = box.query("governance", "peers")
    assert answer["quorum"] == 2  # a majority of 2 peers
    assert keys(box) == {"city": CITY_PEER, "nowon": NOWON_PEER}
    passed(box, "set_peer_key", org="ngo", key=NGO_PEER)
    assert box.query("governance", "peers")["quorum"] == 2  # a majority of 3


def test_a_rotated_key_counts_from_its_block_and_the_old_one_before(box: Sandbox) -> None:
    passed(box, "set_peer_key", org="nowon", key=NOWON_NEW)
    rotated_at = box.height
    assert keys(box)["nowon"] == NOWON_NEW
    assert keys(box, rotated_at)["nowon"] == NOWON_NEW
    assert keys(box, rotated_at - 1)["nowon"] == NOWON_PEER
    assert keys(box, 0)["nowon"] == NOWON_PEER


def test_a_removed_peer_stops_counting_and_the_quorum_follows(box: Sandbox) -> None:
    passed(box, "remove_peer_key", org="nowon")
    assert keys(box) == {"city": CITY_PEER}
    assert box.query("governance", "peers")["quorum"] == 1
    assert keys(box, box.height - 1) == {"city": CITY_PEER, "nowon": NOWON_PEER}


def test_a_set_finality_quorum_is_used_and_bounded(box: Sandbox) -> None:
    passed(box, "set_param", name="finality_quorum", value=1)
    assert box.query("governance", "peers")["quorum"] == 1
    before = snapshot(box)
    receipt = propose(box, CITY, "city", "set_param", name="finality_quorum", value=3)
    approval = box.call(NOWON, "governance", "approve", org="nowon", proposal=receipt.result)
    assert approval.ok and approval.result == "failed"
    proposal = box.query("governance", "proposal", proposal=receipt.result)
    assert proposal["outcome"].startswith("out_of_range")
    assert box.query("governance", "peers")["quorum"] == 1
    assert {k: v for k, v in snapshot(box).items() if b"proposal" not in k} == {
        k: v for k, v in before.items() if b"proposal" not in k}


def test_peer_keys_change_only_by_proposal(box: Sandbox) -> None:
    before = snapshot(box)
    refused(box.call(CITY, "governance", "set_peer_key", org="city", key=NOWON_NEW), "needs_quorum")
    refused(box.call(NOWON, "governance", "remove_peer_key", org="nowon"), "needs_quorum")
    assert snapshot(box) == before


@pytest.mark.parametrize(("method", "args", "outcome"), [
    ("set_peer_key", {"org": "ghost", "key": NGO_PEER}, "not_found"),
    ("set_peer_key", {"org": "ngo", "key": CITY_PEER}, "conflict"),
    ("remove_peer_key", {"org": "ngo"}, "not_found"),
])
def test_bad_peer_changes_fail_the_proposal_and_change_no_key(
    box: Sandbox, method: str, args: dict, outcome: str
) -> None:
    receipt = propose(box, CITY, "city", method, **args)
    approval = box.call(NOWON, "governance", "approve", org="nowon", proposal=receipt.result)
    assert approval.result == "failed"
    assert box.query("governance", "proposal", proposal=receipt.result)["outcome"].startswith(outcome)
    assert keys(box) == {"city": CITY_PEER, "nowon": NOWON_PEER}


def test_a_short_key_is_refused_before_it_is_proposed(box: Sandbox) -> None:
    refused(propose(box, CITY, "city", "set_peer_key", org="ngo", key=b"\x01" * 31), "invalid_argument")
