"""Receipts keep their encoding once computed, without it affecting equality."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicledger.core import encoding
from civicledger.core.block import Event, Receipt
from civicledger.core.errors import EncodingError


def receipt() -> Receipt:
    event = Event("token", "Transferred", {"sender": b"a" * 20, "amount": 5, "currency": "CIV"},
                  (b"a" * 20,))
    return Receipt(b"i" * 32, "ok", "", (event,), None)


def test_receipt_encoding_is_the_canonical_encoding_of_its_value() -> None:
    first = receipt()
    assert first.encode() == encoding.encode(first.to_value())
    assert first.encode() is first.encode()


def test_cached_encoding_does_not_affect_equality_or_replace() -> None:
    encoded, fresh = receipt(), receipt()
    encoded.encode()
    assert encoded == fresh
    failed = dataclasses.replace(encoded, status="insufficient_funds", events=())
    assert failed.encode() == encoding.encode(failed.to_value())
    assert Receipt.from_value(encoding.decode(encoded.encode(), max_size=1 << 16)) == encoded


scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.binary(max_size=8)
           | st.text(max_size=5) | st.floats(allow_nan=False) | st.integers(2**64, 2**65))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    | st.dictionaries(st.integers(0, 3), inner, max_size=2),
    max_leaves=8,
)
events = st.builds(Event, st.text(max_size=6), st.text(max_size=6),
                   st.dictionaries(st.text(max_size=6), values, max_size=4),
                   st.lists(st.binary(max_size=20) | st.text(max_size=3), max_size=3).map(tuple))


@settings(max_examples=300)
@given(st.binary(max_size=32), st.text(max_size=12), st.text(max_size=12), st.lists(events, max_size=3),
       values)
def test_receipt_encoding_is_the_general_encoding(tx_id, status, message, evs, result) -> None:
    built = Receipt(tx_id, status, message, tuple(evs), result)
    try:
        expected = encoding.encode(built.to_value())
    except EncodingError:
        with pytest.raises(EncodingError):
            built.encode()
        return
    assert built.encode() == expected


def test_receipt_encoding_refuses_what_the_general_encoder_refuses() -> None:
    for bad in (
        Receipt(b"i", "ok", "", (Event("c", "n", {"x": 1.5}),)),
        Receipt(b"i", "ok", "", (Event("c", "n", {1: 2}),)),
        Receipt(b"i", "ok", "", (), {2.5}),
        Receipt(b"i", "ok", 1.5),  # type: ignore[arg-type]
    ):
        with pytest.raises(EncodingError):
            bad.encode()
