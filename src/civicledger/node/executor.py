"""The executor: how a batch of ordered transactions becomes a committed block.

Reads like the protocol:

    execute_block:  verify signatures → process each transaction → compute roots
    process_transaction:  signatures → chain and validity window → replay → run the contract

The executor is deterministic: the same registry, state and batch give the
same header, receipts and writes on every peer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from civicledger.contracts.framework import Registry
from civicledger.core import merkle
from civicledger.core.block import ZERO_HASH, BlockEnv, BlockHeader, Receipt
from civicledger.core.errors import BadSignature, EncodingError, Rejection, Replayed
from civicledger.core.state import Overlay, StateReader, next_state_root
from civicledger.core.tx import SignedTransaction, check_window
from civicledger.node.ordering import Batch
from civicledger.node.store import CommitBatch
from civicledger.node.verifier import Verifier


def process_transaction(
    registry: Registry,
    state: Overlay,
    env: BlockEnv,
    stx: SignedTransaction,
    signatures_ok: bool,
    seen: set[bytes],
) -> tuple[Receipt, bool]:
    """One transaction's receipt, and whether it consumed its id."""
    try:
        if not signatures_ok:
            raise BadSignature("a signature does not verify")
        check_window(stx, env.chain_id, env.time_ms)
        if stx.id in seen:
            raise Replayed("this transaction was committed before")
    except Rejection as rejection:
        return Receipt(stx.id, rejection.code, rejection.message), False
    seen.add(stx.id)
    tx = stx.tx
    receipt = registry.apply(state, env, stx.id, stx.signer_addresses, tx.contract, tx.method, tx.args,
                             checked=stx.checked_args)
    return receipt, True


def execute_block(
    registry: Registry,
    state: StateReader,
    prev: BlockHeader,
    batch: Batch,
    *,
    verifier: Verifier,
    committed: Callable[[Iterable[bytes]], set[bytes]],
) -> CommitBatch:
    env = BlockEnv(prev.chain_id, prev.height + 1, max(batch.time_ms, prev.time_ms), batch.proposer)
    valid = verifier.check(batch.txs)
    seen = committed(stx.id for stx in batch.txs)
    overlay = Overlay(state)
    receipts, indexed, signers = [], [], {}
    for stx, signatures_ok in zip(batch.txs, valid, strict=True):
        receipt, consumed = process_transaction(registry, overlay, env, stx, signatures_ok, seen)
        receipts.append(receipt)
        indexed.append(stx.id if consumed else b"")
        if consumed:
            signers.update(zip(stx.signer_addresses, stx.public_keys, strict=True))
    envelopes = tuple(stx.envelope() for stx in batch.txs)
    header = BlockHeader(
        chain_id=env.chain_id,
        height=env.height,
        prev_hash=prev.hash,
        time_ms=env.time_ms,
        proposer=env.proposer,
        tx_count=len(envelopes),
        tx_root=merkle.root(envelopes),
        receipt_root=merkle.root([r.encode() for r in receipts]),
        state_root=next_state_root(prev.state_root, overlay.writes),
    )
    return CommitBatch(header, envelopes, tuple(receipts), overlay.writes, tuple(indexed),
                       tuple(signers.items()))


# -- genesis ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Genesis:
    """The genesis document: the chain's name, start time and each contract's initial state."""

    chain_id: str
    time_ms: int
    contracts: Mapping[str, Any]

    @classmethod
    def from_json(cls, data: bytes | str) -> Genesis:
        try:
            doc = json.loads(data)
            genesis = cls(str(doc["chain_id"]), int(doc["time_ms"]), dict(doc.get("contracts", {})))
        except (ValueError, KeyError, TypeError) as exc:
            raise EncodingError(f"genesis document is not valid: {exc}", code="bad_genesis") from None
        if not genesis.chain_id or isinstance(doc["time_ms"], bool):
            raise EncodingError("genesis needs a chain_id and an integer time_ms", code="bad_genesis")
        return genesis

    def to_json(self) -> bytes:
        doc = {"chain_id": self.chain_id, "time_ms": self.time_ms, "contracts": self.contracts}
        return json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=1).encode()


def execute_genesis(registry: Registry, state: StateReader, genesis: Genesis) -> CommitBatch:
    env = BlockEnv(genesis.chain_id, 0, genesis.time_ms, "genesis")
    overlay = Overlay(state)
    try:
        registry.genesis(overlay, env, genesis.contracts)
    except (KeyError, TypeError, ValueError, Rejection) as exc:
        raise EncodingError(f"genesis configuration is not valid: {exc!r}", code="bad_genesis") from None
    header = BlockHeader(
        chain_id=genesis.chain_id,
        height=0,
        prev_hash=ZERO_HASH,
        time_ms=genesis.time_ms,
        proposer="genesis",
        tx_count=0,
        tx_root=merkle.EMPTY_ROOT,
        receipt_root=merkle.EMPTY_ROOT,
        state_root=next_state_root(ZERO_HASH, overlay.writes),
    )
    return CommitBatch(header, (), (), overlay.writes, ())
