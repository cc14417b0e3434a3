"""State: overlays merge like a dict over the base, scans stay ordered, the write-set root."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from civicledger.core import encoding, merkle
from civicledger.core.crypto import digest
from civicledger.core.state import (
    DELETED,
    MemoryState,
    Overlay,
    next_state_root,
    prefix_end,
    writes_root,
)


class CountingReader:
    """A state reader that counts the entries its scans read, and reads a range the way a
    store does: all of it at once (up to the limit it is given), before handing any on."""

    def __init__(self, base: MemoryState) -> None:
        self.base = base
        self.read = 0

    def get(self, key: bytes) -> bytes | None:
        return self.base.get(key)

    def scan(self, start: bytes, end: bytes, limit: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        rows = list(itertools.islice(self.base.scan(start, end), limit))
        self.read += len(rows)
        yield from rows

keys = st.binary(min_size=0, max_size=3)
values = st.binary(min_size=1, max_size=3)
bases = st.dictionaries(keys, values, max_size=12)


def model_scan(model: dict[bytes, bytes], start: bytes, end: bytes) -> list[tuple[bytes, bytes]]:
    return sorted((k, v) for k, v in model.items() if start <= k < end)


# -- MemoryState -----------------------------------------------------------------


def test_memory_state_get_scan_apply() -> None:
    state = MemoryState({b"b": b"2", b"a": b"1", b"c": b"3"})
    assert state.get(b"a") == b"1"
    assert state.get(b"z") is None
    assert list(state.scan(b"a", b"c")) == [(b"a", b"1"), (b"b", b"2")]
    state.apply({b"a": None, b"d": b"4", b"zz": None})
    assert state.entries == {b"b": b"2", b"c": b"3", b"d": b"4"}


# -- Overlay against a dict model ------------------------------------------------

operations = st.lists(
    st.one_of(
        st.tuples(st.just("put"), keys, values),
        st.tuples(st.just("delete"), keys, st.none()),
        st.tuples(st.just("child"), st.none(), st.none()),
        st.tuples(st.just("merge"), st.none(), st.none()),
        st.tuples(st.just("drop"), st.none(), st.none()),
    ),
    max_size=40,
)


@settings(max_examples=300)
@given(bases, operations, st.lists(st.tuples(keys, keys), min_size=1, max_size=4))
def test_overlay_stack_behaves_like_a_dict(
    base: dict[bytes, bytes], ops: list[tuple[str, Any, Any]], ranges: list[tuple[bytes, bytes]]
) -> None:
    """Random puts and deletes on nested overlays, merged or dropped, match a stack of dicts."""
    state = MemoryState(base)
    stack = [Overlay(state)]
    models = [dict(base)]
    for op, key, value in ops:
        top, model = stack[-1], models[-1]
        if op == "put":
            top.put(key, value)
            model[key] = value
        elif op == "delete":
            top.delete(key)
            model.pop(key, None)
        elif op == "child":
            stack.append(top.child())
            models.append(dict(model))
        elif op == "merge" and len(stack) > 1:
            stack.pop().merge_into_parent()
            merged = models.pop()
            models[-1] = merged
        elif op == "drop" and len(stack) > 1:
            stack.pop()
            models.pop()
        for overlay, expected in zip(stack, models, strict=True):
            for probe in {key, b"", b"\x00"} - {None}:
                assert overlay.get(probe) == expected.get(probe)
    for overlay, expected in zip(stack, models, strict=True):
        assert list(overlay.scan(b"", b"\xff" * 8)) == model_scan(expected, b"", b"\xff" * 8)
        for start, end in ranges:
            assert list(overlay.scan(start, end)) == model_scan(expected, start, end)
            for limit in (0, 1, 2, 5):
                page = list(overlay.scan(start, end, limit))
                assert page == model_scan(expected, start, end)[:limit]
    assert state.entries == base  # overlays never write through


@settings(max_examples=200)
@given(bases, bases, st.sets(keys, max_size=6))
def test_bottom_overlay_writes_apply_to_the_base(
    base: dict[bytes, bytes], puts: dict[bytes, bytes], deletes: set[bytes]
) -> None:
    state = MemoryState(base)
    overlay = Overlay(state)
    expected = dict(base)
    for key, value in puts.items():
        overlay.put(key, value)
        expected[key] = value
    for key in deletes:
        overlay.delete(key)
        expected.pop(key, None)
    state.apply(overlay.writes)
    assert state.entries == expected


def test_deleted_key_hides_the_base_and_can_be_rewritten() -> None:
    overlay = Overlay(MemoryState({b"a": b"1", b"b": b"2"}))
    overlay.delete(b"a")
    assert overlay.get(b"a") is None
    assert list(overlay.scan(b"", b"z")) == [(b"b", b"2")]
    overlay.put(b"a", b"9")
    assert list(overlay.scan(b"", b"z")) == [(b"a", b"9"), (b"b", b"2")]


def test_child_sees_parent_and_drops_cleanly() -> None:
    parent = Overlay(MemoryState({b"a": b"1"}))
    parent.put(b"b", b"2")
    child = parent.child()
    child.put(b"c", b"3")
    child.delete(b"a")
    assert list(child.scan(b"", b"z")) == [(b"b", b"2"), (b"c", b"3")]
    assert list(parent.scan(b"", b"z")) == [(b"a", b"1"), (b"b", b"2")]  # not merged yet
    child.merge_into_parent()
    assert parent.writes == {b"b": b"2", b"c": b"3", b"a": None}


def test_a_limited_scan_reads_its_page_not_its_range() -> None:
    """1,000 entries in the range, a page of 10: the store is asked for 10 plus one per
    pending write in the range (each can hide one stored entry), never for the range."""
    base = CountingReader(MemoryState({b"k%04d" % i: b"v" for i in range(1000)}))
    overlay = Overlay(base)
    assert [k for k, _ in overlay.scan(b"k", b"l", 10)] == [b"k%04d" % i for i in range(10)]
    assert base.read == 10
    base.read = 0
    after = prefix_end(b"k0009")  # the next page starts past the last key: a seek, not a walk
    assert [k for k, _ in overlay.scan(after, b"l", 10)] == [b"k%04d" % i for i in range(10, 20)]
    assert base.read == 10
    overlay.delete(b"k0000")
    overlay.delete(b"k0003")
    overlay.put(b"k0001", b"new")
    overlay.put(b"k0002x", b"added")
    child = overlay.child()
    child.delete(b"k0004")
    base.read = 0
    page = list(child.scan(b"k", b"l", 5))
    assert page == [(b"k0001", b"new"), (b"k0002", b"v"), (b"k0002x", b"added"),
                    (b"k0005", b"v"), (b"k0006", b"v")]
    assert base.read == 5 + 4 + 1  # the page, the parent's four writes, the child's one
    base.read = 0
    assert list(child.scan(b"k", b"l", 0)) == [] and base.read == 0


def test_memory_state_scan_honours_the_limit() -> None:
    state = MemoryState({b"a": b"1", b"b": b"2", b"c": b"3"})
    assert list(state.scan(b"a", b"z", 2)) == [(b"a", b"1"), (b"b", b"2")]
    assert list(state.scan(b"a", b"z", 0)) == []


def test_scan_range_is_half_open() -> None:
    overlay = Overlay(MemoryState({b"a": b"1", b"b": b"2", b"c": b"3"}))
    overlay.put(b"ba", b"4")
    assert [k for k, _ in overlay.scan(b"b", b"c")] == [b"b", b"ba"]
    assert list(overlay.scan(b"c", b"c")) == []
    assert list(overlay.scan(b"d", b"a")) == []


# -- prefix_end ------------------------------------------------------------------


def test_prefix_end_examples() -> None:
    assert prefix_end(b"a") == b"b"
    assert prefix_end(b"a\xff") == b"b"
    assert prefix_end(b"ab\xff\xff") == b"ac"
    assert prefix_end(b"\x00") == b"\x01"
    assert prefix_end(b"\xff\xff") > b"\xff\xff" + b"\xff" * 60


@settings(max_examples=300)
@given(st.binary(max_size=4), st.binary(max_size=6))
def test_prefix_end_bounds_exactly_the_keys_with_the_prefix(prefix: bytes, key: bytes) -> None:
    end = prefix_end(prefix)
    if key.startswith(prefix):
        assert prefix <= key < end
    elif key > prefix:
        assert key >= end
    full = prefix + key
    assert prefix <= full < end


# -- roots -----------------------------------------------------------------------

write_sets = st.dictionaries(
    st.binary(min_size=1, max_size=4), st.none() | st.binary(min_size=1, max_size=4), max_size=16
)


def test_writes_root_is_the_merkle_root_of_sorted_entries() -> None:
    writes = {b"b": b"2", b"a": None, b"c": b"3"}
    leaves = [
        encoding.encode([b"a", DELETED]),
        encoding.encode([b"b", b"2"]),
        encoding.encode([b"c", b"3"]),
    ]
    assert writes_root(writes) == merkle.root(leaves)
    assert writes_root({}) == merkle.EMPTY_ROOT
    prev = bytes(32)
    assert next_state_root(prev, writes) == digest(b"civicledger/state-root", prev + merkle.root(leaves))


@settings(max_examples=200)
@given(write_sets, st.randoms(use_true_random=False))
def test_writes_root_does_not_depend_on_insertion_order(writes: dict[bytes, Any], rng: Any) -> None:
    items = list(writes.items())
    rng.shuffle(items)
    assert writes_root(dict(items)) == writes_root(writes)
    assert next_state_root(bytes(32), dict(items)) == next_state_root(bytes(32), writes)


@settings(max_examples=200)
@given(write_sets.filter(bool), st.data())
def test_any_changed_value_or_deletion_changes_the_root(
    writes: dict[bytes, Any], data: st.DataObject
) -> None:
    key = data.draw(st.sampled_from(sorted(writes)), label="key")
    new = data.draw(
        (st.none() | st.binary(min_size=1, max_size=5)).filter(lambda v: v != writes[key]),
        label="new value",
    )
    changed = {**writes, key: new}
    assert writes_root(changed) != writes_root(writes)
    assert next_state_root(bytes(32), changed) != next_state_root(bytes(32), writes)
    dropped = {k: v for k, v in writes.items() if k != key}
    assert writes_root(dropped) != writes_root(writes)


def test_state_root_chains_from_the_previous_root() -> None:
    writes = {b"k": b"v"}
    first = next_state_root(bytes(32), writes)
    assert next_state_root(first, writes) != first
    assert next_state_root(bytes([1]) * 32, writes) != first
