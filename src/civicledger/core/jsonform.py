"""JSON forms of ledger values, for the edges: gateway, SDK and CLI output.

Ledger values are integers, booleans, text, bytes, lists and maps. JSON has no
bytes, so an address (20 bytes) is written as its checksummed ``civ1…`` text
and any other bytes as lowercase hex. Reading JSON back needs the argument's
schema, since ``"00ff"`` may be text or bytes: ``from_json`` follows a ``Spec``.
"""

from __future__ import annotations

from typing import Any

from civicledger.core import address as addresses
from civicledger.core import schema
from civicledger.core.errors import UnknownCall


def plain(value: Any) -> Any:
    """A JSON-ready copy of a ledger value."""
    if isinstance(value, bytes):
        return addresses.to_text(value) if len(value) == addresses.ADDRESS_SIZE else value.hex()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _invalid(where: str, message: str) -> UnknownCall:
    return UnknownCall(f"argument '{where}': {message}", code="invalid_argument")


def from_json(spec: schema.Spec, value: Any, where: str) -> Any:
    """The ledger value that JSON ``value`` stands for under ``spec`` (not yet range-checked)."""
    if isinstance(spec, schema.Optional):
        return None if value is None else from_json(spec.inner, value, where)
    if isinstance(spec, schema.Bytes):
        if type(value) is not str:
            raise _invalid(where, "must be a string (civ1… for an address, else hex)")
        if spec.high == addresses.ADDRESS_SIZE == spec.low:
            try:
                return addresses.from_text(value)
            except addresses.AddressError as error:
                raise _invalid(where, str(error)) from None
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise _invalid(where, "must be hex") from None
    if isinstance(spec, schema.ListOf):
        if type(value) is not list:
            raise _invalid(where, "must be a list")
        return [from_json(spec.item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(spec, schema.Struct):
        if type(value) is not dict:
            raise _invalid(where, "must be an object")
        specs = dict(spec.fields)
        return {k: from_json(specs[k], v, f"{where}.{k}") if k in specs else v
                for k, v in value.items()}
    if type(value) is float:
        raise _invalid(where, "must not be a fraction: amounts are integers in minor units")
    return value
