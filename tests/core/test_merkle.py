"""Merkle trees: roots equal RFC 6962's MTH, and proofs verify exactly what they claim."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicledger.core import merkle
from civicledger.core.merkle import Proof

# -- RFC 6962 / RFC 9162, written out from the RFC text as the reference ----------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries: list[bytes]) -> bytes:
    """RFC 6962 §2.1 Merkle Tree Hash."""
    n = len(entries)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + entries[0])
    k = _split(n)
    return _sha(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


def audit_path(m: int, entries: list[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(m, D[n]), from the leaf's level upwards."""
    n = len(entries)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return audit_path(m, entries[:k]) + [mth(entries[k:])]
    return audit_path(m - k, entries[k:]) + [mth(entries[:k])]


def rfc9162_verify(index: int, size: int, leaf: bytes, path: tuple[bytes, ...], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: verify an inclusion proof for the hashed ``leaf``."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _sha(b"\x01" + p + r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = _sha(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


# -- strategies ------------------------------------------------------------------

leaf_lists = st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=200, unique=True)


def hashed(entries: list[bytes]) -> list[bytes]:
    return [merkle.leaf_hash(e) for e in entries]


# -- roots -----------------------------------------------------------------------


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert merkle.root([]) == merkle.EMPTY_ROOT == _sha(b"") == mth([])
    assert merkle.root_of_hashes([]) == merkle.EMPTY_ROOT
    with pytest.raises(IndexError):
        merkle.prove([], 0)


def test_single_leaf_root_is_its_leaf_hash() -> None:
    assert merkle.root([b"a"]) == merkle.leaf_hash(b"a") == _sha(b"\x00a")
    proof = merkle.prove(hashed([b"a"]), 0)
    assert proof.path == ()
    assert merkle.verify(b"a", proof, merkle.root([b"a"]))


@settings(max_examples=200)
@given(st.lists(st.binary(max_size=8), max_size=300))
def test_root_equals_rfc6962_mth(entries: list[bytes]) -> None:
    assert merkle.root(entries) == mth(entries)
    assert merkle.root_of_hashes(hashed(entries)) == mth(entries)


@pytest.mark.parametrize("n", [*range(1, 20), 31, 32, 33, 63, 64, 65, 127, 128, 129, 200])
def test_root_and_every_proof_at_power_of_two_edges(n: int) -> None:
    entries = [i.to_bytes(2, "big") for i in range(n)]
    root = merkle.root(entries)
    assert root == mth(entries)
    for index in range(n):
        proof = merkle.prove(hashed(entries), index)
        assert list(proof.path) == audit_path(index, entries)
        assert merkle.verify(entries[index], proof, root)


def test_a_leaf_cannot_pass_for_an_inner_node() -> None:
    entries = [b"a", b"b"]
    root = merkle.root(entries)
    forged = merkle.leaf_hash(b"a") + merkle.leaf_hash(b"b")
    assert _sha(b"\x01" + forged) == root  # what a tree without domain separation would allow
    assert not merkle.verify(forged, Proof(0, 1, ()), root)


# -- proofs ----------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(leaf_lists)
def test_every_leaf_proves_and_paths_equal_rfc6962(entries: list[bytes]) -> None:
    leaves = hashed(entries)
    root = merkle.root(entries)
    for index, entry in enumerate(entries):
        proof = merkle.prove(leaves, index)
        assert proof.index == index and proof.size == len(entries)
        assert list(proof.path) == audit_path(index, entries)
        assert merkle.verify(entry, proof, root)
        assert rfc9162_verify(index, len(entries), leaves[index], proof.path, root)


@settings(max_examples=60, deadline=None)
@given(leaf_lists, st.data())
def test_proof_fails_for_another_leaf_index_or_path(entries: list[bytes], data: st.DataObject) -> None:
    leaves = hashed(entries)
    root = merkle.root(entries)
    size = len(entries)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = merkle.prove(leaves, index)

    other = data.draw(st.binary(max_size=9).filter(lambda b: b != entries[index]), label="other")
    assert not merkle.verify(other, proof, root)

    for wrong in range(size):
        if wrong != index:
            assert not merkle.verify(entries[index], Proof(wrong, size, proof.path), root)
    for wrong in (-1, size, size + 1):
        assert not merkle.verify(entries[index], Proof(wrong, size, proof.path), root)

    if proof.path:
        assert not merkle.verify(entries[index], Proof(index, size, proof.path[:-1]), root)
        assert not merkle.verify(entries[index], Proof(index, size, proof.path[1:]), root)
    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")
    assert not merkle.verify(entries[index], Proof(index, size, (*proof.path, extra)), root)
    assert not merkle.verify(entries[index], Proof(index, size, (extra, *proof.path)), root)
    assert not merkle.verify(entries[index], proof, _sha(root))


@settings(max_examples=60, deadline=None)
@given(leaf_lists, st.data())
def test_proof_with_a_wrong_size_verifies_only_as_rfc9162_allows(
    entries: list[bytes], data: st.DataObject
) -> None:
    """A proof commits to (index, size) only through its shape, exactly as in RFC 9162.

    For some sizes the shape is the same (leaf 0 of 3 and of 4 both hash with two
    siblings on the right), and both algorithms accept; for every other size both
    refuse. Sizes that cannot hold the index are always refused.
    """
    leaves = hashed(entries)
    root = merkle.root(entries)
    size = len(entries)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = merkle.prove(leaves, index)
    for wrong in range(0, 2 * size + 2):
        if wrong == size:
            continue
        claimed = Proof(index, wrong, proof.path)
        expected = rfc9162_verify(index, wrong, leaves[index], proof.path, root)
        assert merkle.verify(entries[index], claimed, root) is expected
        if wrong <= index or len(audit_path(index, [b""] * wrong)) != len(proof.path):
            assert not expected


def test_wrong_size_examples() -> None:
    entries = [b"a", b"b", b"c", b"d", b"e"]
    leaves = hashed(entries)
    root = merkle.root(entries)
    last = merkle.prove(leaves, 4)  # carried up alone: one sibling, the left subtree of four
    assert merkle.verify(b"e", last, root)
    assert not merkle.verify(b"e", Proof(4, 6, last.path), root)  # would need a right sibling
    assert not merkle.verify(b"e", Proof(4, 4, last.path), root)  # index outside the tree
    first = merkle.prove(leaves, 0)
    assert not merkle.verify(b"a", Proof(0, 4, first.path), root)  # too long a path for four
    assert not merkle.verify(b"a", Proof(0, 0, first.path), root)
