"""Ordering by a NATS JetStream cluster: the replicated log every member peer follows.

    gateway (any peer) ─► stream TXS      one message per admitted transaction,
                                          message id = transaction id (deduplicated)
    proposer (one peer, by lease) ─► stream BATCHES   one message per block height:
                                          (height, tx sequence range, block time,
                                          proposer, envelopes); published only if
                                          the stream's last sequence is height − 1
    every peer ◄─ BATCHES, in sequence    execute, commit, attest

Both streams are replicated three ways by JetStream's Raft. The batch stream
numbers its messages from 1; the first batch's height fixes the log's base (a
chain may hold blocks from before the consortium's log began, such as a demo's
seeded week, the same on every peer), and the batch for height h is message
h − base. So the log itself fixes which
transactions form each block, in which order, with which block time and
proposer; a peer's clock never enters a block. Two proposers racing cannot
fork the chain: JetStream accepts a batch only if the stream's last sequence is
the one the proposer expected (``Nats-Expected-Last-Sequence``), so at most one
batch exists per height and the loser re-reads the log and carries on.

A proposer holds a lease (a key with a time-to-live in a replicated key-value
bucket) and renews it; when it dies, the lease lapses and another peer takes
over from the last batch in the log.

Retention: the batch stream keeps every batch (limited only by its size cap),
so a new or restarted peer replays it from its own head. The transaction
stream only stages transactions until a batch holds them; it keeps them for
``TX_RETENTION_S``. A peer whose head is older than the batch stream's first
message cannot catch up from the log: it must be rebuilt from another peer's
blocks (``civic export`` / ``civic import``) until snapshots exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import re
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    StorageType,
    StreamConfig,
)

from civicledger.core import encoding
from civicledger.core import tx as txs
from civicledger.core.block import BlockHeader
from civicledger.core.errors import Busy, CivicError, EncodingError, NodeFault
from civicledger.node.natsd import Credentials
from civicledger.node.ordering import Batch, Orderer, wall_clock_ms

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH_VERSION = 1
REPLICAS = 3
TX_RETENTION_S = 24 * 3600
"""How long the transaction stream keeps a transaction (it is in a batch within seconds)."""
DUPLICATE_WINDOW_S = 600
"""A transaction id submitted again within this window is not ordered twice (after it, the
executor still refuses the second copy as ``replayed``)."""
MAX_BATCH_BYTES = 6 * 1024 * 1024
LEASE_TTL_S = 3.0
"""A proposer that stops renewing loses its lease after this long: the failover bound."""
LEASE_RENEW_S = 0.75
CONSUMER_CHECK_S = 1.0
"""After this long without a delivery, the proposer checks that its consumer is still alive."""
TRANSIENT_API_ERRORS = frozenset({10005, 10008})
"""JetStream's "no suitable peers for placement" (the cluster's nodes have not all joined yet)
and "temporarily unavailable": answers of a cluster that is still starting."""
WRONG_LAST_SEQUENCE = 10071
"""JetStream's error code for a publish whose expected last sequence did not hold."""
API_TIMEOUT_S = 2.0
"""How long one JetStream API call may take: a request on a connection to a node that just
died fails only by this timeout, so it bounds the failover time."""
SUBMIT_PATIENCE_S = 10.0
"""How long a submission retries while the log elects a leader, before it is refused."""


@dataclass(frozen=True, slots=True)
class LogNames:
    """Stream, subject and bucket names of one chain (a second channel is a second chain id)."""

    token: str

    @classmethod
    def of(cls, chain_id: str) -> LogNames:
        token = re.sub(r"[^A-Za-z0-9_-]", "_", chain_id)
        return cls(token)

    @property
    def tx_stream(self) -> str:
        return f"CIVIC_{self.token}_TXS"

    @property
    def tx_subject(self) -> str:
        return f"civic.{self.token}.txs"

    @property
    def batch_stream(self) -> str:
        return f"CIVIC_{self.token}_BATCHES"

    @property
    def batch_subject(self) -> str:
        return f"civic.{self.token}.batches"

    @property
    def attest_stream(self) -> str:
        return f"CIVIC_{self.token}_ATTEST"

    def attest_subject(self, org: str = "*") -> str:
        return f"civic.{self.token}.attest.{org}"

    @property
    def lease_bucket(self) -> str:
        return f"CIVIC_{self.token}_LEASE"


@dataclass(frozen=True, slots=True)
class LogBatch:
    """What the batch stream holds at sequence ``height``."""

    chain_id: str
    height: int
    first_tx_seq: int
    last_tx_seq: int
    """The transaction-stream sequences the batch took (the next proposer starts after)."""
    time_ms: int
    proposer: str
    envelopes: tuple[bytes, ...]

    def encode(self) -> bytes:
        return encoding.encode([BATCH_VERSION, self.chain_id, self.height, self.first_tx_seq,
                                self.last_tx_seq, self.time_ms, self.proposer, list(self.envelopes)])

    @classmethod
    def decode(cls, data: bytes) -> LogBatch:
        try:
            version, chain_id, height, first, last, time_ms, proposer, envelopes = encoding.decode(
                data, max_size=MAX_BATCH_BYTES + 4096)
            if version != BATCH_VERSION or not all(type(e) is bytes for e in envelopes):
                raise ValueError("unknown version or envelope types")
            return cls(chain_id, height, first, last, time_ms, proposer, tuple(envelopes))
        except (ValueError, TypeError, EncodingError) as exc:
            raise EncodingError(f"not a batch: {exc}", code="bad_batch") from None

    def to_batch(self) -> Batch:
        """The executor's batch: envelopes that do not decode are left out, the same on every
        peer (a proposer drops them already; this guards against one that does not)."""
        decoded = []
        for envelope in self.envelopes:
            try:
                decoded.append(txs.decode(envelope))
            except CivicError:
                continue
        return Batch(self.time_ms, self.proposer, tuple(decoded), height=self.height)


# -- the connection, on its own event loop -------------------------------------------


class NatsLink:
    """One NATS connection on an asyncio loop in a thread of its own.

    The node is threaded (admission, executor and commit threads); nats-py is
    asyncio. Everything NATS runs on this loop; threads hand it work with ``run``
    (wait for the result) or ``spawn`` (a task that runs until ``close``).
    """

    def __init__(self, servers: Sequence[str], credentials: Credentials | None, *,
                 name: str = "civic-peer") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="nats", daemon=True)
        self._thread.start()
        self._tasks: list[asyncio.Task[Any]] = []
        self.closed = False
        options: dict[str, Any] = {"servers": list(servers), "name": name,
                                   "max_reconnect_attempts": -1, "reconnect_time_wait": 0.25,
                                   "connect_timeout": 2, "allow_reconnect": True,
                                   # a stalled server (not a closed one) is noticed in ~3 s
                                   "ping_interval": 1, "max_outstanding_pings": 3,
                                   "error_cb": self._error, "disconnected_cb": self._quiet,
                                   "reconnected_cb": self._quiet}
        if credentials is not None:
            options.update(user=credentials.user, password=credentials.password)
        try:
            self.nc = self.run(self._connect(options), timeout=30)
        except BaseException:
            self._stop_loop()
            raise
        self.js = self.nc.jetstream(timeout=API_TIMEOUT_S)

    @staticmethod
    async def _connect(options: dict[str, Any]) -> Any:
        deadline = time.monotonic() + 25
        while True:
            try:
                return await nats.connect(**options)
            except (TimeoutError, nats.errors.NoServersError, OSError) as exc:
                if time.monotonic() > deadline:
                    raise NodeFault(f"cannot reach the NATS cluster: {exc}", code="nats_down") from None
                await asyncio.sleep(0.5)

    async def _error(self, error: Exception) -> None:
        log.debug("nats: %s", error)

    async def _quiet(self) -> None:
        return None

    def run(self, coroutine: Awaitable[T], timeout: float | None = None) -> T:
        """Run ``coroutine`` on the loop and wait for its result (from another thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    def submit(self, coroutine: Awaitable[T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]

    def spawn(self, make: Callable[[], Awaitable[Any]], name: str) -> None:
        """Run ``make()`` as a task until ``close``; log (never hide) how it ended early."""
        def start() -> None:
            task = self.loop.create_task(make(), name=name)  # type: ignore[arg-type]
            task.add_done_callback(self._ended)
            self._tasks.append(task)
        self.loop.call_soon_threadsafe(start)

    def _ended(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None and not self.closed:
            log.error("nats task %s stopped", task.get_name(), exc_info=task.exception())

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True

        async def shut() -> None:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            with contextlib.suppress(TimeoutError, nats.errors.Error):
                await asyncio.wait_for(self.nc.close(), 5)

        try:
            self.run(shut(), timeout=20)
        except TimeoutError:  # a loaded machine: what is left is cancelled below
            log.warning("the NATS connection took more than 20 s to close")
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        """Stop the loop, then (as ``asyncio.run`` does) cancel and await whatever it still held,
        so that no task or coroutine is left pending when it closes."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if self._thread.is_alive():
            return
        left = asyncio.all_tasks(self.loop)
        for task in left:
            task.cancel()
        if left:
            self.loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


async def retrying(make: Callable[[], Awaitable[T]], *, until: float, what: str) -> T:
    """``await make()`` until it succeeds or ``until`` (monotonic) passes: the JetStream API
    answers only once its Raft groups have leaders, a few seconds after a start or a crash."""
    while True:
        try:
            return await make()
        except (TimeoutError, nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError,
                nats.errors.NoRespondersError, nats.js.errors.NoStreamResponseError,
                nats.errors.ConnectionReconnectingError) as exc:
            if time.monotonic() > until:
                raise NodeFault(f"JetStream did not answer ({what}): {exc!r}", code="nats_down") from None
        except nats.js.errors.APIError as exc:
            if exc.err_code not in TRANSIENT_API_ERRORS or time.monotonic() > until:
                raise
        await asyncio.sleep(0.25)


async def ensure_streams(js: Any, names: LogNames, *, replicas: int = REPLICAS,
                         timeout: float = 60) -> None:
    """Create the chain's streams and lease bucket if they do not exist (every peer may try)."""
    until = time.monotonic() + timeout
    configs = [
        StreamConfig(name=names.tx_stream, subjects=[names.tx_subject], num_replicas=replicas,
                     storage=StorageType.FILE, duplicate_window=DUPLICATE_WINDOW_S,
                     max_age=TX_RETENTION_S, discard=DiscardPolicy.OLD,
                     max_msg_size=txs.MAX_TX_SIZE + 1024),
        StreamConfig(name=names.batch_stream, subjects=[names.batch_subject], num_replicas=replicas,
                     storage=StorageType.FILE, duplicate_window=DUPLICATE_WINDOW_S,
                     discard=DiscardPolicy.NEW, max_msg_size=MAX_BATCH_BYTES + 4096,
                     allow_direct=True),
        StreamConfig(name=names.attest_stream, subjects=[names.attest_subject()],
                     num_replicas=replicas, storage=StorageType.FILE,
                     duplicate_window=DUPLICATE_WINDOW_S, discard=DiscardPolicy.NEW,
                     allow_direct=True),
    ]
    for config in configs:
        await retrying(lambda c=config: _add_stream(js, c), until=until, what=f"stream {config.name}")
    await retrying(lambda: js.create_key_value(bucket=names.lease_bucket, ttl=LEASE_TTL_S, history=1,
                                               replicas=replicas),
                   until=until, what="lease bucket")


async def _add_stream(js: Any, config: StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except nats.js.errors.BadRequestError as exc:
        if exc.err_code != 10058:  # "stream name already in use": made by another peer
            raise


# -- the orderer ---------------------------------------------------------------------


class JetStreamOrderer(Orderer):
    """Ordering by the JetStream log: ``submit`` appends to the transaction stream, and
    ``next_batch`` hands the executor the batch stream's messages in height order.

    Whether this peer also proposes is up to ``Proposer``, which runs beside it.
    """

    def __init__(self, link: NatsLink, names: LogNames, chain_id: str, *,
                 max_pending: int = 200_000, prefetch: int = 64) -> None:
        self.base: int | None = None
        """Heights before the log's first batch (learnt from that batch)."""
        self.link = link
        self.names = names
        self.chain_id = chain_id
        self.max_pending = max_pending
        self._batches: queue.Queue[LogBatch] = queue.Queue(prefetch)
        self._next_height: int | None = None
        self.log_height = 0
        """The newest batch height seen in the log (for lag in health and metrics)."""
        self._submitted_seq = 0
        self._batched_seq = 0
        self._closed = threading.Event()
        self._fault: NodeFault | None = None

    # -- the Orderer seam ------------------------------------------------------------

    def resume(self, after_height: int) -> None:
        """Follow the batch stream from ``after_height + 1`` (the executor's head)."""
        self._next_height = after_height + 1
        self.link.spawn(self._follow, "follow-batches")
        self.link.spawn(self._watch_log, "watch-log")

    def submit(self, batch: Sequence[txs.SignedTransaction]) -> None:
        if self.pending() + len(batch) > self.max_pending:
            raise Busy(f"{self.pending()} transactions wait for a block; retry shortly")
        try:
            last = self.link.run(self._publish([stx.envelope() for stx in batch], [stx.id for stx in batch]),
                                 timeout=SUBMIT_PATIENCE_S + API_TIMEOUT_S * 2)
        except (TimeoutError, nats.errors.Error, OSError) as exc:
            raise NodeFault(f"the ordering service did not take the transactions: {exc!r}; they "
                            "may still be ordered, so look them up by id before resubmitting",
                            code="ordering_unavailable") from None
        self._submitted_seq = max(self._submitted_seq, last)

    async def _publish(self, envelopes: list[bytes], ids: list[bytes]) -> int:
        """Append to the transaction stream and wait for the acknowledgements; what was not
        acknowledged is sent again (the same message ids, so never ordered twice) until the
        stream answers or ``SUBMIT_PATIENCE_S`` passes. The highest sequence appended."""
        js = self.link.js
        deadline = time.monotonic() + SUBMIT_PATIENCE_S
        waiting, last = list(range(len(envelopes))), 0
        while True:
            sent = []
            for i in waiting:
                try:
                    sent.append((i, await js.publish_async(self.names.tx_subject, envelopes[i],
                                                           headers={"Nats-Msg-Id": ids[i].hex()})))
                except nats.errors.Error:
                    sent.append((i, None))
            again, problem = [], None
            for i, future in sent:
                try:
                    if future is None:
                        raise nats.errors.Error("not sent")
                    ack = await asyncio.wait_for(future, max(0.1, deadline - time.monotonic()))
                    last = max(last, ack.seq)
                except (TimeoutError, nats.errors.Error) as exc:
                    again.append(i)
                    problem = exc
            if not again:
                return last
            if time.monotonic() >= deadline:
                raise problem or TimeoutError()
            waiting = again
            await asyncio.sleep(0.2)  # a stream without a leader answers at once: let it elect

    def next_batch(self, timeout: float) -> Batch | None:
        if self._fault is not None:
            raise self._fault
        try:
            entry = self._batches.get(timeout=timeout)
        except queue.Empty:
            return None
        self._batched_seq = max(self._batched_seq, entry.last_tx_seq)
        return entry.to_batch()

    def pending(self) -> int:
        return max(0, self._submitted_seq - self._batched_seq)

    @property
    def capacity(self) -> int:
        return self.max_pending

    def close(self) -> None:
        self._closed.set()

    # -- following the batch stream ----------------------------------------------------

    async def _follow(self) -> None:
        """Follow the batch stream; a log this peer cannot follow stops the executor loudly."""
        try:
            await self._follow_batches()
        except (NodeFault, EncodingError) as fault:
            self._fault = fault if isinstance(fault, NodeFault) else NodeFault(
                f"the log holds a batch no peer can execute: {fault}", code="bad_batch")
            log.error("cannot follow the log: %s", self._fault)

    async def _follow_batches(self) -> None:
        """Hand the executor batch h, then h + 1, … as the log holds them."""
        assert self._next_height is not None
        self.base = await self._log_base()
        if self._next_height <= self.base:
            raise NodeFault(
                f"this peer's head, block {self._next_height - 1}, is older than the log, which "
                f"starts after block {self.base}: rebuild it from another peer's blocks "
                "(civic export / civic import)", code="behind_log")

        async def take(seq: int, data: bytes) -> None:
            batch = LogBatch.decode(data)
            height = seq + self.base  # type: ignore[operator]  # known above
            if batch.height != height or batch.chain_id != self.chain_id:
                raise NodeFault(f"batch stream message {seq} is for {batch.chain_id}/{batch.height}, "
                                f"not {self.chain_id}/{height}", code="bad_batch")
            self.log_height = max(self.log_height, height)
            while not self._closed.is_set():
                try:
                    self._batches.put_nowait(batch)
                    return
                except queue.Full:
                    await asyncio.sleep(0.01)  # the executor is behind: hold, do not drop

        await follow_stream(self.link, self.names.batch_stream, self.names.batch_subject,
                            self._next_height - self.base, take, stop=self._closed.is_set)

    async def _watch_log(self) -> None:
        """Keep ``log_height`` at the log's newest batch (once a second), for lag and progress."""
        while not self._closed.is_set():
            if self.base is not None:
                with contextlib.suppress(TimeoutError, nats.errors.Error, OSError):
                    info = await self.link.js.stream_info(self.names.batch_stream)
                    self.log_height = max(self.log_height, self.base + info.state.last_seq)
            await asyncio.sleep(1.0)

    async def _log_base(self) -> int:
        """The height before the log's first batch (waiting for that batch if there is none)."""
        while True:
            try:
                first = await self.link.js.get_msg(self.names.batch_stream, seq=1)
                return LogBatch.decode(first.data).height - 1
            except (TimeoutError, nats.errors.Error, OSError):
                await asyncio.sleep(0.25)


async def follow_stream(link: NatsLink, stream: str, subject: str, seq: int,
                        handle: Callable[[int, bytes], Awaitable[None]], *,
                        stop: Callable[[], bool] = lambda: False,
                        gap: Callable[[int], Awaitable[bool]] | None = None) -> None:
    """Hand ``handle(seq, data)`` the messages of ``stream`` from ``seq`` on, in order.

    Each is read by its sequence from the stream's leader, so never one the log does not hold
    yet; when the next is not there, a core subscription to ``subject`` wakes the reader, with
    a poll every 0.5 s as the fallback. ``gap(seq)``: whether a missing message lies below the
    stream's last one (purged), so that it may be passed over.
    """
    wake = asyncio.Event()

    async def woken(_msg: Any) -> None:
        wake.set()

    sub = await link.nc.subscribe(subject, cb=woken)
    try:
        while not stop():
            wake.clear()
            try:
                msg = await link.js.get_msg(stream, seq=seq)
            except nats.js.errors.NotFoundError:
                if gap is not None and await gap(seq):
                    seq += 1
                else:
                    await _wait(wake, 0.5)
                continue
            except (TimeoutError, nats.errors.Error, OSError):
                await asyncio.sleep(0.25)  # the cluster elects a leader, or we reconnect
                continue
            await handle(seq, msg.data)
            seq += 1
    finally:
        with contextlib.suppress(nats.errors.Error):
            await sub.unsubscribe()


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)


# -- proposing -----------------------------------------------------------------------


class Proposer:
    """Cuts the transaction stream into batches while this peer holds the proposer lease.

    A batch is cut when ``max_txs`` transactions wait or the oldest has waited
    ``max_wait_ms``; its block time is this proposer's clock, never earlier than the
    previous batch's. A publish refused for a wrong last sequence means another
    proposer got there first: re-read the log and start over from its last batch.
    """

    def __init__(self, link: NatsLink, names: LogNames, chain_id: str, org: str,
                 head: Callable[[], BlockHeader], *, max_txs: int = 2000, max_wait_ms: int = 20,
                 clock: Callable[[], int] = wall_clock_ms) -> None:
        self.link = link
        self.head = head
        """This peer's newest block: where an empty log starts."""
        self.names = names
        self.chain_id = chain_id
        self.org = org
        self.max_txs = max_txs
        self.max_wait_ms = max_wait_ms
        self.clock = clock
        self.leading = False
        self.proposed = 0
        self.lost_races = 0

    def start(self) -> None:
        self.link.spawn(self._run, "propose")

    async def _run(self) -> None:
        kv = await self.link.js.key_value(self.names.lease_bucket)
        while True:
            try:
                revision = await self._acquire(kv)
                if revision is None:
                    await asyncio.sleep(LEASE_RENEW_S)
                    continue
                self.leading = True
                log.info("%s proposes batches", self.org)
                await self._lead(kv, revision)
            except (TimeoutError, nats.errors.Error, OSError) as exc:
                log.info("proposer %s steps back: %r", self.org, exc)
                await asyncio.sleep(0.25)
            except Exception:  # noqa: BLE001 - a client library fault must not end proposing
                log.exception("proposer %s failed; starting over", self.org)
                await asyncio.sleep(1.0)
            finally:
                self.leading = False

    async def _acquire(self, kv: Any) -> int | None:
        try:
            return int(await kv.create("proposer", self.org.encode()))
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
        entry = await kv.get("proposer")
        if entry.value == self.org.encode():  # our own lease, from before a restart
            return int(await kv.update("proposer", self.org.encode(), last=entry.revision))
        return None

    async def _lead(self, kv: Any, revision: int) -> None:
        js = self.link.js
        seq, height, last_tx_seq, last_time = await self._last_batch()
        sub = await js.pull_subscribe(
            self.names.tx_subject, durable=None, stream=self.names.tx_stream,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                  opt_start_seq=last_tx_seq + 1, ack_policy=AckPolicy.NONE,
                                  inactive_threshold=30.0, max_waiting=8))
        renewed = checked = time.monotonic()
        buffered: list[Any] = []
        size = 0
        first_at = 0.0
        received = last_tx_seq  # the transaction stream's sequence fetched up to
        try:
            while True:
                now = time.monotonic()
                if kv is not None and now - renewed >= LEASE_RENEW_S:
                    revision = int(await kv.update("proposer", self.org.encode(), last=revision))
                    renewed = now
                if not buffered and now - checked >= CONSUMER_CHECK_S:
                    checked = now
                    if await self._consumer_lost(received):
                        log.info("proposer %s lost its consumer; starting over from the log", self.org)
                        return
                wait = self.max_wait_ms / 1000 if not buffered else first_at + self.max_wait_ms / 1000 - now
                if len(buffered) < self.max_txs and size < MAX_BATCH_BYTES and wait > 0:
                    try:
                        msgs = await sub.fetch(batch=self.max_txs - len(buffered),
                                               timeout=max(wait, 0.005))
                    except TimeoutError:  # nats' own and asyncio's: nothing came in time
                        msgs = []
                    if msgs and not buffered:
                        first_at = time.monotonic()
                    for msg in msgs:
                        buffered.append(msg)
                        size += len(msg.data)
                    if msgs:
                        received = msgs[-1].metadata.sequence.stream
                        checked = time.monotonic()
                    continue
                if not buffered:
                    continue
                take, size_taken = [], 0
                for msg in buffered:
                    if len(take) >= self.max_txs or size_taken + len(msg.data) > MAX_BATCH_BYTES:
                        break
                    take.append(msg)
                    size_taken += len(msg.data)
                buffered = buffered[len(take):]
                size -= size_taken
                first_at = time.monotonic() if buffered else 0.0
                last_time = max(last_time, self.clock())
                batch = LogBatch(self.chain_id, height + 1, take[0].metadata.sequence.stream,
                                 take[-1].metadata.sequence.stream, last_time, self.org,
                                 tuple(m.data for m in take))
                if not await self._publish(batch, after_seq=seq):
                    self.lost_races += 1
                    return  # someone else proposed this height: start over from the log
                seq += 1
                height += 1
                self.proposed += 1
        finally:
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

    async def _consumer_lost(self, received: int) -> bool:
        """True if the transaction stream holds messages past ``received`` that the consumer has
        not delivered for a while: it died with a NATS node, or its leader moved."""
        info = await self.link.js.stream_info(self.names.tx_stream)
        return info.state.last_seq > received

    async def _publish(self, batch: LogBatch, *, after_seq: int) -> bool:
        headers = {"Nats-Expected-Last-Sequence": str(after_seq),
                   "Nats-Msg-Id": f"{self.chain_id}:{batch.height}"}
        try:
            ack = await self.link.js.publish(self.names.batch_subject, batch.encode(), headers=headers)
        except nats.js.errors.APIError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                return False
            raise
        return not ack.duplicate  # a duplicate: our own earlier try landed; read the log again

    async def _last_batch(self) -> tuple[int, int, int, int]:
        """(stream sequence, height, last transaction sequence, block time) of the newest batch
        in the log; an empty log starts after this peer's head."""
        info = await self.link.js.stream_info(self.names.batch_stream)
        if info.state.last_seq == 0:
            head = self.head()
            return 0, head.height, 0, head.time_ms
        msg = await self.link.js.get_msg(self.names.batch_stream, seq=info.state.last_seq)
        batch = LogBatch.decode(msg.data)
        return info.state.last_seq, batch.height, batch.last_tx_seq, batch.time_ms

