"""A node: admission, ordering, execution and commit, wired together.

    submit ─► admission (decode, chain/window/call checks, signatures on every core)
           ─► orderer (solo: in-process) ─► executor thread: execute
           ─► commit thread: commit (fsync) → notify   (block h commits while h+1 executes)

A caller learns its transaction committed only after the block is durable and,
on a peer of a consortium (``final_by_quorum``), only once the block is final:
enough member peers have attested the same header (``finalise``).
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from civicledger.contracts.framework import Registry
from civicledger.core import merkle
from civicledger.core import tx as txs
from civicledger.core.block import BlockHeader, Event, Receipt
from civicledger.core.errors import (
    BadSignature,
    CivicError,
    NodeFault,
    NotFound,
    Replayed,
    StoreError,
    UnknownCall,
)
from civicledger.core.state import Overlay
from civicledger.node.asof import query_as_of
from civicledger.node.executor import Genesis, execute_block, execute_genesis
from civicledger.node.ordering import Orderer, wall_clock_ms
from civicledger.node.store import CommitBatch, Store
from civicledger.node.verifier import Verifier

log = logging.getLogger(__name__)

GENESIS_META = "genesis"


@dataclass(frozen=True, slots=True)
class Committed:
    """Where and how a transaction was committed."""

    height: int
    index: int
    receipt: Receipt


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One transaction whose events concern an account."""

    height: int
    index: int
    time_ms: int
    receipt: Receipt
    events: tuple[Event, ...]
    """Those of the receipt's events that name the account."""


@dataclass(frozen=True, slots=True)
class TxRecord:
    envelope: bytes
    tx: txs.SignedTransaction
    height: int
    index: int
    receipt: Receipt
    header: BlockHeader
    proof: merkle.Proof | None = None
    """The inclusion proof, only when asked for (it needs every envelope of the block)."""


def initialise(store: Store, registry: Registry, genesis: Genesis) -> BlockHeader:
    """Write the genesis block into an empty store."""
    if store.head() is not None:
        raise StoreError("the store holds a chain already")
    executed = execute_genesis(registry, store, genesis)
    store.put_meta(GENESIS_META, genesis.to_json())
    store.commit(executed)
    return executed.header


class Node:
    def __init__(
        self,
        store: Store,
        registry: Registry,
        orderer: Orderer,
        *,
        verifier: Verifier | None = None,
        clock: Callable[[], int] = wall_clock_ms,
        final_by_quorum: bool = False,
    ) -> None:
        head = store.head()
        if head is None:
            raise StoreError("the store has no genesis block: run `civic init` first")
        self.store = store
        self.registry = registry
        self.orderer = orderer
        self.verifier = verifier or Verifier()
        self.clock = clock
        self.chain_id = head.chain_id
        self._head = head
        self._waiters: dict[bytes, Future[Committed]] = {}
        self.final_by_quorum = final_by_quorum
        self.final_height = head.height if not final_by_quorum else 0
        """The newest block known final (solo: every committed block is)."""
        self._unfinal: collections.deque[tuple[int, list[tuple[Future[Committed], Committed]]]] = (
            collections.deque())
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.fault: BaseException | None = None
        self._listeners: list[Callable[[CommitBatch], None]] = []

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> Node:
        self.orderer.resume(self._head.height)
        self._thread = threading.Thread(target=self._run, name="executor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.orderer.close()
        if self._thread is not None:
            self._thread.join()
        self.verifier.close()

    def __enter__(self) -> Node:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def halt(self, fault: NodeFault) -> None:
        """Stop committing for good (a divergence, say): the executor stops before its next
        block, and every waiter is told ``fault``."""
        if self.fault is None:
            self.fault = fault
        self._stopping.set()
        self._fail_waiters(fault)

    def finalise(self, height: int) -> None:
        """Blocks up to ``height`` are final: answer their transactions' waiters."""
        with self._lock:
            if height <= self.final_height:
                return
            self.final_height = height
            done = []
            while self._unfinal and self._unfinal[0][0] <= height:
                done.extend(self._unfinal.popleft()[1])
        for future, committed in done:
            future.set_result(committed)

    def on_commit(self, listener: Callable[[CommitBatch], None]) -> None:
        """Call ``listener`` on the commit thread after each durable commit, in block order."""
        self._listeners.append(listener)

    @property
    def head(self) -> BlockHeader:
        return self._head

    @property
    def running(self) -> bool:
        """True while the executor thread commits blocks."""
        return self._thread is not None and self._thread.is_alive() and self.fault is None

    def is_pending(self, tx_id: bytes) -> bool:
        """True while an admitted transaction waits for its block."""
        with self._lock:
            return tx_id in self._waiters

    # -- admission -------------------------------------------------------------

    def submit(self, envelope: bytes) -> Future[Committed]:
        """Admit one signed envelope; the future resolves once its block is durable."""
        result = self.submit_many([envelope])[0]
        if isinstance(result, CivicError):
            raise result
        return result

    def submit_many(self, envelopes: Sequence[bytes]) -> list[Future[Committed] | CivicError]:
        """Admit many envelopes; per envelope a future, or the error that refused it."""
        if self.fault is not None:
            code = self.fault.code if isinstance(self.fault, NodeFault) else NodeFault.code
            raise NodeFault(f"the node stopped committing: {self.fault}", code=code)
        now = self.clock()
        results: list[Future[Committed] | CivicError | None] = []
        admitted: list[tuple[int, txs.SignedTransaction]] = []
        for envelope in envelopes:
            try:
                stx = txs.decode(envelope)
                txs.check_window(stx, self.chain_id, now)
                stx = stx.admitted(self.registry.check_call(stx.tx.contract, stx.tx.method, stx.tx.args))
            except CivicError as error:
                results.append(error)
                continue
            results.append(None)
            admitted.append((len(results) - 1, stx))
        # A replay is refused before its signatures are checked: it costs an index lookup, not
        # a verification, and fills no cache.
        verdicts = self.verifier.admit([stx for _, stx in admitted], self.store.committed)
        candidates = []
        for (i, stx), ok in zip(admitted, verdicts, strict=True):
            if ok is None:
                results[i] = Replayed("this transaction was submitted before")
            elif not ok:
                results[i] = BadSignature("a signature does not verify")
            else:
                candidates.append((i, stx))
        ordered: list[txs.SignedTransaction] = []
        with self._lock:
            for i, stx in candidates:
                if stx.id in self._waiters:
                    results[i] = Replayed("this transaction was submitted before")
                    continue
                future: Future[Committed] = Future()
                self._waiters[stx.id] = future
                results[i] = future
                ordered.append(stx)
        try:  # outside the lock: a replicated log takes milliseconds to acknowledge
            self.orderer.submit(ordered)
        except CivicError as refused:
            with self._lock:
                for stx in ordered:
                    self._waiters.pop(stx.id, None)
            results = [refused if isinstance(r, Future) else r for r in results]
        return results  # type: ignore[return-value]  # every None was replaced above

    # -- execution ---------------------------------------------------------------

    def _run(self) -> None:
        """Execute batches in order; commit each block on the commit thread.

        Block h+1 executes while block h is being written and fsynced: it reads the
        committed state overlaid with block h's writes (``pending``), and counts block h's
        transaction ids as committed. It is handed to the commit thread only once block h
        is durable, so blocks commit strictly in order, one at a time; if a commit fails,
        no later block is committed and every waiter is told.
        """
        self.store.claim_writer()
        committer = ThreadPoolExecutor(1, thread_name_prefix="commit")
        pending = Overlay(self.store)
        pending_ids: set[bytes] = set()
        committing: Future[None] | None = None
        tip = self._head

        def committed(tx_ids: Iterable[bytes]) -> set[bytes]:
            ids = list(tx_ids)
            return self.store.committed(ids) | pending_ids.intersection(ids)

        try:
            while not self._stopping.is_set():
                batch = self.orderer.next_batch(timeout=0.2)
                if batch is None or self._stopping.is_set():
                    if committing is not None and committing.done():
                        committing.result()  # a failed commit stops the node now, not a block later
                    continue
                if batch.height is not None and batch.height != tip.height + 1:
                    raise NodeFault(f"the log gave batch {batch.height} after block {tip.height}",
                                    code="out_of_order")
                executed = execute_block(self.registry, pending, tip, batch,
                                         verifier=self.verifier, committed=committed)
                if committing is not None:
                    committing.result()  # the previous block is durable (or its fault raises)
                committing = committer.submit(self._commit, executed)
                pending.writes = dict(executed.writes)
                pending_ids = {tx_id for tx_id in executed.tx_ids if tx_id}
                tip = executed.header
            if committing is not None:
                committing.result()
        except BaseException as fault:  # a node fault: stop committing, tell every waiter
            log.exception("execution stopped at height %d", tip.height + 1)
            if committing is not None:
                wait([committing])  # a block already handed over may still commit and notify
            self.fault = fault
            self._fail_waiters(fault)
            return
        finally:
            committer.shutdown(wait=True)
        self._fail_waiters(NodeFault("the node is shutting down"))

    def _commit(self, executed: CommitBatch) -> None:
        self.store.commit(executed)
        self._head = executed.header
        self._notify(executed)

    def _notify(self, executed: CommitBatch) -> None:
        height = executed.header.height
        with self._lock:
            answers = [(future, Committed(height, index, receipt))
                       for index, receipt in enumerate(executed.receipts)
                       if (future := self._waiters.pop(receipt.tx_id, None)) is not None]
            if self.final_by_quorum and height > self.final_height:
                self._unfinal.append((height, answers))
                answers = []
            elif not self.final_by_quorum:
                self.final_height = height
        for future, committed in answers:
            future.set_result(committed)
        for listener in self._listeners:
            listener(executed)

    def _fail_waiters(self, fault: BaseException) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, {}
            unfinal = [future for _, answers in self._unfinal for future, _ in answers]
            self._unfinal.clear()
        error = fault if isinstance(fault, NodeFault) else NodeFault(f"node fault: {fault!r}")
        for future in (*waiters.values(), *unfinal):
            if not future.done():
                future.set_exception(error)

    # -- reads ---------------------------------------------------------------------

    def query(self, contract: str, name: str, args: dict[str, Any], *,
              as_of_ms: int | None = None) -> Any:
        """Answer a contract query on the latest committed state, at the head's block time or,
        for a read-only view of now, at ``as_of_ms`` if that is later (``node.asof``)."""
        return query_as_of(self.store, self.registry, contract, name, args, as_of_ms).result

    def transaction(self, tx_id: bytes) -> TxRecord:
        return find_transaction(self.store, tx_id)

    def history(self, account: bytes, *, before: tuple[int, int] | None = None,
                limit: int = 50) -> list[HistoryEntry]:
        return account_history(self.store, account, before=before, limit=limit)

    def public_key(self, account: bytes) -> bytes | None:
        """The key behind ``account`` (whose address is its hash), once it has signed a
        committed transaction; what a co-signed call needs of the other party."""
        return self.store.public_key(account)


MAX_HISTORY_PAGE = 500


def account_history(store: Store, account: bytes, *, before: tuple[int, int] | None = None,
                    limit: int = 50) -> list[HistoryEntry]:
    """Newest first, the transactions whose events name ``account`` (index lookups only).

    Page backwards with ``before=(height, index)`` of the last entry seen.
    """
    if not 1 <= limit <= MAX_HISTORY_PAGE:
        raise UnknownCall(f"limit must be 1 to {MAX_HISTORY_PAGE}", code="invalid_argument")
    entries = []
    with store.reading():
        for hit in store.topic_hits(account, before=before, limit=limit):
            receipt = store.receipt(hit.height, hit.index)
            header = store.header(hit.height)
            assert receipt is not None and header is not None
            events = tuple(e for e in receipt.events if account in e.topics)
            entries.append(HistoryEntry(hit.height, hit.index, header.time_ms, receipt, events))
    return entries


def find_transaction(store: Store, tx_id: bytes, *, proof: bool = False) -> TxRecord:
    """A transaction a block recorded, with its receipt; with ``proof``, its inclusion proof.

    Every transaction in a block answers, whether it consumed its id or was refused there
    (``expired``, ``bad_signature``, ``replayed``…): a client that stopped waiting learns
    its fate from the receipt. An id refused for a bad signature may be committed later
    (the id hashes the body, not the signatures); then the committed one answers. Without
    ``proof`` this is index lookups only: the envelope is read by its position in the block.
    """
    with store.reading():
        location = store.locate(tx_id)
        envelope = store.envelope(tx_id) if location is not None else None
        if location is None or envelope is None:
            raise NotFound(f"no transaction {tx_id.hex()} in any block")
        height, index = location
        receipt, header = store.receipt(height, index), store.header(height)
        block = store.block(height) if proof else None
    assert receipt is not None and header is not None
    path = None
    if block is not None:
        path = merkle.prove([merkle.leaf_hash(e) for e in block.envelopes], index)
    return TxRecord(envelope, txs.decode(envelope), height, index, receipt, header, path)
