"""The verifier gives the same verdicts in worker processes, in threads and inline."""

from __future__ import annotations

import dataclasses
import os

import pytest

from civicledger.core import crypto
from civicledger.core.crypto import KeyPair
from civicledger.core.tx import SignedTransaction, Transaction
from civicledger.node import verifier as verifier_module
from civicledger.node.verifier import Verifier

KEYS = [KeyPair.generate() for _ in range(3)]


def signed(i: int, *, cosigned: bool = False, forged: str = "") -> SignedTransaction:
    signers = [KEYS[0], KEYS[1]] if cosigned else [KEYS[0]]
    tx = Transaction("chain", "token", "transfer", {"n": i}, KEYS[0].public_key, os.urandom(16),
                     10**12, tuple(k.public_key for k in signers[1:]))
    stx = tx.sign(*signers)
    if forged == "signer":  # a signature by another key
        bad = KEYS[2].sign(stx.signed_message)
        stx = dataclasses.replace(stx, signatures=(bad, *stx.signatures[1:]), encoded=b"")
    elif forged == "cosigner":
        bad = KEYS[2].sign(stx.signed_message)
        stx = dataclasses.replace(stx, signatures=(stx.signatures[0], bad), encoded=b"")
    return stx


def group() -> tuple[list[SignedTransaction], list[bool]]:
    txs, expected = [], []
    for i in range(150):
        kind = i % 5
        if kind == 1:
            txs.append(signed(i, forged="signer"))
        elif kind == 2:
            txs.append(signed(i, cosigned=True))
        elif kind == 3:
            txs.append(signed(i, cosigned=True, forged="cosigner"))
        else:
            txs.append(signed(i))
        expected.append(kind not in (1, 3))
    return txs, expected


@pytest.mark.parametrize("processes", [True, False])
def test_verdicts_match_in_workers_and_threads(processes: bool) -> None:
    txs, expected = group()
    verifier = Verifier(threads=2, processes=processes)
    try:
        assert verifier.check(txs) == expected
        assert verifier.check(txs[:3]) == expected[:3]  # a few: checked inline
        assert bool(verifier._workers) is processes
    finally:
        verifier.close()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every signature the verifier checks in this process, as it checks it."""
    seen: list[bytes] = []

    def counting(key: bytes, message: bytes, signature: bytes) -> bool:
        seen.append(signature)
        return crypto.verify(key, message, signature)

    monkeypatch.setattr(verifier_module, "verify", counting)
    return seen


def signature_count(txs: list[SignedTransaction]) -> int:
    return sum(len(stx.signatures) for stx in txs)


def test_remembered_verdicts_are_used_once(counted: list[bytes]) -> None:
    txs, expected = group()
    verifier = Verifier(threads=2, processes=False)
    try:
        assert verifier.check(txs, remember=True) == expected
        assert len(counted) == signature_count(txs)
        counted.clear()
        assert verifier.check(txs) == expected  # the valid ones from the cache, the rest again
        invalid = [stx for stx, ok in zip(txs, expected, strict=True) if not ok]
        assert len(counted) == signature_count(invalid)
        counted.clear()
        assert verifier.check(txs) == expected  # used once: now every one is verified again
        assert len(counted) == signature_count(txs)
        assert verifier.cached_bytes == 0
    finally:
        verifier.close()


def test_the_cache_is_bounded_by_bytes_oldest_first(counted: list[bytes]) -> None:
    txs = [signed(i) for i in range(60)]
    one = verifier_module._entry_bytes(verifier_module._cache_key(txs[0]))
    verifier = Verifier(threads=2, processes=False, cache_bytes=20 * one)
    try:
        assert all(verifier.check(txs, remember=True))
        assert verifier.cached_bytes == 20 * one
        counted.clear()
        assert all(verifier.check(txs))
        assert len(counted) == 40, "the 40 oldest were forgotten; the 20 newest came from cache"
    finally:
        verifier.close()


def test_admission_checks_for_replays_before_signatures(counted: list[bytes]) -> None:
    txs, expected = group()
    done = {stx.id for stx in txs[:100]}
    asked: list[list[bytes]] = []

    def committed(ids: object) -> set[bytes]:
        ids = list(ids)  # type: ignore[call-overload]
        asked.append(ids)
        return done.intersection(ids)

    verifier = Verifier(threads=2, processes=False)
    try:
        verdicts = verifier.admit(txs, committed)
        assert verdicts == [None] * 100 + expected[100:]
        assert asked == [[stx.id for stx in txs]]
        assert len(counted) == signature_count(txs[100:]), "a replay costs no signature check"
        valid_new = [stx for stx, ok in zip(txs[100:], expected[100:], strict=True) if ok]
        assert verifier.cached_bytes == sum(
            verifier_module._entry_bytes(verifier_module._cache_key(stx)) for stx in valid_new)
    finally:
        verifier.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_workers_that_fail_to_start_are_tried_again_after_a_backoff(
        monkeypatch: pytest.MonkeyPatch) -> None:
    txs, expected = group()
    real = verifier_module._Worker
    attempts: list[bool] = []
    failing = {"on": True}

    def start() -> object:
        attempts.append(failing["on"])
        if failing["on"]:
            raise OSError(24, "Too many open files")
        return real()

    monkeypatch.setattr(verifier_module, "_Worker", start)
    clock = FakeClock()
    verifier = Verifier(threads=2, clock=clock)
    try:
        assert verifier.check(txs) == expected  # in threads
        assert (verifier.worker_count, verifier.worker_failures, len(attempts)) == (0, 1, 1)
        clock.now += 0.5
        assert verifier.check(txs) == expected
        assert len(attempts) == 1, "no new attempt within the backoff"
        clock.now += 0.6
        assert verifier.check(txs) == expected
        assert (len(attempts), verifier.worker_failures) == (2, 2)
        clock.now += 1.5  # the backoff doubled to 2 s
        assert verifier.check(txs) == expected and len(attempts) == 2
        failing["on"] = False
        clock.now += 0.6
        assert verifier.check(txs) == expected
        assert verifier.worker_count == 2, "the workers run again"
    finally:
        verifier.close()


def test_a_failed_worker_falls_back_to_threads() -> None:
    txs, expected = group()
    verifier = Verifier(threads=2)
    try:
        assert verifier.check(txs) == expected
        for worker in verifier._workers:
            worker.process.kill()
            worker.process.wait()
        assert verifier.check(txs) == expected
        assert verifier.worker_count == 0
        assert verifier.check(txs) == expected
    finally:
        verifier.close()
