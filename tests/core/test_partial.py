"""Partial transactions: signed by the first parties, handed on, checked, completed."""

from __future__ import annotations

import base64
import os

import pytest

from civicledger.core import encoding
from civicledger.core.crypto import KeyPair
from civicledger.core.errors import CivicError
from civicledger.core.tx import Transaction, decode, read_partial

CHAIN = "test-chain"
NOW = 1_900_000_000_000


def call(signer: KeyPair, *cosigners: KeyPair, expires: int = NOW + 600_000) -> Transaction:
    return Transaction(CHAIN, "token", "transfer", {"currency": "CIV", "amount": 5},
                       signer.public_key, os.urandom(16), expires,
                       tuple(k.public_key for k in cosigners))


def code_of(action) -> str:
    with pytest.raises(CivicError) as refused:
        action()
    return refused.value.code


def test_two_co_signers_sign_in_turn_and_the_result_is_the_all_at_once_envelope():
    a, b, c = KeyPair.generate(), KeyPair.generate(), KeyPair.generate()
    tx = call(a, b, c)
    started = tx.start(a)
    assert started.awaiting == (b.public_key, c.public_key) and not started.complete
    handed = read_partial(started.text(), CHAIN, NOW)
    assert handed == started
    assert code_of(lambda: handed.cosign(c)) == "cosigner_out_of_turn"
    second = read_partial(handed.cosign(b).text() + "\n", CHAIN, NOW)  # as read from a file
    assert second.awaiting == (c.public_key,)
    assert code_of(lambda: second.cosign(b)) == "already_signed"
    assert code_of(second.signed) == "awaiting_cosigners"
    done = second.cosign(c)
    assert done.complete
    assert done.signed().envelope() == tx.sign(a, b, c).envelope()
    assert decode(done.signed().envelope()).id == done.id


def test_a_partial_is_refused_with_a_code_for_each_fault():
    a, b, stranger = KeyPair.generate(), KeyPair.generate(), KeyPair.generate()
    started = call(a, b).start(a)
    assert code_of(lambda: started.cosign(stranger)) == "not_cosigner"
    assert code_of(lambda: started.cosign(a)) == "already_signed"
    assert code_of(lambda: call(a, b).start(b)) == "not_signer"
    assert code_of(lambda: read_partial(started.text(), "other-chain", NOW)) == "wrong_chain"
    expired = call(a, b, expires=NOW - 1).start(a)
    assert code_of(lambda: read_partial(expired.text(), CHAIN, NOW)) == "expired"
    # the first signature must verify: a body altered after signing, or another key's signature
    forged = encoding.encode([started.body, [stranger.sign(b"civicledger/tx-signature\0" +
                                                           started.id)]])
    assert code_of(lambda: read_partial(forged, CHAIN, NOW)) == "bad_signature"
    altered_body = call(a, b).body()
    altered = encoding.encode([altered_body, list(started.signatures)])
    assert code_of(lambda: read_partial(altered, CHAIN, NOW)) == "bad_signature"
    for junk in ["", "!!!", base64.b64encode(b"junk").decode(), "A" * 50_000,
                 base64.urlsafe_b64encode(encoding.encode([started.body, []])).decode()]:
        assert code_of(lambda j=junk: read_partial(j, CHAIN, NOW)) == "malformed"


def test_standard_base64_and_a_portal_link_fragment_are_read_alike():
    a, b = KeyPair.generate(), KeyPair.generate()
    started = call(a, b).start(a)
    standard = base64.b64encode(started.encode()).decode()
    assert read_partial(standard, CHAIN, NOW) == read_partial(started.text(), CHAIN, NOW)
