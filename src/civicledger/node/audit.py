"""Audit: replay the chain from genesis, prove every block, and hold the live store to it.

Replay is a fold: state = reduce(apply_block, blocks, genesis state). Each stored
block is executed again on a fresh state (``executor.apply_block``): its header
must name its predecessor and everything it commits to — transaction root,
receipts, state root — must come out the same.

A valid chain is not yet a sound node: the node serves its *live* state and
answers replay protection from its *live* indexes, and either can be damaged or
edited apart from the blocks (a balance raised in the state table passes every
root check, since roots are only recomputed from the blocks). So the audit then
compares the replay's state and every index (``txs``, ``topics``, ``signers``)
row by row with the live ones and reports each difference (key, live value,
replayed value; the first ``MAX_DIFFERENCES``, and a count per table).

``repair_indexes`` rebuilds the live indexes from the replay when the chain is
valid. State is never repaired: a state difference means the store was altered
or is corrupt, and what to believe is the operator's call (restore a backup, or
re-import the chain).

The whole replay reads the live store inside one read transaction, so a node
running on it meanwhile does not move the head being compared (WAL keeps the
snapshot; the log grows until the audit ends).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from civicledger.contracts.framework import Registry
from civicledger.core.errors import InvalidBlock
from civicledger.node.executor import Genesis, apply_block, execute_genesis
from civicledger.node.node import GENESIS_META
from civicledger.node.sqlite_store import INDEXES, SqliteStore
from civicledger.node.store import Store
from civicledger.node.verifier import Verifier

MAX_DIFFERENCES = 50
"""Differences listed in a report (every one is counted)."""
TABLES = ("state", *INDEXES)


@dataclass(frozen=True, slots=True)
class Difference:
    """One row where the live store and the replay disagree."""

    table: str
    key: object
    live: object
    """The live row's value, or None where the live store lacks the row."""
    replayed: object
    """The replay's value, or None where the replay has no such row."""


@dataclass(frozen=True, slots=True)
class AuditReport:
    ok: bool
    """The chain replays and the live state and indexes equal the replay's (after repair)."""
    height: int
    """The last height checked (the head, if the chain replays)."""
    transactions: int
    problem: str = ""
    differences: tuple[Difference, ...] = ()
    """The first ``MAX_DIFFERENCES`` differences found."""
    counts: dict[str, int] = field(default_factory=dict)
    """Differences found per table (only tables that have any)."""
    repaired: bool = False
    """The indexes differed and were rebuilt from the blocks."""


def verify_chain(
    store: Store,
    registry: Registry,
    *,
    verifier: Verifier | None = None,
    progress: Callable[[int, int], None] | None = None,
    repair_indexes: bool = False,
) -> AuditReport:
    """Replay ``store``'s chain from genesis into a scratch store and compare everything.

    With ``repair_indexes``, the caller must hold the node lock: no block may commit
    between the replay and the rebuild.
    """
    own_verifier = verifier is None
    verifier = verifier or Verifier()
    replay = SqliteStore(":memory:")
    try:
        with store.reading():
            report = _replay(store, registry, replay, verifier, progress)
            if report.problem:
                return report
            counts, differences = compare(store, replay)
        report = AuditReport(not counts, report.height, report.transactions,
                             differences=tuple(differences), counts=counts)
        if repair_indexes and any(counts.get(table) for table in INDEXES):
            store.replace_indexes(replay)
            still = {table: n for table, n in counts.items() if table == "state"}
            report = AuditReport(not still, report.height, report.transactions,
                                 differences=report.differences, counts=counts, repaired=True)
        return report
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
        try:
            executed = apply_block(registry, replay, prev, stored, verifier=verifier,
                                   committed=replay.committed)
        except InvalidBlock as error:
            return AuditReport(False, height, count, error.message)
        replay.commit(executed)
        prev, count = executed.header, count + len(stored.envelopes)
        if progress is not None:
            progress(height, head.height)
    return AuditReport(True, head.height, count)


def compare(live: Store, replay: Store) -> tuple[dict[str, int], list[Difference]]:
    """Per table, how many rows differ; and the first ``MAX_DIFFERENCES`` of them."""
    counts: dict[str, int] = {}
    differences: list[Difference] = []
    for table in TABLES:
        for difference in _merge(table, live.rows(table), replay.rows(table)):
            counts[table] = counts.get(table, 0) + 1
            if len(differences) < MAX_DIFFERENCES:
                differences.append(difference)
    return counts, differences


_END = object()


def _merge(table: str, live: Iterator[tuple[object, object]],
           replay: Iterator[tuple[object, object]]) -> Iterator[Difference]:
    """Walk two key-ordered row streams side by side (one pass, constant memory)."""
    a, b = next(live, _END), next(replay, _END)
    while a is not _END or b is not _END:
        if b is _END or (a is not _END and a[0] < b[0]):  # type: ignore[index,operator]
            yield Difference(table, a[0], a[1], None)  # type: ignore[index]
            a = next(live, _END)
        elif a is _END or b[0] < a[0]:  # type: ignore[index,operator]
            yield Difference(table, b[0], None, b[1])  # type: ignore[index]
            b = next(replay, _END)
        else:
            if a[1] != b[1]:  # type: ignore[index]
                yield Difference(table, a[0], a[1], b[1])  # type: ignore[index]
            a, b = next(live, _END), next(replay, _END)
