"""Signature verification on every core, with a cache of what admission verified.

A group of signatures is checked in worker processes (``verify_worker``), one
per core, each with its own GIL: libsodium releases the GIL while it checks a
signature, but a thread must take the GIL back after each one, and beside the
busy executor it waits a switch interval for it every time. If a worker cannot
be started or fails, the verifier falls back to its thread pool (same verdicts,
less parallel). A few signatures are checked in the calling thread.

A transaction verified when it was admitted is remembered (by id and signatures)
so the executor does not verify it twice; anything not remembered — a block
from a replicated log, a replay from genesis — is verified in full.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from civicledger.core.crypto import verify
from civicledger.core.tx import SignedTransaction

log = logging.getLogger(__name__)

CACHE_LIMIT = 1_000_000
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
    def __init__(self, threads: int | None = None, *, processes: bool = True) -> None:
        """``threads``: how many signatures are checked at once (default: one per core);
        ``processes``: check groups in worker processes, else in threads of this one."""
        self.threads = threads or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="verify")
        self._verified: dict[bytes, None] = {}
        self._lock = threading.Lock()
        self._use_workers = processes
        self._workers: list[_Worker] = []
        self._workers_lock = threading.Lock()

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
                    if ok:
                        self._verified[_cache_key(stx)] = None
                while len(self._verified) > CACHE_LIMIT:
                    del self._verified[next(iter(self._verified))]
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
            try:
                if not self._workers:
                    self._workers = [_Worker() for _ in range(self.threads)]
                share = max(WORKER_SHARE_MIN, -(-len(records) // len(self._workers)))
                parts = [records[j : j + share] for j in range(0, len(records), share)]
                for worker, part in zip(self._workers, parts, strict=False):
                    worker.send(part)
                verdicts = b"".join(worker.receive(len(part))
                                    for worker, part in zip(self._workers, parts, strict=False))
            except OSError as error:
                log.warning("signature workers failed (%s); verifying in threads from now on", error)
                self._stop_workers()
                self._use_workers = False
                return None
        out, at = [], 0
        for stx in pending:
            count = len(stx.signatures)
            out.append(all(verdicts[at : at + count]))
            at += count
        return out

    def _stop_workers(self) -> None:
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()

    def close(self) -> None:
        with self._workers_lock:
            self._stop_workers()
            self._use_workers = False
        self._pool.shutdown(wait=True)
