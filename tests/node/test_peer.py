"""Consortium peers on a real NATS JetStream cluster (three nats-server processes).

Every test checks what the consortium promises: one order for every peer, identical
roots at every height, a block final only at a quorum, and a peer that computes a
different header stops loudly instead of serving a fork.
"""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from civicledger.contracts.catalog import CONTRACTS
from civicledger.contracts.framework import Registry, method
from civicledger.contracts.token.contract import Amount, Memo, Symbol, Token
from civicledger.core.attestation import quorum_signers
from civicledger.core.errors import Diverged, NodeFault
from civicledger.core.schema import Address
from civicledger.core.tx import Transaction
from civicledger.node.jetstream import LogBatch, NatsLink, Proposer
from civicledger.node.ordering import wall_clock_ms
from tests.node.consortium import ORGS, same_chain, wait_for


def settled(futures, timeout=60):
    return [f.result(timeout) for f in futures]


def test_a_transaction_at_any_peer_commits_on_every_peer_in_one_order_and_final_at_a_quorum(consortium):
    for org in ORGS:
        consortium.open(org)
    futures = []
    for org in ORGS:
        futures += consortium.submit(org, consortium.envelopes(40))
    answers = settled(futures)
    assert all(a.receipt.ok for a in answers)
    top = max(a.height for a in answers)
    wait_for(lambda: min(consortium.heads().values()) >= top, what="every peer at the top")
    stores = [p.node.store for p in consortium.peers.values()]
    assert same_chain(stores) >= top
    for answer in answers:
        locations = {s.locate(answer.receipt.tx_id) for s in stores}
        assert locations == {(answer.height, answer.index)}
        assert consortium.final_when_answered[answer.receipt.tx_id] >= answer.height  # once final
    wait_for(lambda: min(p.node.final_height for p in consortium.peers.values()) >= top)
    for peer in consortium.peers.values():
        signers = quorum_signers(peer.node.store.header(top), peer.attestations(top),
                                 {org: k.public_key for org, k in consortium.keys.items()})
        assert len(signers) >= 2


def test_a_retried_submission_is_ordered_once(consortium):
    consortium.open("city")
    nowon = consortium.open("nowon", propose=False)
    [envelope] = consortium.envelopes(1)
    [first] = consortium.submit("city", [envelope])
    answer = first.result(30)
    again = nowon.node.submit_many([envelope])[0]
    assert getattr(again, "code", None) == "replayed"  # the other peer knows it is committed
    assert nowon.node.store.locate(answer.receipt.tx_id) == (answer.height, answer.index)


def test_two_proposers_racing_never_fill_one_height_twice(consortium):
    """Both proposers lead at once (no lease): the log's expected-last-sequence check lets
    exactly one batch per height through, and every transaction commits once."""
    for org in ORGS:
        consortium.open(org, propose=False)
    racers = []
    for org in ("city", "nowon"):
        link = NatsLink(consortium.nats.urls(), consortium.logins[org])
        proposer = Proposer(link, consortium.peers[org].names, consortium.genesis.chain_id, org,
                            lambda: consortium.peers["city"].node.head, max_wait_ms=5)

        async def race(proposer=proposer):
            while True:
                await proposer._lead(None, 0)

        link.spawn(race, f"race-{org}")
        racers.append((link, proposer))
    try:
        futures = []
        for _ in range(6):
            futures += consortium.submit("gangseo", consortium.envelopes(60))
            futures += consortium.submit("city", consortium.envelopes(60))
        answers = settled(futures)
    finally:
        for link, _ in racers:
            link.close()
    assert sum(p.lost_races for _, p in racers) >= 1, "the proposers never raced"
    assert sum(1 for a in answers if a.receipt.ok) == len(futures)
    top = max(a.height for a in answers)
    wait_for(lambda: min(consortium.heads().values()) >= top)
    stores = [p.node.store for p in consortium.peers.values()]
    same_chain(stores)
    ids = [a.receipt.tx_id for a in answers]
    assert len(set(ids)) == len(ids)
    link = consortium.peers["city"].link
    names = consortium.peers["city"].names

    async def heights():
        info = await link.js.stream_info(names.batch_stream)
        out = []
        for seq in range(1, info.state.last_seq + 1):
            out.append(LogBatch.decode((await link.js.get_msg(names.batch_stream, seq=seq)).data).height)
        return out

    assert link.run(heights(), timeout=30) == list(range(1, top + 1))


class SkimmingToken(Token):
    """A peer's modified contract: it keeps one unit of every transfer (a fork, not a bug)."""

    @method
    def transfer(self, currency: Symbol, to: Address, amount: Amount, memo: Memo = "") -> None:
        super().transfer(currency, to, amount - 1 if amount > 1 else amount, memo)


def test_a_peer_with_a_modified_contract_diverges_alone_and_the_others_report_it(consortium):
    for org in ("city", "nowon"):
        consortium.open(org)
    forked = Registry(tuple(SkimmingToken if c is Token else c for c in CONTRACTS))
    gangseo = consortium.open("gangseo", propose=False, registry=forked)
    answers = settled(consortium.submit("city", consortium.envelopes(20)))
    assert all(a.receipt.ok for a in answers)  # city and nowon still finalise
    wait_for(lambda: gangseo.status().diverged != "", what="gangseo to notice it diverged")
    assert isinstance(gangseo.node.fault, Diverged)
    assert "state_root" in gangseo.status().diverged
    assert not gangseo.node.running
    with pytest.raises(NodeFault) as refused:
        gangseo.node.submit(consortium.envelopes(1)[0])
    assert refused.value.code == "diverged"
    city = consortium.peers["city"]
    wait_for(lambda: "gangseo" in city.status().dissenters, what="city to report gangseo")
    assert city.status().diverged == ""


def test_a_peer_whose_stored_state_was_tampered_with_is_detected(consortium):
    for org in ORGS:
        consortium.open(org)
    settled(consortium.submit("city", consortium.envelopes(10)))
    consortium.stop("nowon")
    db = sqlite3.connect(consortium.root / "nowon.db")
    key, value = db.execute("SELECT key, value FROM state WHERE instr(key, ?) > 0 LIMIT 1",
                            (consortium.accounts.address(2),)).fetchone()
    db.execute("UPDATE state SET value = ? WHERE key = ?", (value[:-1] + bytes([value[-1] ^ 1]), key))
    db.commit()
    db.close()
    nowon = consortium.open("nowon")
    settled(consortium.submit("city", consortium.envelopes(30)))
    wait_for(lambda: nowon.status().diverged != "", what="nowon to notice it diverged")
    assert "state_root" in nowon.status().diverged
    city = consortium.peers["city"]
    wait_for(lambda: "nowon" in city.status().dissenters, what="the others to report nowon")
    assert city.status().diverged == "" and not city.node.fault


def test_a_rotated_peer_key_counts_from_the_block_it_passed_in(consortium):
    for org in ORGS:
        consortium.open(org)
    admin = consortium.accounts.keys[0]
    new_key = type(consortium.keys["nowon"]).from_seed(b"\x55" * 32)

    def governance(method_name, args):
        tx = Transaction(consortium.genesis.chain_id, "governance", method_name, args,
                         admin.public_key, os.urandom(16),
                         wall_clock_ms() + 600_000)
        [future] = consortium.submit("city", [tx.sign(admin).envelope()])
        return future.result(30)

    proposed = governance("propose", {"org": "city", "contract": "governance", "method": "set_peer_key",
                                      "args": {"org": "nowon", "key": new_key.public_key},
                                      "expires_ms": wall_clock_ms() + 3_600_000})
    assert proposed.receipt.ok, proposed.receipt
    passed = governance("approve", {"org": "gangseo", "proposal": proposed.receipt.result})
    assert passed.receipt.result == "executed", passed.receipt
    rotated_at = passed.height
    answers = settled(consortium.submit("city", consortium.envelopes(5)))
    top = max(a.height for a in answers)
    city = consortium.peers["city"]
    header = city.node.store.header(top)
    keys_now = {p["org"]: p["key"] for p in city.node.query("governance", "peers", {"height": top})["peers"]}
    assert keys_now["nowon"] == new_key.public_key
    signers = quorum_signers(header, city.attestations(top), keys_now)
    assert "nowon" not in signers and len(signers) >= 2  # its old key no longer counts
    before = city.node.store.header(rotated_at - 1)
    old_keys = {p["org"]: p["key"] for p in
                city.node.query("governance", "peers", {"height": rotated_at - 1})["peers"]}
    assert "nowon" in quorum_signers(before, city.attestations(rotated_at - 1), old_keys)
    consortium.stop("nowon")
    consortium.keys["nowon"] = new_key
    consortium.open("nowon")
    answers = settled(consortium.submit("city", consortium.envelopes(5)))
    top = max(a.height for a in answers)
    wait_for(lambda: "nowon" in quorum_signers(city.node.store.header(top), city.attestations(top),
                                               keys_now), what="nowon's new key to count")


def test_the_orderer_reads_batches_in_height_order_after_a_restart(consortium):
    for org in ORGS:
        consortium.open(org)
    settled(consortium.submit("nowon", consortium.envelopes(50)))
    consortium.stop("gangseo")
    answers = settled(consortium.submit("city", consortium.envelopes(50)))
    top = max(a.height for a in answers)
    gangseo = consortium.open("gangseo")
    wait_for(lambda: gangseo.node.head.height >= top, what="gangseo to catch up")
    same_chain(p.node.store for p in consortium.peers.values())
    wait_for(lambda: gangseo.node.final_height >= top, what="gangseo to see the quorum")


def test_a_stopped_peer_leaves_no_event_loop_running(consortium):
    peer = consortium.open("city")
    consortium.stop("city")
    assert not peer.link.loop.is_running()


@pytest.mark.slow
def test_a_peer_that_joins_after_ten_thousand_blocks_catches_up_and_matches(consortium):
    """One transaction per block: 10,000 blocks in the log before the third member starts."""
    for org in ("city", "nowon"):
        consortium.open(org, max_txs=1, block_ms=1)
    futures = []
    for _ in range(20):
        futures += consortium.submit("city", consortium.envelopes(500))
    answers = settled(futures, timeout=600)
    top = max(a.height for a in answers)
    assert top >= 10_000
    started = time.monotonic()
    gangseo = consortium.open("gangseo", propose=False)
    wait_for(lambda: gangseo.node.head.height >= top, 600, "gangseo to replay the log")
    print(f"\ngangseo replayed {top} blocks from the log in {time.monotonic() - started:.1f} s")
    assert same_chain(p.node.store for p in consortium.peers.values()) >= top
    wait_for(lambda: gangseo.node.final_height >= top, 60, "gangseo to see the quorum's signatures")
