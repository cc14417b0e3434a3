"""Blocks, their headers, receipts and events, and the environment contracts see.

A header commits to everything a peer derives from the block:

* ``tx_root``: Merkle root over the envelopes, in block order;
* ``receipt_root``: Merkle root over the encoded receipts, in the same order;
* ``state_root``: the state commitment after the block (see ``core.state``).

``hash`` is ``digest("civicledger/block", encoded header)`` and the next header
names it as ``prev_hash``, so the headers form a chain a light client can check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from civicledger.core import encoding
from civicledger.core.crypto import digest
from civicledger.core.errors import EncodingError

BLOCK_VERSION = 1
MAX_BLOCK_BYTES = 64 * 1024 * 1024
"""Largest encoded block body (its envelopes) or receipt a store reads back."""
ZERO_HASH = bytes(32)
OK = "ok"
"""The status of a receipt whose transaction succeeded; otherwise the error code."""


@dataclass(frozen=True, slots=True)
class BlockEnv:
    """All that contracts learn of the world outside the transaction."""

    chain_id: str
    height: int
    time_ms: int
    """Block time chosen by ordering, in Unix milliseconds; never the local clock."""
    proposer: str


@dataclass(frozen=True, slots=True)
class Event:
    """Something a contract announces; ``topics`` are indexed (e.g. the accounts concerned)."""

    contract: str
    name: str
    data: Mapping[str, Any]
    topics: tuple[bytes, ...] = ()

    def to_value(self) -> list[Any]:
        return [self.contract, self.name, dict(self.data), list(self.topics)]

    @classmethod
    def from_value(cls, value: Any) -> Event:
        contract, name, data, topics = value
        return cls(contract, name, data, tuple(topics))


@dataclass(frozen=True, slots=True)
class Receipt:
    """The outcome of one transaction; a failed one changed no state."""

    tx_id: bytes
    status: str
    """``ok`` or the error code of the rejection."""
    message: str = ""
    events: tuple[Event, ...] = ()
    result: Any = None
    encoded: bytes = field(default=b"", init=False, compare=False, repr=False)
    """The canonical bytes (derived on first ``encode``, then kept: the receipt root and
    the store both need them)."""

    @property
    def ok(self) -> bool:
        return self.status == OK

    def to_value(self) -> list[Any]:
        return [
            self.tx_id,
            self.status,
            self.message,
            [event.to_value() for event in self.events],
            self.result,
        ]

    @classmethod
    def from_value(cls, value: Any) -> Receipt:
        tx_id, status, message, events, result = value
        return cls(tx_id, status, message, tuple(Event.from_value(e) for e in events), result)

    def encode(self) -> bytes:
        """``encoding.encode(self.to_value())``, computed once."""
        if not self.encoded:
            object.__setattr__(self, "encoded", self._encode())
        return self.encoded

    def _encode(self) -> bytes:
        # The fixed fields are checked by type here; only event data, topics and the
        # result take the general walk (the receipt is most of a block's encoding work).
        fixed = [self.tx_id, self.status, self.message]
        for event in self.events:
            fixed += (event.contract, event.name)
        if type(fixed[0]) is not bytes or any(type(text) is not str for text in fixed[1:]):
            return encoding.encode(self.to_value())
        canonical = encoding.canonical
        events = [
            [e.contract, e.name, canonical(e.data if type(e.data) is dict else dict(e.data), 3),
             canonical(e.topics, 3)]
            for e in self.events
        ]
        return encoding.pack([self.tx_id, self.status, self.message, events, canonical(self.result, 1)])


@dataclass(frozen=True, slots=True)
class BlockHeader:
    chain_id: str
    height: int
    prev_hash: bytes
    time_ms: int
    proposer: str
    tx_count: int
    tx_root: bytes
    receipt_root: bytes
    state_root: bytes

    def to_value(self) -> list[Any]:
        return [
            BLOCK_VERSION,
            self.chain_id,
            self.height,
            self.prev_hash,
            self.time_ms,
            self.proposer,
            self.tx_count,
            self.tx_root,
            self.receipt_root,
            self.state_root,
        ]

    @classmethod
    def from_value(cls, value: Any) -> BlockHeader:
        if type(value) is not tuple or len(value) != 10 or value[0] != BLOCK_VERSION:
            raise EncodingError("not a version-1 block header")
        return cls(*value[1:])

    def encode(self) -> bytes:
        return encoding.encode(self.to_value())

    @property
    def hash(self) -> bytes:
        return digest(b"civicledger/block", self.encode())

    @property
    def env(self) -> BlockEnv:
        return BlockEnv(self.chain_id, self.height, self.time_ms, self.proposer)
