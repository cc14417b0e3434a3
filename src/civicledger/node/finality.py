"""Finality: when a block is final, and when a peer has left the consortium's chain.

A block is final once ``quorum`` of the peers in force at its height have
attested the same header that this peer computed. A final block makes every
block before it final too (its header names its predecessor's hash, and the
attesting peers executed them all), so finality is one height.

Two faults are told apart:

* **this peer diverged**: a quorum attested a header for height h that differs
  from this peer's own. It must stop committing and say so (``on_diverged``):
  it never serves a forked state silently.
* **another peer disagrees**: a valid attestation whose header differs from
  the one a quorum attested. That peer is reported (``dissenters``); the
  others keep finalising while a quorum of them agrees.

The rules are pure: attestations and this peer's own headers go in, and
finality and faults come out. The caller supplies the peer set in force at a
height (``peers_at``, from governance) and runs the callbacks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from civicledger.core.attestation import Attestation, differing_fields
from civicledger.core.block import BlockHeader

log = logging.getLogger(__name__)

PeerSet = tuple[Mapping[str, bytes], int]
"""(org → peer key in force at a height, the quorum at that height)."""
KEEP_BEHIND = 64
"""Heights kept below the final one, so that late attestations still count as seen."""
MAX_AHEAD = 100_000
"""Heights of others' attestations held ahead of this peer's head (a peer catching up)."""


@dataclass(frozen=True, slots=True)
class Divergence:
    height: int
    mine: BlockHeader
    quorum: BlockHeader
    signers: tuple[str, ...]

    @property
    def fields(self) -> list[str]:
        return differing_fields(self.mine, self.quorum)

    def describe(self) -> str:
        return (f"block {self.height}: this peer's header differs from the one "
                f"{', '.join(self.signers)} attested ({', '.join(self.fields)} differ)")


@dataclass
class _Height:
    attestations: dict[str, Attestation] = field(default_factory=dict)
    mine: BlockHeader | None = None


class Finality:
    def __init__(self, peers_at: Callable[[int], PeerSet], *,
                 on_final: Callable[[int], None],
                 on_diverged: Callable[[Divergence], None],
                 final_height: int = 0) -> None:
        self._peers_at = peers_at
        self._on_final = on_final
        self._on_diverged = on_diverged
        self._lock = threading.Lock()
        self._heights: dict[int, _Height] = {}
        self.final_height = final_height
        self.divergence: Divergence | None = None
        self.dissenters: dict[str, int] = {}
        """Peers whose attestation differed from a quorum's, with the first such height."""
        self.seen: dict[str, int] = {}
        """Each peer's newest valid attestation height."""
        self.head = 0

    def own(self, header: BlockHeader) -> None:
        """This peer committed ``header``."""
        with self._lock:
            self.head = max(self.head, header.height)
            self._slot(header.height).mine = header
        self._decide(header.height)

    def add(self, attestation: Attestation) -> bool:
        """Count a peer's attestation; False if it is not valid for its height (and so ignored)."""
        height = attestation.height
        with self._lock:
            if height <= self.final_height - KEEP_BEHIND or height > self.head + MAX_AHEAD:
                self.seen[attestation.org] = max(self.seen.get(attestation.org, 0), height)
                return True
        if height <= self.head:  # the peer set at a height is known once we executed it
            keys, _ = self._peers_at(height)
            if attestation.org not in keys or not attestation.verifies(keys[attestation.org]):
                return False
        with self._lock:
            self._slot(height).attestations[attestation.org] = attestation
        self._decide(height)
        return True

    def _slot(self, height: int) -> _Height:
        slot = self._heights.get(height)
        if slot is None:
            slot = self._heights[height] = _Height()
        return slot

    def _decide(self, height: int) -> None:
        with self._lock:
            slot = self._heights.get(height)
            if slot is None or slot.mine is None or self.divergence is not None:
                return
            mine = slot.mine
            pending = dict(slot.attestations)
        keys, quorum = self._peers_at(height)
        valid = {org: a for org, a in pending.items()
                 if org in keys and a.header.chain_id == mine.chain_id and a.verifies(keys[org])}
        by_header: dict[bytes, list[str]] = {}
        for org, attestation in valid.items():
            by_header.setdefault(attestation.header_hash, []).append(org)
            self.seen[org] = max(self.seen.get(org, 0), height)
        agreeing = by_header.get(mine.hash, [])
        for header_hash, orgs in by_header.items():
            if quorum and len(orgs) >= quorum and header_hash != mine.hash:
                other = valid[orgs[0]].header
                self._diverged(Divergence(height, mine, other, tuple(sorted(orgs))))
                return
        if quorum and len(agreeing) >= quorum:
            for header_hash, orgs in by_header.items():
                if header_hash != mine.hash:
                    for org in orgs:
                        self.dissenters.setdefault(org, height)
            self._finalised(height)

    def _diverged(self, divergence: Divergence) -> None:
        with self._lock:
            if self.divergence is not None:
                return
            self.divergence = divergence
        log.error("DIVERGED at %s", divergence.describe())
        self._on_diverged(divergence)

    def _finalised(self, height: int) -> None:
        with self._lock:
            if height <= self.final_height:
                return
            self.final_height = height
            for old in [h for h in self._heights if h <= height - KEEP_BEHIND]:
                del self._heights[old]
        self._on_final(height)

    def attested(self, height: int) -> dict[str, Attestation]:
        """The attestations held for ``height`` (recent heights only; older ones are in the book)."""
        with self._lock:
            slot = self._heights.get(height)
            return dict(slot.attestations) if slot else {}
