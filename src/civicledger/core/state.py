"""State: an ordered key-value map, overlays for pending writes, and the state root.

Keys and values are bytes. A contract sees only keys under its own namespace.

State root — the choice and its cost
-------------------------------------
After each block, ``state_root = digest("civicledger/state-root", prev_root ||
writes_root)``, where ``writes_root`` is the Merkle root over the block's write
set: every key the block changed, in key order, with its new value (or a
deletion marker). The genesis block chains from 32 zero bytes.

* Cost: one leaf hash per distinct key written in the block plus the Merkle
  nodes over them — it grows with the block, never with the total state or
  the chain (DESIGN.md's scale rule). Nothing is read back from the store.
* What it commits to: the state after height *h* is a function of the genesis
  and every write set up to *h*, and the root commits to exactly those. Two
  peers whose states differ have different write sets at some first height,
  and their roots differ from that block on — divergence is detected at the
  first divergent block, as Hyperledger Fabric's peers do with their chained
  commit hash.
* What it does not give: a proof of one key's current value against a header
  (a Merkle-Patricia or Jellyfish tree does that at ~log₁₆(n) node writes per
  changed key). The write-set tree does prove "key k was set to v at height
  h". State proofs and snapshot roots are roadmap step 5 and can be added
  beside this root without changing it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from civicledger.core import encoding, merkle
from civicledger.core.crypto import digest

Writes = Mapping[bytes, bytes | None]
"""A write set: key → new value, or None where the key was deleted."""


class StateReader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

    def scan(self, start: bytes, end: bytes, limit: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        """Entries with ``start <= key < end``, in ascending key order; the first ``limit``
        of them when it is given. A store puts the limit in its query, so a page costs its
        page, not its range."""
        ...


def prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key that starts with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return b"\xff" * (len(prefix) + 64)
    return stripped[:-1] + bytes([stripped[-1] + 1])


class MemoryState:
    """A plain in-memory state for contract unit tests and small replays."""

    def __init__(self, entries: Mapping[bytes, bytes] | None = None) -> None:
        self.entries: dict[bytes, bytes] = dict(entries or {})

    def get(self, key: bytes) -> bytes | None:
        return self.entries.get(key)

    def scan(self, start: bytes, end: bytes, limit: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        found = sorted(k for k in self.entries if start <= k < end)
        for key in found if limit is None else found[: max(limit, 0)]:
            yield key, self.entries[key]

    def apply(self, writes: Writes) -> None:
        for key, value in writes.items():
            if value is None:
                self.entries.pop(key, None)
            else:
                self.entries[key] = value


class Overlay:
    """Pending writes over a base reader; ``child()`` nests, ``merge_into_parent`` commits."""

    __slots__ = ("base", "writes")

    def __init__(self, base: StateReader) -> None:
        self.base = base
        self.writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        writes = self.writes
        if key in writes:
            return writes[key]
        return self.base.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self.writes[key] = None

    def scan(self, start: bytes, end: bytes, limit: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        """The base's entries with the pending writes merged over them, in key order.

        With a ``limit``, the base is asked for ``limit`` plus the number of pending writes in
        the range: each pending write (a deletion or a new value) hides at most one base entry,
        so at least ``limit`` of the base entries read survive, and no entry past them can be
        among the first ``limit`` of the merged scan.
        """
        if limit is not None and limit <= 0:
            return
        pending = sorted((k, v) for k, v in self.writes.items() if start <= k < end)
        below = self.base.scan(start, end, None if limit is None else limit + len(pending))
        mine = iter(pending)
        left = -1 if limit is None else limit
        a, b = next(below, None), next(mine, None)
        while left and (a is not None or b is not None):
            if b is None or (a is not None and a[0] < b[0]):
                yield a
                left -= 1
                a = next(below, None)
                continue
            if a is not None and a[0] == b[0]:
                a = next(below, None)
            if b[1] is not None:
                yield b
                left -= 1
            b = next(mine, None)

    def child(self) -> Overlay:
        return Overlay(self)

    def merge_into_parent(self) -> None:
        parent = self.base
        assert isinstance(parent, Overlay), "only a child overlay merges into a parent"
        parent.writes.update(self.writes)


DELETED = b""
"""How a deletion appears in a write-set leaf (values are never empty: they are encoded)."""


def writes_root(writes: Writes) -> bytes:
    """Merkle root over ``encode([key, value or DELETED])`` for each key in ascending order."""
    pack = encoding.pack_pair
    return merkle.root([pack(key, DELETED if writes[key] is None else writes[key]) for key in sorted(writes)])


def next_state_root(prev_root: bytes, writes: Writes) -> bytes:
    return digest(b"civicledger/state-root", prev_root + writes_root(writes))
