"""The ordering seam, and the solo orderer (in-process, the embedded default).

An orderer puts admitted transactions into one total order and cuts it into
batches, each stamped with a block time and a proposer. Every peer executes
the same batches in the same order. The NATS JetStream cluster implements this
interface with a replicated log (``jetstream.py``).
"""

from __future__ import annotations

import collections
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from civicledger.core.errors import Busy
from civicledger.core.tx import SignedTransaction


@dataclass(frozen=True, slots=True)
class Batch:
    time_ms: int
    """Block time chosen by ordering (Unix ms)."""
    proposer: str
    txs: tuple[SignedTransaction, ...]
    height: int | None = None
    """The height the log assigned this batch (a replicated log numbers them; solo does not)."""


class Orderer(ABC):
    def resume(self, after_height: int) -> None:  # noqa: B027 - optional: solo needs nothing
        """Deliver batches from height ``after_height + 1`` on: the executor's head."""

    @abstractmethod
    def submit(self, txs: Sequence[SignedTransaction]) -> None:
        """Queue admitted transactions; raises Busy if the queue is full."""

    @abstractmethod
    def next_batch(self, timeout: float) -> Batch | None:
        """The next batch in the total order, or None if none is ready within ``timeout`` s."""

    @abstractmethod
    def pending(self) -> int:
        """Transactions queued and not yet in a batch."""

    @property
    @abstractmethod
    def capacity(self) -> int:
        """The most that may be pending; more is refused as Busy."""

    @abstractmethod
    def close(self) -> None: ...


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class SoloOrderer(Orderer):
    """Cuts a batch when ``max_txs`` are waiting or the oldest has waited ``max_wait_ms``."""

    def __init__(
        self,
        *,
        proposer: str = "solo",
        max_txs: int = 2000,
        max_wait_ms: int = 20,
        max_pending: int = 200_000,
        clock: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.proposer = proposer
        self.max_txs = max_txs
        self.max_wait_ms = max_wait_ms
        self.max_pending = max_pending
        self._clock = clock
        self._queue: collections.deque[SignedTransaction] = collections.deque()
        self._first_at: float | None = None
        self._ready = threading.Condition()
        self._closed = False
        self._last_time = 0

    def submit(self, txs: Sequence[SignedTransaction]) -> None:
        with self._ready:
            if len(self._queue) + len(txs) > self.max_pending:
                raise Busy(f"{len(self._queue)} transactions are waiting; retry shortly")
            if not self._queue:
                self._first_at = time.monotonic()
            self._queue.extend(txs)
            self._ready.notify()

    def next_batch(self, timeout: float) -> Batch | None:
        deadline = time.monotonic() + timeout
        with self._ready:
            while not self._closed:
                now = time.monotonic()
                if self._queue:
                    cut_at = (self._first_at or now) + self.max_wait_ms / 1000
                    if len(self._queue) >= self.max_txs or now >= cut_at:
                        return self._cut()
                    wait = min(cut_at, deadline) - now
                else:
                    wait = deadline - now
                if wait <= 0:
                    return None
                self._ready.wait(wait)
        return None

    def _cut(self) -> Batch:
        count = min(self.max_txs, len(self._queue))
        txs = tuple(self._queue.popleft() for _ in range(count))
        self._first_at = time.monotonic() if self._queue else None
        self._last_time = max(self._last_time, self._clock())
        return Batch(self._last_time, self.proposer, txs)

    def pending(self) -> int:
        return len(self._queue)

    @property
    def capacity(self) -> int:
        return self.max_pending

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
