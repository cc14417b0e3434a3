"""Signature verification on every core, with a cache of what admission verified.

A group of signatures is checked in worker processes (``verify_worker``), one
per core, each with its own GIL: libsodium releases the GIL while it checks a
signature, but a thread must take the GIL back after each one, and beside the
busy executor it waits a switch interval for it every time. If the workers
cannot be started or fail (say the process ran out of file descriptors), the
verifier checks in its thread pool (same verdicts, less parallel) and tries to
start them again after a backoff that doubles from 1 s up to a minute;
``worker_count`` says how many run. A few signatures are checked in the calling
thread.

A transaction verified when it was admitted is remembered (by id and signatures)
so the executor does not verify it twice; anything not remembered — a block
from a replicated log, a replay from genesis — is verified in full. The cache
is bounded by bytes (``cache_bytes``), oldest entries going first. ``admit``
checks for replays before signatures, so a resubmitted committed envelope costs
an index lookup, not a signature check and a cache entry.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from civicledger.core.crypto import verify
from civicledger.core.tx import SignedTransaction

log = logging.getLogger(__name__)

CACHE_BYTES = 32 * 1024 * 1024
"""Default bound of the admission cache: about 145,000 single-signature transactions."""
ENTRY_OVERHEAD = 100
"""Bytes a cache entry costs beyond its key's bytes object: the dict slot and its share of the
table's spare room. Measured with tracemalloc at about 52 bytes, so the bound is kept with
room to spare (the key's own size is measured with ``sys.getsizeof``: 129 bytes for one
signature)."""
RETRY_FIRST_S = 1.0
RETRY_MOST_S = 60.0
"""Backoff between attempts to start the signature workers again: doubles up to this."""
INLINE_MAX = 4
"""Groups up to this many transactions are checked in the calling thread."""
WORKER_SHARE_MIN = 32
"""Fewest signatures worth sending to one more worker."""


def signatures_valid(stx: SignedTransaction) -> bool:
    message = stx.signed_message
    if len(stx.signatures) == 1:  # the common case: the signer alone
        return verify(stx.tx.signer, message, stx.signatures[0])
    return all(
        verify(key, message, signature)
        for key, signature in zip(stx.public_keys, stx.signatures, strict=True)
    )


def _check_chunk(chunk: Sequence[SignedTransaction]) -> list[bool]:
    return [signatures_valid(stx) for stx in chunk]


def _cache_key(stx: SignedTransaction) -> bytes:
    return stx.id + b"".join(stx.signatures)


def _entry_bytes(key: bytes) -> int:
    return sys.getsizeof(key) + ENTRY_OVERHEAD


class _Worker:
    """One ``verify_worker`` process and its pipes."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "civicledger.node.verify_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )

    def send(self, records: list[bytes]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(len(records).to_bytes(4, "big") + b"".join(records))
        self.process.stdin.flush()

    def receive(self, count: int) -> bytes:
        assert self.process.stdout is not None
        verdicts = self.process.stdout.read(count)
        if len(verdicts) != count:
            raise OSError(f"signature worker {self.process.pid} stopped")
        return verdicts

    def close(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):  # a dead worker's pipe may not flush
                    pipe.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Verifier:
    def __init__(self, threads: int | None = None, *, processes: bool = True,
                 cache_bytes: int = CACHE_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``threads``: how many signatures are checked at once (default: one per core);
        ``processes``: check groups in worker processes, else in threads of this one;
        ``cache_bytes``: the most memory remembered verdicts may take (estimated);
        ``clock``: seconds, for the backoff between attempts to start the workers."""
        self.threads = threads or os.cpu_count() or 1
        self.cache_bytes = cache_bytes
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="verify")
        self._verified: dict[bytes, None] = {}
        self._cached = 0
        self._lock = threading.Lock()
        self._use_workers = processes
        self._workers: list[_Worker] = []
        self._workers_lock = threading.Lock()
        self._clock = clock
        self._retry_at = 0.0
        self._backoff = RETRY_FIRST_S
        self.worker_failures = 0
        """Times the workers failed to start or stopped answering."""

    @property
    def worker_count(self) -> int:
        """Signature worker processes running now (0 while checking in threads)."""
        return len(self._workers)

    @property
    def cached_bytes(self) -> int:
        """Estimated memory the remembered verdicts take."""
        return self._cached

    def admit(self, txs: Sequence[SignedTransaction],
              committed: Callable[[Iterable[bytes]], set[bytes]]) -> list[bool | None]:
        """Admission's check: None for a transaction whose id ``committed`` reports (a replay:
        neither verified nor remembered), else whether its signatures are all valid, the
        valid ones remembered for the executor."""
        already = committed([stx.id for stx in txs])
        fresh = [i for i, stx in enumerate(txs) if stx.id not in already]
        verdicts: list[bool | None] = [None] * len(txs)
        for i, ok in zip(fresh, self.check([txs[i] for i in fresh], remember=True), strict=True):
            verdicts[i] = ok
        return verdicts

    def check(self, txs: Sequence[SignedTransaction], *, remember: bool = False) -> list[bool]:
        """Whether each transaction's signatures are all valid.

        ``remember``: cache the valid ones for a later ``check`` (admission does this).
        A cached entry is used once.
        """
        results: list[bool | None] = [None] * len(txs)
        todo: list[int] = []
        with self._lock:
            for i, stx in enumerate(txs):
                key = _cache_key(stx)
                if key in self._verified:
                    del self._verified[key]  # each admitted transaction executes once
                    self._cached -= _entry_bytes(key)
                    results[i] = True
                else:
                    todo.append(i)
        if todo:
            pending = [txs[i] for i in todo]
            verdicts = self._in_workers(pending) if len(pending) > INLINE_MAX else None
            if verdicts is None:
                verdicts = self._in_threads(pending)
            for i, verdict in zip(todo, verdicts, strict=True):
                results[i] = verdict
        if remember:
            with self._lock:
                for stx, ok in zip(txs, results, strict=True):
                    key = _cache_key(stx)
                    if ok and key not in self._verified:
                        self._verified[key] = None
                        self._cached += _entry_bytes(key)
                while self._cached > self.cache_bytes:
                    oldest = next(iter(self._verified))
                    del self._verified[oldest]
                    self._cached -= _entry_bytes(oldest)
        return [bool(r) for r in results]

    def _in_threads(self, pending: list[SignedTransaction]) -> list[bool]:
        size = max(64, -(-len(pending) // self.threads))
        chunks = [pending[j : j + size] for j in range(0, len(pending), size)]
        if len(chunks) == 1:
            return _check_chunk(chunks[0])
        return [v for part in self._pool.map(_check_chunk, chunks) for v in part]

    def _in_workers(self, pending: list[SignedTransaction]) -> list[bool] | None:
        """The verdicts from the worker processes; None if there are none (any more)."""
        records = [key + signature + stx.id for stx in pending
                   for key, signature in zip(stx.public_keys, stx.signatures, strict=True)]
        with self._workers_lock:
            if not self._use_workers:
                return None
            if not self._workers and self._clock() < self._retry_at:
                return None  # the last start failed; try again after the backoff
            try:
                if not self._workers:
                    self._start_workers()
                share = max(WORKER_SHARE_MIN, -(-len(records) // len(self._workers)))
                parts = [records[j : j + share] for j in range(0, len(records), share)]
                for worker, part in zip(self._workers, parts, strict=False):
                    worker.send(part)
                verdicts = b"".join(worker.receive(len(part))
                                    for worker, part in zip(self._workers, parts, strict=False))
            except OSError as error:
                self._stop_workers()
                self.worker_failures += 1
                self._retry_at = self._clock() + self._backoff
                log.warning("signature workers failed (%s); verifying in threads, trying again "
                            "in %.0f s", error, self._backoff)
                self._backoff = min(self._backoff * 2, RETRY_MOST_S)
                return None
            self._backoff = RETRY_FIRST_S  # they answered: a later failure starts afresh
        out, at = [], 0
        for stx in pending:
            count = len(stx.signatures)
            out.append(all(verdicts[at : at + count]))
            at += count
        return out

    def _start_workers(self) -> None:
        """Start one worker per thread; if any cannot start, none is kept (and OSError rises)."""
        started: list[_Worker] = []
        try:
            for _ in range(self.threads):
                started.append(_Worker())
        except OSError:
            for worker in started:
                worker.close()
            raise
        self._workers = started

    def _stop_workers(self) -> None:
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()

    def close(self) -> None:
        with self._workers_lock:
            self._stop_workers()
            self._use_workers = False
        self._pool.shutdown(wait=True)
