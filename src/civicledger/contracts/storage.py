"""Typed state containers a contract declares at the top of its class.

    class Token(Contract):
        currencies = Map("currency", Currency)     # symbol -> Currency record
        balances = Map("balance")                   # (symbol, address) -> int

Inside a method, ``self.balances[symbol, account]`` reads, assignment writes,
``del`` deletes and ``self.balances.scan(symbol)`` walks entries in key order.

Key parts are str, int (0 ≤ i < 2**64) or bytes, each encoded with a one-byte
tag so that keys are self-delimiting and sort the way their parts do
(str by code point, int numerically, bytes of equal length bytewise).
Values are canonical-encoded; a ``Record`` (a frozen dataclass) encodes as the
array of its fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from civicledger.core import encoding
from civicledger.core.errors import NotFound
from civicledger.core.state import prefix_end

if TYPE_CHECKING:
    from civicledger.contracts.framework import Contract

MAX_VALUE_SIZE = 64 * 1024

KeyPart = str | int | bytes
V = TypeVar("V")


def encode_key(parts: tuple[KeyPart, ...]) -> bytes:
    if len(parts) == 2 and type(parts[0]) is str and type(parts[1]) is bytes:
        first, second = parts  # the common (symbol, address) shape, without the loop
        if "\x00" not in first and len(second) <= 255:
            return b"s" + first.encode() + b"\x00b" + bytes([len(second)]) + second
    out = bytearray()
    for part in parts:
        kind = type(part)
        if kind is str:
            if "\x00" in part:
                raise ValueError("a key text may not contain NUL")
            out += b"s" + part.encode() + b"\x00"
        elif kind is int:
            out += b"i" + part.to_bytes(8, "big")
        elif kind is bytes:
            if len(part) > 255:
                raise ValueError("a key's bytes part is at most 255 bytes")
            out += b"b" + bytes([len(part)]) + part
        else:
            raise TypeError(f"a key part is str, int or bytes, not {kind.__name__}")
    return bytes(out)


def decode_key(data: bytes) -> tuple[KeyPart, ...]:
    parts: list[KeyPart] = []
    i = 0
    while i < len(data):
        tag = data[i : i + 1]
        if tag == b"s":
            end = data.index(b"\x00", i + 1)
            parts.append(data[i + 1 : end].decode())
            i = end + 1
        elif tag == b"i":
            parts.append(int.from_bytes(data[i + 1 : i + 9], "big"))
            i += 9
        elif tag == b"b":
            size = data[i + 1]
            parts.append(data[i + 2 : i + 2 + size])
            i += 2 + size
        else:
            raise ValueError(f"bad key tag {tag!r}")
    return tuple(parts)


class Record:
    """Mixin for frozen dataclasses stored in state: encoded as the array of fields."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def to_value(self) -> list[Any]:
        return [getattr(self, f.name) for f in dataclasses.fields(self)]  # type: ignore[arg-type]

    @classmethod
    def from_value(cls, value: Any) -> Any:
        return cls(*value)

    def replace(self, **changes: Any) -> Any:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def _as_parts(key: Any) -> tuple[KeyPart, ...]:
    return key if type(key) is tuple else (key,)


class Map(Generic[V]):
    """A named map from key parts to values (plain canonical values or a Record type)."""

    def __init__(self, prefix: str, record: type | None = None) -> None:
        self.prefix = prefix
        self.record = record

    def __set_name__(self, owner: type, name: str) -> None:
        self.attribute = name
        self.owner_name: str | None = getattr(owner, "name", None)
        self.base = encode_key((self.owner_name, self.prefix)) if self.owner_name else b""
        self.keys: dict[Any, bytes] = {}
        """Full state keys of recent (text) and (text, bytes) keys, which most calls use."""

    def __get__(self, contract: Contract | None, owner: type) -> Any:
        if contract is None:
            return self
        bound = BoundMap(contract, self)
        # A contract instance serves one call with one Context: keep the bound map on it, so
        # later uses in the same call find it as a plain attribute.
        instance = getattr(contract, "__dict__", None)
        if instance is not None:
            instance[self.attribute] = bound
        return bound


KEY_CACHE_LIMIT = 100_000


class BoundMap:
    __slots__ = ("_ctx", "_spec", "_base", "_keys")

    def __init__(self, contract: Contract, spec: Map[Any]) -> None:
        self._ctx = contract.ctx
        self._spec = spec
        owner = getattr(spec, "owner_name", None)
        if owner == contract.name:
            self._base, self._keys = spec.base, spec.keys
        else:
            self._base, self._keys = encode_key((contract.name, spec.prefix)), None

    def _key(self, key: Any) -> bytes:
        keys = self._keys
        kind = type(key)
        # Only keys whose parts have exactly these types are cached: 1 == True == 1.0 as
        # dict keys, yet only 1 is a valid key part.
        if keys is not None and (
            kind is str or (kind is tuple and len(key) == 2 and type(key[0]) is str
                            and type(key[1]) is bytes)
        ):
            full = keys.get(key)
            if full is None:
                full = self._base + encode_key(_as_parts(key))
                if len(keys) >= KEY_CACHE_LIMIT:
                    keys.clear()
                keys[key] = full
            return full
        return self._base + encode_key(_as_parts(key))

    def _load(self, raw: bytes) -> Any:
        value = encoding.decode_trusted(raw)
        record = self._spec.record
        return value if record is None else record.from_value(value)

    def _dump(self, value: Any) -> bytes:
        if self._spec.record is not None:
            value = value.to_value()
        data = encoding.encode(value)
        if len(data) > MAX_VALUE_SIZE:
            raise ValueError(f"a state value is at most {MAX_VALUE_SIZE} bytes")
        return data

    def get(self, key: Any, default: Any = None) -> Any:
        raw = self._ctx.state.get(self._key(key))
        return default if raw is None else self._load(raw)

    def __getitem__(self, key: Any) -> Any:
        raw = self._ctx.state.get(self._key(key))
        if raw is None:
            raise KeyError(key)
        return self._load(raw)

    def require(self, key: Any, message: str, *, code: str | None = None) -> Any:
        """The value at ``key``; a deterministic ``NotFound`` rejection with ``message`` and
        ``code`` when there is none (what a caller asking about a missing thing gets)."""
        raw = self._ctx.state.get(self._key(key))
        if raw is None:
            raise NotFound(message, code=code)
        return self._load(raw)

    def __contains__(self, key: Any) -> bool:
        return self._ctx.state.get(self._key(key)) is not None

    def __setitem__(self, key: Any, value: Any) -> None:
        self._ctx.writable_state().put(self._key(key), self._dump(value))

    def __delitem__(self, key: Any) -> None:
        self._ctx.writable_state().delete(self._key(key))

    def scan(
        self, *prefix: KeyPart, limit: int | None = None, after: tuple[KeyPart, ...] | None = None
    ) -> Iterator[tuple[tuple[KeyPart, ...], Any]]:
        """Entries whose key starts with ``prefix``, in key order, as (key parts, value).

        ``after``: further key parts; start past the entry ``prefix + after`` and any key that
        extends it (a page's last key, so the next page is an index lookup, not a walk).
        ``limit`` and ``after`` both reach the store's query: a page reads its entries only,
        however many the range holds.
        """
        if limit is not None and limit <= 0:
            return
        start = self._base + encode_key(prefix)
        end = prefix_end(start)
        if after:
            start = prefix_end(self._base + encode_key((*prefix, *after)))
        base = len(self._base)
        for key, raw in self._ctx.state.scan(start, end, limit):
            yield decode_key(key[base:]), self._load(raw)


class Value(Generic[V]):
    """A single named cell."""

    def __init__(self, name: str, default: Any = None) -> None:
        self.map: Map[Any] = Map(name)
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.attribute = name
        self.map.__set_name__(owner, name)

    def __get__(self, contract: Contract | None, owner: type) -> Any:
        if contract is None:
            return self
        return BoundMap(contract, self.map).get((), self.default)

    def __set__(self, contract: Contract, value: Any) -> None:
        BoundMap(contract, self.map)[()] = value
