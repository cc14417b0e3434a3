"""Addresses: 20 bytes from a public key, shown as civ1… text whose checksum catches typos."""

from __future__ import annotations

import bech32
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicledger.core.address import (
    ADDRESS_SIZE,
    HRP,
    AddressError,
    address_of,
    derived_address,
    from_text,
    to_text,
)
from civicledger.core.crypto import KeyPair

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
addresses = st.binary(min_size=ADDRESS_SIZE, max_size=ADDRESS_SIZE)


@settings(max_examples=200)
@given(addresses)
def test_text_round_trips(address: bytes) -> None:
    text = to_text(address)
    assert text.startswith("civ1")
    assert len(text) == 42
    assert from_text(text) == address
    assert from_text(f"  {text}\n") == address  # surrounding whitespace is forgiven
    assert from_text(text.upper()) == address  # Bech32 allows one case throughout


def test_address_of_a_public_key() -> None:
    key = KeyPair.from_seed(bytes(32))
    address = address_of(key.public_key)
    assert len(address) == ADDRESS_SIZE
    assert address != address_of(KeyPair.from_seed(bytes([1]) * 32).public_key)
    assert from_text(to_text(address)) == address


def test_derived_addresses_are_distinct_per_kind_and_name() -> None:
    seen = {
        derived_address("contract", "token"),
        derived_address("contract", "governance"),
        derived_address("org", "token"),
    }
    assert len(seen) == 3
    assert all(len(a) == ADDRESS_SIZE for a in seen)


@settings(max_examples=300)
@given(addresses, st.data())
def test_any_one_character_typo_is_detected(address: bytes, data: st.DataObject) -> None:
    text = to_text(address)
    position = data.draw(st.integers(0, len(text) - 1), label="position")
    replacement = data.draw(
        st.sampled_from(CHARSET + "1bio" + HRP.upper() + "-_ ").filter(
            lambda c: c != text[position]
        ),
        label="replacement",
    )
    typo = text[:position] + replacement + text[position + 1 :]
    with pytest.raises(AddressError):
        from_text(typo)


@settings(max_examples=100)
@given(addresses, st.data())
def test_two_adjacent_characters_swapped_is_detected(address: bytes, data: st.DataObject) -> None:
    text = to_text(address)
    position = data.draw(st.integers(4, len(text) - 2), label="position")
    if text[position] == text[position + 1]:
        return
    swapped = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    with pytest.raises(AddressError):
        from_text(swapped)


def test_wrong_prefix_is_refused() -> None:
    data = bech32.convertbits(bytes(range(20)), 8, 5)
    other = bech32.bech32_encode("cvi", data)  # valid Bech32, same length, another prefix
    assert len(other) == len(to_text(bytes(range(20))))
    with pytest.raises(AddressError, match="civ1"):
        from_text(other)


@pytest.mark.parametrize("size", [19, 21, 32])
def test_wrong_length_is_refused(size: int) -> None:
    text = bech32.bech32_encode(HRP, bech32.convertbits(bytes(size), 8, 5))
    with pytest.raises(AddressError):
        from_text(text)
    with pytest.raises(AddressError):
        to_text(bytes(size))


def test_same_length_wrong_payload_is_refused() -> None:
    # A four-letter prefix with one data character fewer has the same total length.
    data = bech32.convertbits(bytes(20), 8, 5)[:-1]
    text = bech32.bech32_encode("civx", data)
    assert len(text) == len(to_text(bytes(20)))
    with pytest.raises(AddressError):
        from_text(text)


@pytest.mark.parametrize("text", ["", "civ1", "hello", "civ1" + "q" * 38, "CIV1" + "q" * 32 + "aaaaaa"])
def test_garbage_is_refused(text: str) -> None:
    with pytest.raises(AddressError):
        from_text(text)


def test_mixed_case_is_refused() -> None:
    text = to_text(bytes(range(20)))
    letter = next(i for i, c in enumerate(text) if c.isalpha() and i > 3)
    mixed = text[:letter] + text[letter].upper() + text[letter + 1 :]
    with pytest.raises(AddressError):
        from_text(mixed)
