"""The verifier gives the same verdicts in worker processes, in threads and inline."""

from __future__ import annotations

import dataclasses
import os

import pytest

from civicledger.core.crypto import KeyPair
from civicledger.core.tx import SignedTransaction, Transaction
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


def test_remembered_verdicts_are_used_once() -> None:
    txs, expected = group()
    verifier = Verifier(threads=2)
    try:
        assert verifier.check(txs, remember=True) == expected
        verifier._stop_workers()
        verifier._use_workers = False
        assert verifier.check(txs) == expected  # the valid ones from the cache, the rest again
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
        assert not verifier._workers
        assert verifier.check(txs) == expected
    finally:
        verifier.close()
