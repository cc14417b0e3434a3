"""The executor: how a batch of ordered transactions becomes a committed block.

Reads like the protocol:

    execute_block:  verify signatures → process each transaction → compute roots
    process_transaction:  signatures → chain and validity window → replay → run the contract
    apply_block:  decode a stored block → execute it → compare with its header and receipts

The executor is deterministic: the same registry, state and batch give the
same header, receipts and writes on every peer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from civicledger.contracts.framework import Registry
from civicledger.core import merkle
from civicledger.core.block import ZERO_HASH, BlockEnv, BlockHeader, Receipt
from civicledger.core.errors import BadSignature, CivicError, EncodingError, InvalidBlock, Rejection, Replayed
from civicledger.core.state import Overlay, StateReader, next_state_root
from civicledger.core.tx import SignedTransaction, check_window, decode
from civicledger.node.ordering import Batch
from civicledger.node.store import CommitBatch, StoredBlock
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


def apply_block(
    registry: Registry,
    state: StateReader,
    prev: BlockHeader,
    stored: StoredBlock,
    *,
    verifier: Verifier,
    committed: Callable[[Iterable[bytes]], set[bytes]],
) -> CommitBatch:
    """Re-execute a stored block on the state after ``prev``; what to commit if it checks out.

    The block's ordering facts (its time and proposer) come from its header; everything
    else the header commits to must come out of execution the same, field by field, and
    so must every receipt, compared by its canonical bytes (a result decoded from a store
    holds tuples where the contract returned lists; both encode the same). Raises
    ``InvalidBlock`` naming the first field that differs.
    """
    header = stored.header
    height = prev.height + 1
    stxs = []
    for index, envelope in enumerate(stored.envelopes):
        try:
            stxs.append(decode(envelope))
        except CivicError as error:
            raise InvalidBlock(f"block {height}: envelope {index} does not decode ({error})",
                               height=height, field=f"envelope[{index}]") from None
    batch = Batch(header.time_ms, header.proposer, tuple(stxs))
    executed = execute_block(registry, state, prev, batch, verifier=verifier, committed=committed)
    for field in fields(BlockHeader):
        ours, theirs = getattr(executed.header, field.name), getattr(header, field.name)
        if ours != theirs:
            raise InvalidBlock(
                f"block {height}: {field.name} differs on re-execution "
                f"(stored {_shown(theirs)}, re-executed {_shown(ours)})",
                height=height, field=field.name)
    if len(stored.receipts) != len(executed.receipts):
        raise InvalidBlock(f"block {height}: {len(stored.receipts)} receipts stored for "
                           f"{len(executed.receipts)} transactions", height=height, field="receipts")
    for index, (ours, theirs) in enumerate(zip(executed.receipts, stored.receipts, strict=True)):
        if ours.encode() != theirs.encode():
            raise InvalidBlock(
                f"block {height}: receipt {index} differs on re-execution "
                f"(stored {theirs.status!r}, re-executed {ours.status!r})",
                height=height, field=f"receipt[{index}]")
    return executed


def _shown(value: object) -> str:
    return value.hex() if isinstance(value, bytes) else repr(value)


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
