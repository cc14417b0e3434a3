"""Audit: replay the chain from genesis and prove every hash, signature and root.

Replay is a fold: state = reduce(execute, blocks, genesis state). Each stored
block is executed again on a fresh state, and everything the header commits
to must come out the same — transaction root, receipts, state root — and each
header must name its predecessor's hash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from civicledger.contracts.framework import Registry
from civicledger.core.errors import CivicError
from civicledger.core.tx import decode
from civicledger.node.executor import Genesis, execute_block, execute_genesis
from civicledger.node.node import GENESIS_META
from civicledger.node.ordering import Batch
from civicledger.node.sqlite_store import SqliteStore
from civicledger.node.store import Store
from civicledger.node.verifier import Verifier


@dataclass(frozen=True, slots=True)
class AuditReport:
    ok: bool
    height: int
    """The last height checked (the head, if ok)."""
    transactions: int
    problem: str = ""


def verify_chain(
    store: Store,
    registry: Registry,
    *,
    verifier: Verifier | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    """Replay ``store``'s chain from genesis into a scratch store and compare everything."""
    own_verifier = verifier is None
    verifier = verifier or Verifier()
    replay = SqliteStore(":memory:")
    try:
        return _replay(store, registry, replay, verifier, progress)
    finally:
        replay.close()
        if own_verifier:
            verifier.close()


def _replay(
    store: Store,
    registry: Registry,
    replay: SqliteStore,
    verifier: Verifier,
    progress: Callable[[int, int], None] | None,
) -> AuditReport:
    head = store.head()
    raw_genesis = store.get_meta(GENESIS_META)
    if head is None or raw_genesis is None:
        return AuditReport(False, -1, 0, "the store holds no chain")
    executed = execute_genesis(registry, replay, Genesis.from_json(raw_genesis))
    stored = store.block(0)
    if stored is None or stored.header != executed.header:
        return AuditReport(False, 0, 0, "genesis block does not match the genesis document")
    replay.commit(executed)
    prev, count = executed.header, 0
    for height in range(1, head.height + 1):
        stored = store.block(height)
        if stored is None:
            return AuditReport(False, height, count, f"block {height} is missing")
        header = stored.header
        if header.prev_hash != prev.hash:
            return AuditReport(False, height, count, f"block {height} does not link to {height - 1}")
        try:
            stxs = tuple(decode(envelope) for envelope in stored.envelopes)
        except CivicError as error:
            return AuditReport(False, height, count, f"block {height} holds a bad transaction: {error}")
        batch = Batch(header.time_ms, header.proposer, stxs)
        executed = execute_block(registry, replay, prev, batch, verifier=verifier,
                                 committed=replay.committed)
        for field in ("tx_root", "receipt_root", "state_root", "time_ms", "tx_count"):
            if getattr(executed.header, field) != getattr(header, field):
                return AuditReport(False, height, count, f"block {height}: {field} differs on replay")
        # Receipts compare by their canonical bytes: a result decoded from the store holds
        # tuples where the contract returned lists, and both encode the same.
        if executed.header != header or (
            [r.encode() for r in executed.receipts] != [r.encode() for r in stored.receipts]
        ):
            return AuditReport(False, height, count, f"block {height}: header or receipts differ")
        replay.commit(executed)
        prev, count = executed.header, count + len(stxs)
        if progress is not None:
            progress(height, head.height)
    return AuditReport(True, head.height, count)
