"""Canonical encoding: one byte string per value, and nothing else decodes."""

from __future__ import annotations

from enum import Enum
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicledger.core.encoding import MAX_DEPTH, MAX_INT, MIN_INT, decode, encode, pack_pair
from civicledger.core.errors import EncodingError

LIMIT = 1 << 20

scalars = (
    st.none()
    | st.booleans()
    | st.integers(MIN_INT, MAX_INT)
    | st.binary(max_size=40)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5)
    | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=25,
)


def depth(value: Any) -> int:
    if isinstance(value, list | tuple):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


def as_decoded(value: Any) -> Any:
    """What decode returns for ``value``: arrays as tuples."""
    if isinstance(value, list | tuple):
        return tuple(as_decoded(v) for v in value)
    if isinstance(value, dict):
        return {k: as_decoded(v) for k, v in value.items()}
    return value


def tagged(value: Any) -> Any:
    """A form whose equality also compares types (so True != 1 and b'' != '')."""
    if isinstance(value, tuple | list):
        return (type(value).__name__, tuple(tagged(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, tagged(v)) for k, v in value.items())))
    return (type(value).__name__, value)


def nested(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def raw(value: Any) -> bytes:
    """Plain msgpack, not canonicalised (keys in insertion order)."""
    return msgpack.packb(value, use_bin_type=True)


# -- round trips -----------------------------------------------------------------


@settings(max_examples=300)
@given(values.filter(lambda v: depth(v) <= MAX_DEPTH))
def test_decode_inverts_encode(value: Any) -> None:
    data = encode(value)
    decoded = decode(data, max_size=LIMIT)
    assert tagged(decoded) == tagged(as_decoded(value))
    assert encode(decoded) == data


@settings(max_examples=100)
@given(st.dictionaries(st.text(max_size=8), st.integers(0, 9), min_size=2, max_size=8))
def test_map_bytes_do_not_depend_on_insertion_order(mapping: dict[str, int]) -> None:
    reversed_order = dict(reversed(list(mapping.items())))
    assert encode(mapping) == encode(reversed_order)


def test_list_and_tuple_encode_alike_and_decode_as_tuple() -> None:
    assert encode([1, b"x", "y"]) == encode((1, b"x", "y"))
    assert decode(encode([1, [2]]), max_size=LIMIT) == (1, (2,))


def test_enum_encodes_as_its_value() -> None:
    class Colour(Enum):
        RED = "red"

    assert encode(Colour.RED) == encode("red")


def test_integer_bounds_are_inclusive() -> None:
    for edge in (MIN_INT, MAX_INT, 0, -1):
        assert decode(encode(edge), max_size=LIMIT) == edge


def test_deepest_allowed_nesting_round_trips() -> None:
    value = nested(MAX_DEPTH)
    assert decode(encode(value), max_size=LIMIT) == as_decoded(value)


# -- values outside the subset ---------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        0.0,
        MAX_INT + 1,
        MIN_INT - 1,
        {1: "a"},
        {b"k": 1},
        {"ok": {None: 1}},
        {1, 2},
        bytearray(b"x"),
        object(),
        nested(MAX_DEPTH + 1),
        [[1.0]],
    ],
    ids=repr,
)
def test_encode_refuses_values_outside_the_subset(value: Any) -> None:
    with pytest.raises(EncodingError):
        encode(value)


@pytest.mark.parametrize(
    "data",
    [
        raw(1.5),
        raw({1: "a"}),
        raw({b"k": 1}),
        raw(nested(MAX_DEPTH + 1)),
        b"\xd4\x01\x00",  # fixext 1: extension types are not allowed
        b"\xd6\xff\x00\x00\x00\x00",  # the msgpack timestamp extension
    ],
    ids=lambda d: d.hex(),
)
def test_decode_refuses_values_outside_the_subset(data: bytes) -> None:
    with pytest.raises(EncodingError) as caught:
        decode(data, max_size=LIMIT)
    assert caught.value.code == "malformed"


# -- sizes -----------------------------------------------------------------------


def test_oversized_input_is_refused_before_decoding() -> None:
    data = encode(b"x" * 100)
    assert decode(data, max_size=len(data)) == b"x" * 100
    with pytest.raises(EncodingError) as caught:
        decode(data, max_size=len(data) - 1)
    assert caught.value.code == "oversized"
    with pytest.raises(EncodingError) as caught:
        decode(b"\xc1" * 10, max_size=9)  # the size is checked before the content
    assert caught.value.code == "oversized"


def test_decode_takes_only_bytes() -> None:
    with pytest.raises(EncodingError):
        decode(bytearray(encode(1)), max_size=LIMIT)  # type: ignore[arg-type]


# -- canonical form --------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        raw({"b": 1, "a": 2}),  # map keys out of order
        b"\x82\xa1a\x01\xa1a\x02",  # duplicate key "a"
        b"\xcc\x05",  # 5 as uint8 rather than fixint
        b"\xcd\x00\x05",  # 5 as uint16
        b"\xd0\x05",  # 5 as int8
        b"\xd1\xff\xff",  # -1 as int16
        b"\xd9\x01a",  # "a" as str8 rather than fixstr
        b"\xc5\x00\x01x",  # b"x" as bin16 rather than bin8
        b"\xdc\x00\x01\x01",  # [1] as array16 rather than fixarray
        b"\xde\x00\x01\xa1a\x01",  # {"a": 1} as map16 rather than fixmap
    ],
    ids=lambda d: d.hex(),
)
def test_non_canonical_bytes_are_refused(data: bytes) -> None:
    # Each is valid msgpack for a value in the subset, in a form encode never writes.
    msgpack.unpackb(data, raw=False, strict_map_key=True)
    with pytest.raises(EncodingError) as caught:
        decode(data, max_size=LIMIT)
    assert caught.value.code == "non_canonical"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        encode(1) + b"\x00",  # trailing byte
        encode([1, 2]) + encode(3),  # two values
        b"\xc1",  # never-used type byte
        b"\x92\x01",  # array of two with one item
        b"\xa2a",  # truncated string
        b"\xa1\xff",  # invalid UTF-8
        b"\xa2\xed\xa0",  # a UTF-8 encoded surrogate
        b"\x81\xa1a",  # map without its value
    ],
    ids=lambda d: d.hex(),
)
def test_malformed_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(EncodingError) as caught:
        decode(data, max_size=LIMIT)
    assert caught.value.code == "malformed"


@settings(max_examples=500)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_encoding_error(data: bytes) -> None:
    try:
        value = decode(data, max_size=LIMIT)
    except EncodingError:
        return
    assert encode(value) == data  # whatever decodes is canonical


@settings(max_examples=300)
@given(values.filter(lambda v: depth(v) <= MAX_DEPTH), st.data())
def test_one_changed_byte_never_decodes_to_the_same_value(value: Any, data: st.DataObject) -> None:
    encoded = encode(value)
    index = data.draw(st.integers(0, len(encoded) - 1))
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != encoded[index]))
    mutated = encoded[:index] + bytes([byte]) + encoded[index + 1 :]
    try:
        decoded = decode(mutated, max_size=LIMIT)
    except EncodingError:
        return
    assert tagged(decoded) != tagged(as_decoded(value))


# -- the fast canonicity check agrees with decode-and-re-encode ------------------


def reference_encode(value: Any, level: int = 0) -> bytes:
    """The plain definition: sort every map, refuse what is outside the subset, pack."""

    def canon(item: Any, level: int) -> Any:
        if item is None or type(item) in (bool, str, bytes):
            return item
        if type(item) is int:
            if not MIN_INT <= item <= MAX_INT:
                raise EncodingError("int out of range")
            return item
        if level >= MAX_DEPTH:
            raise EncodingError("too deep")
        if type(item) in (list, tuple):
            return [canon(i, level + 1) for i in item]
        if type(item) is dict:
            if any(type(k) is not str for k in item):
                raise EncodingError("key")
            return {k: canon(item[k], level + 1) for k in sorted(item)}
        raise EncodingError("type")

    return msgpack.packb(canon(value, level), use_bin_type=True)


def reference_verdict(data: bytes) -> str:
    """'ok', or the code the original decode (decode, re-encode, compare) gave."""
    try:
        value = msgpack.unpackb(data, raw=False, use_list=False, strict_map_key=True)
    except Exception:
        return "malformed"
    try:
        again = reference_encode(value)
    except EncodingError:
        return "malformed"
    return "ok" if again == data else "non_canonical"


def verdict(data: bytes) -> str:
    try:
        decode(data, max_size=LIMIT)
    except EncodingError as error:
        return error.code
    return "ok"


loose_scalars = scalars | st.floats(allow_nan=False) | st.binary(max_size=3).map(
    lambda b: msgpack.ExtType(1, b)
)
loose_values = st.recursive(
    loose_scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=3) | st.binary(max_size=2), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500)
@given(loose_values, st.data())
def test_decode_agrees_with_re_encoding(value: Any, data: st.DataObject) -> None:
    """Whatever plain msgpack writes — unsorted maps, floats, extensions, bytes keys, deep
    nesting, or a byte changed — decode accepts exactly when re-encoding gives the same bytes."""
    encoded = raw(value)
    if data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(encoded) - 1))
        encoded = encoded[:index] + bytes([data.draw(st.integers(0, 255))]) + encoded[index + 1 :]
    assert verdict(encoded) == reference_verdict(encoded)


@pytest.mark.parametrize("levels", [MAX_DEPTH, MAX_DEPTH + 1])
def test_decode_depth_limit_agrees_with_re_encoding(levels: int) -> None:
    for shape in (nested(levels), {"a": nested(levels - 1)}):
        assert verdict(raw(shape)) == reference_verdict(raw(shape))


def test_encode_leaves_the_callers_value_alone() -> None:
    value = {"b": [1, {"d": 2, "c": 3}], "a": (b"x",)}
    encode(value)
    assert list(value) == ["b", "a"] and list(value["b"][1]) == ["d", "c"]


@settings(max_examples=500)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_get_the_verdict_of_re_encoding(data: bytes) -> None:
    assert verdict(data) == reference_verdict(data)


@settings(max_examples=100)
@given(st.binary(max_size=300), st.binary(max_size=70000))
def test_pack_pair_is_the_encoding_of_the_pair(first: bytes, second: bytes) -> None:
    assert pack_pair(first, second) == encode([first, second])
