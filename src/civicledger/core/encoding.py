"""Canonical encoding: one byte string per value.

CivicLedger encodes every signed or hashed value in a strict subset of
MessagePack:

* ``None``, ``bool``, integers in [-2**63, 2**64 - 1], ``bytes``, ``str`` (UTF-8),
  arrays (``list``/``tuple``; decoded as ``tuple``) and maps with ``str`` keys;
* no floats, no extension types;
* every item in its shortest form (what ``msgpack.packb`` writes) and map keys
  in ascending code-point order, without duplicates.

``decode`` accepts only canonical bytes: it decodes and re-encodes, and refuses
input whose re-encoding differs. So a transaction has exactly one byte string,
and its hash is a sound identifier.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import msgpack

from civicledger.core.errors import EncodingError

MAX_DEPTH = 16
"""Deepest nesting of arrays and maps accepted."""

MIN_INT = -(2**63)
MAX_INT = 2**64 - 1

Value = Any
"""A value of the canonical subset (documented above)."""


def _canon(value: Value, depth: int) -> Value:
    kind = type(value)
    if kind is str or kind is bytes or kind is bool or value is None:
        return value
    if kind is int:
        if not MIN_INT <= value <= MAX_INT:
            raise EncodingError(f"integer {value} is outside [-2**63, 2**64-1]")
        return value
    if depth >= MAX_DEPTH:
        raise EncodingError(f"value nests deeper than {MAX_DEPTH} levels")
    if kind is tuple or kind is list:
        return [_canon_item(item, depth + 1) for item in value]
    if kind is dict:
        for key in value:
            if type(key) is not str:
                raise EncodingError(f"map key {key!r} is not a string")
        return {key: _canon_item(value[key], depth + 1) for key in sorted(value)}
    if isinstance(value, Enum):
        return _canon(value.value, depth)
    if kind is float:
        raise EncodingError("floats are not allowed; use integer minor units")
    raise EncodingError(f"type {kind.__name__} cannot be encoded")


def _canon_item(item: Value, depth: int) -> Value:
    """``_canon`` with the common scalar cases inline (this is the hot path)."""
    kind = type(item)
    if kind is bytes or kind is str or kind is bool or item is None:
        return item
    if kind is int and MIN_INT <= item <= MAX_INT:
        return item
    return _canon(item, depth)


def encode(value: Value) -> bytes:
    """The canonical bytes of ``value``; raises EncodingError for values outside the subset."""
    return msgpack.packb(_canon(value, 0), use_bin_type=True)


def decode(data: bytes, *, max_size: int) -> Value:
    """Decode canonical bytes of at most ``max_size`` bytes; arrays come back as tuples."""
    if type(data) is not bytes:
        raise EncodingError("expected bytes")
    if len(data) > max_size:
        raise EncodingError(
            f"{len(data)} bytes is over the limit of {max_size}", code="oversized"
        )
    try:
        value = msgpack.unpackb(data, raw=False, use_list=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise EncodingError(f"not decodable: {type(exc).__name__}") from None
    if encode(value) != data:
        raise EncodingError("bytes are not in canonical form", code="non_canonical")
    return value


def decode_trusted(data: bytes) -> Value:
    """Decode bytes this node encoded itself (state values): no canonical re-check."""
    return msgpack.unpackb(data, raw=False, use_list=False, strict_map_key=True)
