"""Merkle trees with domain-separated hashing, as in RFC 6962 / RFC 9162.

A leaf hashes as ``SHA-256(0x00 || data)`` and an inner node as
``SHA-256(0x01 || left || right)``, so a leaf can never pass for a node. A
level with an odd count carries its last node up unchanged, which yields the
RFC 6962 tree. A proof is the list of sibling hashes from the leaf upwards;
verifying it needs only the leaf, its index, the tree size and the root — all
of which a light client has from a block header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _next_level(level: list[bytes]) -> list[bytes]:
    sha256 = hashlib.sha256  # node_hash, inlined: a block's roots hash thousands of nodes
    pairs = zip(level[::2], level[1::2], strict=False)  # an odd last node has no partner
    paired = [sha256(b"\x01" + left + right).digest() for left, right in pairs]
    if len(level) % 2:
        paired.append(level[-1])
    return paired


def root_of_hashes(leaves: Sequence[bytes]) -> bytes:
    """The root over already-hashed leaves."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def root(items: Sequence[bytes]) -> bytes:
    """The root over raw leaf data."""
    sha256 = hashlib.sha256  # leaf_hash, inlined
    return root_of_hashes([sha256(b"\x00" + item).digest() for item in items])


@dataclass(frozen=True, slots=True)
class Proof:
    """Inclusion of leaf ``index`` in a tree of ``size`` leaves."""

    index: int
    size: int
    path: tuple[bytes, ...]
    """Sibling hashes, from the leaf's level up to the root's children."""


def prove(leaves: Sequence[bytes], index: int) -> Proof:
    """The proof for the (already hashed) leaf at ``index``."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is not in a tree of {len(leaves)}")
    path = []
    level, position = list(leaves), index
    while len(level) > 1:
        sibling = position ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        level, position = _next_level(level), position // 2
    return Proof(index, len(leaves), tuple(path))


def root_from_proof(leaf: bytes, proof: Proof) -> bytes | None:
    """The root that ``proof`` implies for the hashed ``leaf``; None if the proof is ill-formed."""
    if not 0 <= proof.index < proof.size:
        return None
    node, position, size = leaf, proof.index, proof.size
    path = iter(proof.path)
    while size > 1:
        if position % 2:
            sibling = next(path, None)
            if sibling is None:
                return None
            node = node_hash(sibling, node)
        elif position + 1 < size:
            sibling = next(path, None)
            if sibling is None:
                return None
            node = node_hash(node, sibling)
        position, size = position // 2, (size + 1) // 2
    if next(path, None) is not None:
        return None
    return node


def verify(data: bytes, proof: Proof, expected_root: bytes) -> bool:
    """True if raw leaf ``data`` is at ``proof.index`` of the tree with ``expected_root``."""
    return root_from_proof(leaf_hash(data), proof) == expected_root
