"""Canonical encoding: one byte string per value.

CivicLedger encodes every signed or hashed value in a strict subset of
MessagePack:

* ``None``, ``bool``, integers in [-2**63, 2**64 - 1], ``bytes``, ``str`` (UTF-8),
  arrays (``list``/``tuple``; decoded as ``tuple``) and maps with ``str`` keys;
* no floats, no extension types;
* every item in its shortest form (what ``msgpack.packb`` writes) and map keys
  in ascending code-point order, without duplicates.

``decode`` accepts only canonical bytes: it decodes, refuses any value outside
the subset or any map whose keys are out of order, and refuses input that
msgpack does not re-pack to the very same bytes (a longer form of an int,
string, array or map; a duplicate key). So a transaction has exactly one byte
string, and its hash is a sound identifier.
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


_PLAIN = frozenset({str, bytes, bool, type(None)})
"""Scalar types msgpack already writes canonically (``int`` needs a range check)."""


def _canon(value: Value, depth: int) -> Value:
    """``value`` in a form msgpack packs canonically: the value itself when it already is
    (the common case, so nothing is copied), else a copy with maps sorted and enums replaced."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is int:
        if not MIN_INT <= value <= MAX_INT:
            raise EncodingError(f"integer {value} is outside [-2**63, 2**64-1]")
        return value
    if depth >= MAX_DEPTH:
        raise EncodingError(f"value nests deeper than {MAX_DEPTH} levels")
    if kind is tuple or kind is list:
        out = None
        for i, item in enumerate(value):
            kind = type(item)
            if kind in _PLAIN or (kind is int and MIN_INT <= item <= MAX_INT):
                fixed = item
            else:
                fixed = _canon(item, depth + 1)
            if out is not None:
                out.append(fixed)
            elif fixed is not item:
                out = list(value[:i])
                out.append(fixed)
        return value if out is None else out
    if kind is dict:
        keys = list(value)
        for key in keys:
            if type(key) is not str:
                raise EncodingError(f"map key {key!r} is not a string")
        ordered = sorted(keys)
        for item in value.values():
            kind = type(item)
            if kind in _PLAIN or (kind is int and MIN_INT <= item <= MAX_INT):
                continue
            items = [_canon(value[key], depth + 1) for key in ordered]  # something to fix inside
            return dict(zip(ordered, items, strict=True))
        return value if ordered == keys else {key: value[key] for key in ordered}
    if isinstance(value, Enum):
        return _canon(value.value, depth)
    if kind is float:
        raise EncodingError("floats are not allowed; use integer minor units")
    raise EncodingError(f"type {kind.__name__} cannot be encoded")


def _in_subset(value: Value, depth: int) -> bool:
    """Refuse what msgpack decodes but the subset excludes (floats, extensions, bytes keys,
    deep nesting); return whether every map's keys are in ascending order.

    Where both hold, the input is canonical exactly when msgpack re-packs ``value`` to the
    same bytes: msgpack writes the shortest form of every item, and a map in the order its
    keys were read.
    """
    kind = type(value)
    if kind in _PLAIN or kind is int:  # msgpack decodes only integers inside the subset's range
        return True
    if depth >= MAX_DEPTH and (kind is tuple or kind is dict):
        raise EncodingError(f"value nests deeper than {MAX_DEPTH} levels")
    ordered = True
    if kind is tuple:
        for item in value:
            kind = type(item)
            if kind not in _PLAIN and kind is not int:
                ordered = _in_subset(item, depth + 1) and ordered
        return ordered
    if kind is dict:
        keys = list(value)
        for key in keys:
            if type(key) is not str:
                raise EncodingError(f"map key {key!r} is not a string")
        for item in value.values():
            kind = type(item)
            if kind not in _PLAIN and kind is not int:
                ordered = _in_subset(item, depth + 1) and ordered
        return ordered and keys == sorted(keys)
    if kind is float:
        raise EncodingError("floats are not allowed; use integer minor units")
    raise EncodingError(f"type {kind.__name__} is not in the canonical subset")


def encode(value: Value) -> bytes:
    """The canonical bytes of ``value``; raises EncodingError for values outside the subset."""
    kind = type(value)
    if kind in _PLAIN or (kind is int and MIN_INT <= value <= MAX_INT):
        return msgpack.packb(value, use_bin_type=True)
    return msgpack.packb(_canon(value, 0), use_bin_type=True)


def canonical(value: Value, depth: int) -> Value:
    """``value`` prepared for ``pack``, where it sits ``depth`` levels inside the packed value.

    For encoders of fixed-shape records (receipts) that check the fixed parts by type
    themselves and give only the open parts to this walk; ``encode`` is the general way.
    """
    return _canon(value, depth)


def pack(prepared: Value) -> bytes:
    """The canonical bytes of a value made of ``canonical`` parts and checked scalars."""
    return msgpack.packb(prepared, use_bin_type=True)


def pack_pair(first: bytes, second: bytes) -> bytes:
    """``encode([first, second])`` for two byte strings, without the general walk."""
    if type(first) is not bytes or type(second) is not bytes:
        raise EncodingError("pack_pair takes two byte strings")
    return msgpack.packb((first, second), use_bin_type=True)


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
    if not _in_subset(value, 0) or msgpack.packb(value, use_bin_type=True) != data:
        raise EncodingError("bytes are not in canonical form", code="non_canonical")
    return value


def decode_trusted(data: bytes) -> Value:
    """Decode bytes this node encoded itself (state values): no canonical re-check."""
    return msgpack.unpackb(data, raw=False, use_list=False, strict_map_key=True)
