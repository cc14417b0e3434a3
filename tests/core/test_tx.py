"""Transactions: signing, the envelope's one encoding, stateless refusals, validity window."""

from __future__ import annotations

import hashlib
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicledger.core import encoding
from civicledger.core.address import address_of
from civicledger.core.crypto import KeyPair, digest, verify
from civicledger.core.errors import EncodingError, Expired, WrongChain
from civicledger.core.tx import (
    MAX_COSIGNERS,
    MAX_TTL_MS,
    MAX_TX_SIZE,
    TX_ID_TAG,
    TX_VERSION,
    SignedTransaction,
    Transaction,
    check_window,
    decode,
    decode_body,
)

ALICE = KeyPair.from_seed(bytes([1]) * 32)
BOB = KeyPair.from_seed(bytes([2]) * 32)
CAROL = KeyPair.from_seed(bytes([3]) * 32)
NOW = 1_767_225_600_000
CHAIN = "seoul-test"


def make_tx(**changes: Any) -> Transaction:
    fields: dict[str, Any] = {
        "chain_id": CHAIN,
        "contract": "token",
        "method": "transfer",
        "args": {"currency": "CIV", "to": address_of(BOB.public_key), "amount": 5, "memo": "커피"},
        "signer": ALICE.public_key,
        "nonce": bytes(range(16)),
        "expires": NOW + 60_000,
    }
    fields.update(changes)
    return Transaction(**fields)


def body_fields(**changes: Any) -> list[Any]:
    """The nine body items of a valid transaction, with some replaced."""
    fields = {
        "version": TX_VERSION,
        "chain_id": CHAIN,
        "contract": "token",
        "method": "transfer",
        "args": {"amount": 5},
        "signer": ALICE.public_key,
        "cosigners": [],
        "nonce": bytes(8),
        "expires": NOW,
    }
    fields.update(changes)
    return list(fields.values())


def envelope_of(fields: list[Any], signatures: list[bytes] | None = None) -> bytes:
    body = encoding.encode(fields)
    if signatures is None:
        signatures = [bytes(64)] * (1 + len(fields[6]))
    return encoding.encode([body, signatures])


# -- signing and decoding --------------------------------------------------------


def test_sign_then_decode_round_trips() -> None:
    tx = make_tx()
    stx = tx.sign(ALICE)
    decoded = decode(stx.envelope())
    assert decoded == stx
    assert decoded.tx == tx
    assert decoded.body == tx.body() == stx.body
    assert decoded.id == stx.id == digest(TX_ID_TAG, stx.body)
    assert decoded.signer_addresses == (address_of(ALICE.public_key),)
    assert decoded.envelope() == stx.envelope()


def test_cosigned_round_trip() -> None:
    tx = make_tx(cosigners=(BOB.public_key, CAROL.public_key))
    stx = tx.sign(ALICE, BOB, CAROL)
    decoded = decode(stx.envelope())
    assert decoded == stx
    assert decoded.public_keys == (ALICE.public_key, BOB.public_key, CAROL.public_key)
    assert decoded.signer_addresses == tuple(
        address_of(k.public_key) for k in (ALICE, BOB, CAROL)
    )


def test_id_is_stable_golden() -> None:
    """A change to the body layout or the id's hash shows up here first."""
    tx = make_tx()
    assert tx.sign(ALICE).id == tx.sign(ALICE).id == tx.sign(BOB).id  # signatures are not in it
    assert tx.sign(ALICE).id.hex() == GOLDEN_ID
    assert hashlib.sha256(tx.sign(ALICE).envelope()).hexdigest() == GOLDEN_ENVELOPE_SHA256


GOLDEN_ID = "94928bdab8ecc282aadb0e77e179dd8d5693b7e3244a23d9cc6f99356a04c2b5"
GOLDEN_ENVELOPE_SHA256 = "e34d05d14fa402be03670e154b5e366af4dad55338361070d97f178780599560"


def test_id_is_sha256_of_the_tagged_msgpack_body() -> None:
    """The id, derived by hand from the documented layout with plain msgpack."""
    tx = make_tx()
    args = dict(sorted(tx.args.items()))
    layout = [1, CHAIN, "token", "transfer", args, ALICE.public_key, [], tx.nonce, tx.expires]
    body = msgpack.packb(layout, use_bin_type=True)
    assert tx.body() == body
    assert tx.sign(ALICE).id == hashlib.sha256(b"civicledger/tx\x00" + body).digest()


def test_args_order_does_not_change_the_id() -> None:
    args = {"a": 1, "b": 2, "c": 3}
    forwards = make_tx(args=args)
    backwards = make_tx(args=dict(reversed(list(args.items()))))
    assert forwards.sign(ALICE).id == backwards.sign(ALICE).id


@pytest.mark.parametrize(
    "change",
    [
        {"nonce": bytes(range(1, 17))},
        {"chain_id": "other"},
        {"args": {"amount": 6}},
        {"expires": NOW + 60_001},
        {"cosigners": (BOB.public_key,)},
        {"method": "mint"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_every_field_changes_the_id(change: dict[str, Any]) -> None:
    assert make_tx(**change).sign(ALICE).id != make_tx().sign(ALICE).id


# -- signatures ------------------------------------------------------------------


def test_signatures_verify_on_the_signed_message() -> None:
    stx = make_tx(cosigners=(BOB.public_key,)).sign(ALICE, BOB)
    for key, signature in zip(stx.public_keys, stx.signatures, strict=True):
        assert verify(key, stx.signed_message, signature)
    assert not verify(BOB.public_key, stx.signed_message, stx.signatures[0])
    assert not verify(ALICE.public_key, stx.signed_message, stx.signatures[1])


def test_signatures_fail_when_the_body_is_altered() -> None:
    stx = make_tx().sign(ALICE)
    altered_tx = make_tx(args={**stx.tx.args, "amount": 500})
    body = altered_tx.body()
    altered = SignedTransaction(altered_tx, body, digest(TX_ID_TAG, body), stx.signatures)
    assert altered.id != stx.id
    assert not verify(ALICE.public_key, altered.signed_message, stx.signatures[0])
    # and through the envelope, as a node receives it
    received = decode(encoding.encode([body, list(stx.signatures)]))
    assert not verify(ALICE.public_key, received.signed_message, received.signatures[0])


# -- refusals --------------------------------------------------------------------

MAX_KEYS = [KeyPair.from_seed(bytes([10 + i]) * 32).public_key for i in range(MAX_COSIGNERS + 1)]

REFUSED_BODIES: dict[str, list[Any]] = {
    "eight items": body_fields()[:8],
    "ten items": [*body_fields(), 0],
    "not an array": {"version": 1},  # type: ignore[dict-item]
    "version 2": body_fields(version=2),
    "version 0": body_fields(version=0),
    "version true": body_fields(version=True),
    "version text": body_fields(version="1"),
    "empty chain id": body_fields(chain_id=""),
    "long chain id": body_fields(chain_id="c" * 65),
    "contract not text": body_fields(contract=b"token"),
    "empty method": body_fields(method=""),
    "args not a map": body_fields(args=[1]),
    "short signer": body_fields(signer=bytes(31)),
    "signer text": body_fields(signer="alice"),
    "too many cosigners": body_fields(cosigners=MAX_KEYS),
    "cosigner short": body_fields(cosigners=[bytes(31)]),
    "cosigners not array": body_fields(cosigners=BOB.public_key),
    "signer cosigns": body_fields(cosigners=[ALICE.public_key]),
    "cosigner twice": body_fields(cosigners=[BOB.public_key, BOB.public_key]),
    "nonce 7 bytes": body_fields(nonce=bytes(7)),
    "nonce 33 bytes": body_fields(nonce=bytes(33)),
    "nonce text": body_fields(nonce="12345678"),
    "expires negative": body_fields(expires=-1),
    "expires 2**53": body_fields(expires=2**53),
    "expires true": body_fields(expires=True),
}


@pytest.mark.parametrize("fields", REFUSED_BODIES.values(), ids=REFUSED_BODIES.keys())
def test_decode_refuses_bad_bodies(fields: Any) -> None:
    body = encoding.encode(fields)
    with pytest.raises(EncodingError):
        decode_body(body)
    with pytest.raises(EncodingError):
        decode(encoding.encode([body, [bytes(64)]]))


def test_the_largest_allowed_cosigner_count_decodes() -> None:
    fields = body_fields(cosigners=MAX_KEYS[1 : MAX_COSIGNERS + 1])
    stx = decode(envelope_of(fields))
    assert len(stx.tx.cosigners) == MAX_COSIGNERS
    with pytest.raises(EncodingError):
        decode(envelope_of(body_fields(cosigners=MAX_KEYS[: MAX_COSIGNERS + 1])))


@pytest.mark.parametrize("nonce_size", [8, 32])
def test_nonce_bounds_are_inclusive(nonce_size: int) -> None:
    assert len(decode(envelope_of(body_fields(nonce=bytes(nonce_size)))).tx.nonce) == nonce_size


@pytest.mark.parametrize(
    "signatures", [[], [bytes(64)] * 2, [bytes(63)], [b""], ["sig"]], ids=repr
)
def test_decode_refuses_wrong_signatures(signatures: list[Any]) -> None:
    with pytest.raises(EncodingError):
        decode(envelope_of(body_fields(), signatures))


def test_signature_count_must_match_cosigners() -> None:
    fields = body_fields(cosigners=[BOB.public_key])
    assert decode(envelope_of(fields, [bytes(64)] * 2)).tx.cosigners == (BOB.public_key,)
    with pytest.raises(EncodingError):
        decode(envelope_of(fields, [bytes(64)]))
    with pytest.raises(EncodingError):
        decode(envelope_of(fields, [bytes(64)] * 3))


@pytest.mark.parametrize(
    "envelope",
    [
        encoding.encode([encoding.encode(body_fields())]),
        encoding.encode([encoding.encode(body_fields()), [bytes(64)], b""]),
        encoding.encode([body_fields(), [bytes(64)]]),  # body not wrapped in bytes
        encoding.encode([encoding.encode(body_fields()), bytes(64)]),
        encoding.encode({"body": b""}),
        encoding.encode([encoding.encode(body_fields()) + b"\x00", [bytes(64)]]),
    ],
)
def test_decode_refuses_bad_envelopes(envelope: bytes) -> None:
    with pytest.raises(EncodingError):
        decode(envelope)


def test_oversized_envelope_is_refused() -> None:
    stx = make_tx(args={"blob": bytes(MAX_TX_SIZE)}).sign(ALICE)
    with pytest.raises(EncodingError) as caught:
        decode(stx.envelope())
    assert caught.value.code == "oversized"


def test_non_canonical_envelope_is_refused() -> None:
    envelope = make_tx().sign(ALICE).envelope()
    assert envelope[0] == 0x92  # fixarray of two
    with pytest.raises(EncodingError) as caught:
        decode(b"\xdc\x00\x02" + envelope[1:])  # the same array as array16
    assert caught.value.code == "non_canonical"


# -- validity window -------------------------------------------------------------


def test_check_window_accepts_inside_the_window() -> None:
    stx = make_tx(expires=NOW).sign(ALICE)
    check_window(stx, CHAIN, NOW)  # the expiry instant itself is still valid
    check_window(stx, CHAIN, NOW - MAX_TTL_MS)  # exactly the longest lifetime ahead


def test_check_window_refuses_another_chain() -> None:
    with pytest.raises(WrongChain) as caught:
        check_window(make_tx().sign(ALICE), "busan", NOW)
    assert caught.value.code == "wrong_chain"


def test_check_window_refuses_an_expired_transaction() -> None:
    with pytest.raises(Expired) as caught:
        check_window(make_tx(expires=NOW).sign(ALICE), CHAIN, NOW + 1)
    assert caught.value.code == "expired"


def test_check_window_refuses_an_expiry_too_far_ahead() -> None:
    with pytest.raises(Expired) as caught:
        check_window(make_tx(expires=NOW + MAX_TTL_MS + 1).sign(ALICE), CHAIN, NOW)
    assert caught.value.code == "expiry_too_far"


# -- mutation --------------------------------------------------------------------

ORIGINAL = make_tx(cosigners=(BOB.public_key,)).sign(ALICE, BOB)
ORIGINAL_ENVELOPE = ORIGINAL.envelope()


def signatures_hold(stx: SignedTransaction) -> bool:
    return all(
        verify(key, stx.signed_message, signature)
        for key, signature in zip(stx.public_keys, stx.signatures, strict=True)
    )


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(ORIGINAL_ENVELOPE) - 1), st.integers(1, 255))
def test_one_changed_byte_is_refused_or_breaks_the_transaction(index: int, delta: int) -> None:
    data = bytearray(ORIGINAL_ENVELOPE)
    data[index] = (data[index] + delta) % 256
    try:
        stx = decode(bytes(data))
    except EncodingError:
        return
    assert stx.id != ORIGINAL.id or stx.signatures != ORIGINAL.signatures
    assert not signatures_hold(stx)
    assert stx.tx.body() == stx.body  # whatever decodes re-encodes to the bytes signed


def test_original_signatures_hold() -> None:
    assert signatures_hold(decode(ORIGINAL_ENVELOPE))
