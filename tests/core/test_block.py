"""Receipts keep their encoding once computed, without it affecting equality."""

from __future__ import annotations

import dataclasses

from civicledger.core import encoding
from civicledger.core.block import Event, Receipt


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
