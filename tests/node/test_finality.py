"""Finality: a block is final at a quorum of matching attestations; a contradicted peer diverges."""

from __future__ import annotations

from civicledger.core.attestation import Attestation, quorum_signers, signing_payload
from civicledger.core.block import ZERO_HASH, BlockHeader
from civicledger.core.crypto import KeyPair
from civicledger.node.finality import Divergence, Finality

KEYS = {org: KeyPair.from_seed(bytes([n]) * 32) for n, org in enumerate(("city", "nowon", "gangseo"), 1)}
PEERS = {org: key.public_key for org, key in KEYS.items()}


def header(height: int, state: bytes = b"\x01" * 32) -> BlockHeader:
    return BlockHeader("c", height, ZERO_HASH, 1_000 + height, "city", 0, ZERO_HASH, ZERO_HASH, state)


class Tracker:
    def __init__(self, quorum: int = 2, peers: dict | None = None) -> None:
        self.finals: list[int] = []
        self.divergences: list[Divergence] = []
        peer_set = (peers if peers is not None else PEERS, quorum)
        self.finality = Finality(lambda h: peer_set, on_final=self.finals.append,
                                 on_diverged=self.divergences.append)


def signed(org: str, h: BlockHeader) -> Attestation:
    return Attestation.sign(org, h, KEYS[org])


def test_an_attestation_round_trips_and_verifies_only_with_its_key() -> None:
    attestation = signed("nowon", header(5))
    again = Attestation.decode(attestation.encode())
    assert again == attestation and again.verifies(PEERS["nowon"])
    assert not again.verifies(PEERS["city"])
    other = signing_payload("another-chain", 5, header(5).hash)
    assert other != signing_payload("c", 5, header(5).hash)


def test_a_block_is_final_at_the_quorum_and_not_before() -> None:
    t = Tracker()
    t.finality.own(header(1))
    t.finality.add(signed("city", header(1)))
    assert t.finals == []
    t.finality.add(signed("nowon", header(1)))
    assert t.finals == [1] and t.finality.final_height == 1


def test_attestations_arriving_before_the_own_block_count_once_it_is_committed() -> None:
    t = Tracker()
    t.finality.add(signed("nowon", header(3)))
    t.finality.add(signed("gangseo", header(3)))
    assert t.finals == []
    t.finality.own(header(3))
    assert t.finals == [3]


def test_forged_unknown_and_duplicate_attestations_do_not_count() -> None:
    t = Tracker()
    t.finality.own(header(1))
    forged = Attestation("nowon", header(1), KEYS["city"].sign(b"x" * 32))
    outsider = Attestation.sign("ngo", header(1), KeyPair.from_seed(b"\x09" * 32))
    assert t.finality.add(forged) is False and t.finality.add(outsider) is False
    t.finality.add(signed("city", header(1)))
    t.finality.add(signed("city", header(1)))  # the same org twice is one vote
    assert t.finals == []


def test_a_quorum_on_another_header_makes_this_peer_diverge_and_says_which_root() -> None:
    t = Tracker()
    mine = header(4, state=b"\x02" * 32)
    t.finality.own(mine)
    t.finality.add(signed("nowon", header(4)))
    t.finality.add(signed("gangseo", header(4)))
    assert t.finals == []
    [divergence] = t.divergences
    assert divergence.height == 4 and divergence.fields == ["state_root"]
    assert divergence.signers == ("gangseo", "nowon")
    assert "state_root" in divergence.describe()


def test_one_dissenting_peer_is_reported_while_the_quorum_finalises() -> None:
    t = Tracker()
    t.finality.own(header(2))
    t.finality.add(signed("city", header(2)))
    t.finality.add(signed("gangseo", header(2, state=b"\x07" * 32)))
    t.finality.add(signed("nowon", header(2)))
    assert t.finals == [2] and t.divergences == []
    assert t.finality.dissenters == {"gangseo": 2}


def test_a_later_final_block_finalises_everything_before_it() -> None:
    t = Tracker()
    for h in (1, 2, 3):
        t.finality.own(header(h))
    for org in ("city", "nowon"):
        t.finality.add(signed(org, header(3)))
    assert t.finals == [3]
    t.finality.add(signed("city", header(2)))
    t.finality.add(signed("nowon", header(2)))
    assert t.finals == [3]  # finality never moves back


def test_quorum_signers_counts_each_valid_matching_org_once() -> None:
    h = header(9)
    held = [signed("city", h), signed("city", h), signed("nowon", header(9, b"\x05" * 32)),
            Attestation("gangseo", h, b"\x00" * 64), signed("gangseo", h)]
    assert quorum_signers(h, held, PEERS) == ["city", "gangseo"]
