"""Argument schemas for contract methods and queries.

A contract declares its arguments with type hints such as
``amount: Amount`` where ``Amount = Annotated[int, Int(1, MAX_AMOUNT)]``. The
framework reads the ``Annotated`` metadata, which is a ``Spec`` from this
module, and checks every call against it before the handler runs. The same
specs give the gateway its JSON schemas, so a method's signature is the one
source of its API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from civicledger.core import encoding
from civicledger.core.address import ADDRESS_SIZE
from civicledger.core.errors import UnknownCall

ADDRESS_PATTERN = "^civ1[02-9ac-hj-np-z]{38}$"
"""What an address looks like in JSON: its Bech32 text."""

MAX_AMOUNT = 2**63 - 1
"""Largest amount of any currency in minor units; supplies stay below it too."""


def _invalid(where: str, message: str) -> UnknownCall:
    return UnknownCall(f"argument '{where}': {message}", code="invalid_argument")


class Spec:
    """A check for one argument value; ``check`` returns the value or raises."""

    def check(self, value: Any, where: str) -> Any:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Int(Spec):
    low: int
    high: int

    def check(self, value: Any, where: str) -> int:
        if type(value) is not int:
            raise _invalid(where, "must be an integer")
        if not self.low <= value <= self.high:
            raise _invalid(where, f"{value} is outside [{self.low}, {self.high}]")
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


@dataclass(frozen=True, slots=True)
class Bool(Spec):
    def check(self, value: Any, where: str) -> bool:
        if type(value) is not bool:
            raise _invalid(where, "must be true or false")
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True, slots=True)
class Bytes(Spec):
    low: int
    high: int

    def check(self, value: Any, where: str) -> bytes:
        if type(value) is not bytes:
            raise _invalid(where, "must be bytes")
        if not self.low <= len(value) <= self.high:
            size = str(self.low) if self.low == self.high else f"{self.low} to {self.high}"
            raise _invalid(where, f"must be {size} bytes, not {len(value)}")
        return value

    def json_schema(self) -> dict[str, Any]:
        if self.low == self.high == ADDRESS_SIZE:
            return {"type": "string", "format": "civ1-address", "pattern": ADDRESS_PATTERN}
        return {
            "type": "string",
            "format": "hex",
            "pattern": "^([0-9a-f]{2})*$",
            "minLength": 2 * self.low,
            "maxLength": 2 * self.high,
        }


FORBIDDEN_IN_TEXT = "\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069"
"""Characters no text argument may hold (a regex class body, also in the JSON schemas):
control characters (C0, DEL, C1: line breaks and tabs too), and the bidirectional marks,
embeddings, overrides and isolates (they reorder what a reader sees, e.g. a memo that
displays another amount or address). Lone surrogates are refused too: they cannot be
encoded (a JSON schema cannot say so, as some regex engines see an emoji as two)."""
_FORBIDDEN = re.compile(f"[{FORBIDDEN_IN_TEXT}\\ud800-\\udfff]")


@dataclass(frozen=True, slots=True)
class Text(Spec):
    """Text of ``low`` to ``high`` characters, matching ``pattern`` if one is given; never
    holding a character of FORBIDDEN_IN_TEXT (refused with ``forbidden_character``)."""

    high: int
    pattern: str | None = None
    low: int = 0

    def check(self, value: Any, where: str) -> str:
        if type(value) is not str:
            raise _invalid(where, "must be text")
        if not self.low <= len(value) <= self.high:
            raise _invalid(where, f"length {len(value)} is outside [{self.low}, {self.high}]")
        bad = _FORBIDDEN.search(value)
        if bad is not None:
            raise UnknownCall(
                f"argument '{where}': character U+{ord(bad.group()):04X} at {bad.start()} is not "
                "allowed in text (control and bidirectional-override characters are refused)",
                code="forbidden_character",
            )
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            raise _invalid(where, f"'{value}' does not match {self.pattern}")
        return value

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "minLength": self.low, "maxLength": self.high}
        schema["pattern"] = (f"^{self.pattern}$" if self.pattern is not None
                             else f"^[^{FORBIDDEN_IN_TEXT}]*$")
        return schema


@dataclass(frozen=True, slots=True)
class ListOf(Spec):
    item: Spec
    high: int
    low: int = 0
    unique: bool = False

    def check(self, value: Any, where: str) -> tuple[Any, ...]:
        if type(value) not in (tuple, list):
            raise _invalid(where, "must be a list")
        if not self.low <= len(value) <= self.high:
            raise _invalid(where, f"must hold {self.low} to {self.high} items, not {len(value)}")
        items = tuple(self.item.check(v, f"{where}[{i}]") for i, v in enumerate(value))
        if self.unique and len({encoding.encode(i) for i in items}) != len(items):  # maps too
            raise _invalid(where, "items must be unique")
        return items

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": self.item.json_schema(),
            "minItems": self.low,
            "maxItems": self.high,
            "uniqueItems": self.unique,
        }


@dataclass(frozen=True, slots=True)
class Optional(Spec):
    inner: Spec

    def check(self, value: Any, where: str) -> Any:
        return None if value is None else self.inner.check(value, where)

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [self.inner.json_schema(), {"type": "null"}]}


@dataclass(frozen=True, slots=True)
class Struct(Spec):
    """A map with named fields; a field whose spec is ``Optional`` may be left out."""

    fields: tuple[tuple[str, Spec], ...]

    def check(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _invalid(where, "must be a map")
        known = {name for name, _ in self.fields}
        extra = sorted(set(value) - known)
        if extra:
            raise _invalid(where, f"unknown field(s) {', '.join(extra)}")
        out = {}
        for name, spec in self.fields:
            if name not in value and not isinstance(spec, Optional):
                raise _invalid(where, f"missing field '{name}'")
            out[name] = spec.check(value.get(name), f"{where}.{name}")
        return out

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {name: spec.json_schema() for name, spec in self.fields},
            "required": [n for n, s in self.fields if not isinstance(s, Optional)],
            "additionalProperties": False,
        }


@dataclass(frozen=True, slots=True)
class AnyMap(Spec):
    """Any map of canonical values; whoever uses it checks its contents."""

    def check(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _invalid(where, "must be a map")
        return dict(value)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object"}


# The argument types contracts use most.
Amount = Annotated[int, Int(1, MAX_AMOUNT)]
"""A positive amount in minor units."""
Count = Annotated[int, Int(0, 2**32 - 1)]
Timestamp = Annotated[int, Int(0, 2**53)]
"""Milliseconds since the Unix epoch, as block times are."""
Address = Annotated[bytes, Bytes(20, 20)]
PublicKey = Annotated[bytes, Bytes(32, 32)]
Hash = Annotated[bytes, Bytes(32, 32)]
Symbol = Annotated[str, Text(12, r"[A-Z][A-Z0-9]{1,11}", low=2)]
"""A currency code such as ``CIV`` or ``NW``."""
Name = Annotated[str, Text(64, r"[a-z][a-z0-9_.-]{0,63}", low=1)]
"""An identifier: organisation ids, role names, parameter keys."""
Label = Annotated[str, Text(120, low=1)]
"""A short display text (may be Korean); never personal data."""
Memo = Annotated[str, Text(140)]
