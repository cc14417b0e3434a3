"""Argument specs: what each accepts and refuses, and the JSON schema it publishes."""

from __future__ import annotations

import re
import typing
from typing import Any

import pytest

from civicledger.core.address import to_text
from civicledger.core.errors import UnknownCall
from civicledger.core.schema import (
    FORBIDDEN_IN_TEXT,
    MAX_AMOUNT,
    Address,
    Amount,
    AnyMap,
    Bool,
    Bytes,
    Int,
    Label,
    ListOf,
    Name,
    Optional,
    Spec,
    Struct,
    Symbol,
    Text,
)


def spec_of(alias: Any) -> Spec:
    (spec,) = typing.get_args(alias)[1:]
    return spec


def refuses(spec: Spec, value: Any) -> UnknownCall:
    with pytest.raises(UnknownCall) as caught:
        spec.check(value, "arg")
    assert caught.value.code == "invalid_argument"
    assert "'arg" in caught.value.message
    return caught.value


CASES: list[tuple[str, Spec, list[Any], list[Any]]] = [
    ("int", Int(-5, 10), [-5, 0, 10], [-6, 11, True, False, 1.0, "1", None, b"\x01"]),
    ("bool", Bool(), [True, False], [0, 1, None, "true", b""]),
    ("bytes", Bytes(2, 4), [b"ab", b"abcd"], [b"a", b"abcde", "ab", bytearray(b"ab"), [1, 2], None]),
    ("text", Text(3, low=1), ["a", "abc", "한국어"], ["", "abcd", b"a", 1, None]),
    (
        "pattern",
        Text(12, r"[A-Z][A-Z0-9]{1,11}", low=2),
        ["CIV", "NW"],
        ["civ", "C", "CIV-1", "CIV "],
    ),
    ("list", ListOf(Int(0, 9), 3), [[], [1, 2, 3], (4,)], [[1, 2, 3, 4], [10], "abc", {0: 1}, None]),
    ("unique", ListOf(Int(0, 9), 3, unique=True), [[1, 2]], [[1, 1]]),
    ("low", ListOf(Bool(), 3, low=1), [[True]], [[]]),
    ("optional", Optional(Int(0, 1)), [None, 0, 1], [2, True, "x"]),
    ("anymap", AnyMap(), [{}, {"a": [1]}], [[], None, "a"]),
]


@pytest.mark.parametrize(
    ("spec", "accepted", "refused"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_accepts_and_refuses(spec: Spec, accepted: list[Any], refused: list[Any]) -> None:
    for value in accepted:
        checked = spec.check(value, "arg")
        if isinstance(spec, ListOf):
            assert checked == tuple(value)
        else:
            assert checked == value
            assert type(checked) is type(value)
    for value in refused:
        refuses(spec, value)


def test_list_items_are_checked_with_their_position() -> None:
    error = refuses(ListOf(Int(0, 9), 5), [1, 2, 30])
    assert "arg[2]" in error.message


def test_unique_list_of_maps_is_checked_not_crashed() -> None:
    spec = ListOf(Struct((("a", Int(0, 9)),)), 4, unique=True)
    assert spec.check([{"a": 1}, {"a": 2}], "arg") == ({"a": 1}, {"a": 2})
    refuses(spec, [{"a": 1}, {"a": 1}])


def test_struct_fields() -> None:
    spec = Struct((("n", Int(0, 9)), ("note", Optional(Text(5)))))
    assert spec.check({"n": 1}, "arg") == {"n": 1, "note": None}
    assert spec.check({"n": 1, "note": "hi"}, "arg") == {"n": 1, "note": "hi"}
    assert "missing field 'n'" in refuses(spec, {"note": "x"}).message
    assert "unknown field(s) x" in refuses(spec, {"n": 1, "x": 2}).message
    assert "arg.n" in refuses(spec, {"n": True}).message
    refuses(spec, [("n", 1)])
    refuses(spec, None)


def test_common_aliases() -> None:
    amount = spec_of(Amount)
    assert amount.check(1, "a") == 1 and amount.check(MAX_AMOUNT, "a") == MAX_AMOUNT
    for bad in (0, -1, MAX_AMOUNT + 1, True):
        refuses(amount, bad)
    spec_of(Address).check(bytes(20), "a")
    for bad in (bytes(19), bytes(21), "civ1..."):
        refuses(spec_of(Address), bad)
    assert spec_of(Symbol).check("NW", "s") == "NW"
    for bad in ("N", "nw", "A" * 13, "1AB"):
        refuses(spec_of(Symbol), bad)
    assert spec_of(Name).check("seoul.city-hall_1", "n") == "seoul.city-hall_1"
    for bad in ("", "Seoul", "1abc", "a" * 65, "a b"):
        refuses(spec_of(Name), bad)
    assert spec_of(Label).check("서울특별시", "l") == "서울특별시"
    refuses(spec_of(Label), "")


# -- JSON schema shapes ----------------------------------------------------------


def test_json_schemas() -> None:
    assert Int(1, 5).json_schema() == {"type": "integer", "minimum": 1, "maximum": 5}
    assert Bool().json_schema() == {"type": "boolean"}
    assert Bytes(32, 32).json_schema() == {
        "type": "string",
        "format": "hex",
        "pattern": "^([0-9a-f]{2})*$",
        "minLength": 64,
        "maxLength": 64,
    }
    address = Bytes(20, 20).json_schema()
    assert address["format"] == "civ1-address"
    assert re.fullmatch(address["pattern"][1:-1], to_text(bytes(range(20))))
    assert Text(12, r"[A-Z]+", low=2).json_schema() == {
        "type": "string",
        "minLength": 2,
        "maxLength": 12,
        "pattern": "^[A-Z]+$",
    }
    assert Text(5).json_schema()["pattern"] == f"^[^{FORBIDDEN_IN_TEXT}]*$"
    assert ListOf(Bool(), 3, low=1, unique=True).json_schema() == {
        "type": "array",
        "items": {"type": "boolean"},
        "minItems": 1,
        "maxItems": 3,
        "uniqueItems": True,
    }
    assert Optional(Bool()).json_schema() == {"anyOf": [{"type": "boolean"}, {"type": "null"}]}
    assert AnyMap().json_schema() == {"type": "object"}
    assert Struct((("n", Int(0, 9)), ("note", Optional(Bool())))).json_schema() == {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 0, "maximum": 9},
            "note": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
        },
        "required": ["n"],
        "additionalProperties": False,
    }


def test_base_spec_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        Spec().check(1, "x")
    with pytest.raises(NotImplementedError):
        Spec().json_schema()


@pytest.mark.parametrize("bad", ["\x00", "\n", "\t", "\x7f", "\x85", "\u202e",
                                 "\u202a", "\u2066", "\u2069", "\u200f", "\u061c", "\ud800"])
def test_text_refuses_control_and_bidi_override_characters(bad: str) -> None:
    from civicledger.core.schema import Memo
    spec = Memo.__metadata__[0]
    with pytest.raises(UnknownCall) as caught:
        spec.check(f"커피 2잔 {bad} 4,500원", "memo")
    assert caught.value.code == "forbidden_character"
    assert f"U+{ord(bad):04X}" in caught.value.message and "'memo'" in caught.value.message
    if bad != "\ud800":  # a lone surrogate: refused by the check, not the schema's pattern
        assert re.fullmatch(spec.json_schema()["pattern"], f"x{bad}") is None


def test_text_keeps_korean_emoji_and_joiners() -> None:
    from civicledger.core.schema import Memo
    spec = Memo.__metadata__[0]
    for good in ("아메리카노 두 잔", "👩‍👧 family", "café — 4,500원", ""):
        assert spec.check(good, "memo") == good
        assert re.fullmatch(spec.json_schema()["pattern"], good)
