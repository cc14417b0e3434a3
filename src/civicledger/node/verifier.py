"""Signature verification on every core, with a cache of what admission verified.

libsodium releases the GIL, so a thread pool verifies in parallel. A
transaction verified when it was admitted is remembered (by id and signatures)
so the executor does not verify it twice; anything not remembered — a block
from a replicated log, a replay from genesis — is verified in full.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from civicledger.core.crypto import verify
from civicledger.core.tx import SignedTransaction

CACHE_LIMIT = 1_000_000


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


class Verifier:
    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="verify")
        self._verified: dict[bytes, None] = {}
        self._lock = threading.Lock()

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
            size = max(64, -(-len(pending) // self.threads))
            chunks = [pending[j : j + size] for j in range(0, len(pending), size)]
            if len(chunks) == 1:
                verdicts = _check_chunk(chunks[0])
            else:
                verdicts = [v for part in self._pool.map(_check_chunk, chunks) for v in part]
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

    def close(self) -> None:
        self._pool.shutdown(wait=True)
