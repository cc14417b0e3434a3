"""The SQLite store's range scan: key order, a half-open range, and a limit inside the query."""

from __future__ import annotations

from civicledger.core.block import BlockHeader
from civicledger.node.sqlite_store import SqliteStore
from civicledger.node.store import CommitBatch

ZERO = bytes(32)


def store_with(count: int, tmp_path=None) -> SqliteStore:
    store = SqliteStore(":memory:" if tmp_path is None else tmp_path / "ledger.db")
    header = BlockHeader("scan", 0, ZERO, 0, "test", 0, ZERO, ZERO, ZERO)
    writes = {b"k%05d" % i: b"v%d" % i for i in range(count)} | {b"l": b"after", b"j": b"before"}
    store.commit(CommitBatch(header, (), (), writes, ()))
    return store


def vm_steps(store: SqliteStore, *scan_args) -> tuple[list[bytes], int]:
    """The keys a scan returns and the SQLite virtual-machine steps it took (work, not time)."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    conn = store._conn()
    conn.set_progress_handler(count, 1)
    try:
        keys = [key for key, _ in store.scan(*scan_args)]
    finally:
        conn.set_progress_handler(None, 1)
    return keys, steps


def test_scan_is_ordered_half_open_and_limited(tmp_path) -> None:
    store = store_with(50, tmp_path)
    assert [k for k, _ in store.scan(b"k", b"l")] == [b"k%05d" % i for i in range(50)]
    assert list(store.scan(b"k00010", b"l", 3)) == [(b"k00010", b"v10"), (b"k00011", b"v11"),
                                                    (b"k00012", b"v12")]
    assert list(store.scan(b"k", b"l", 0)) == []
    assert list(store.scan(b"k", b"k")) == []
    store.close()


def test_a_page_costs_the_same_however_large_its_range() -> None:
    small, large = store_with(100), store_with(10_000)
    small_keys, small_steps = vm_steps(small, b"k", b"l", 10)
    large_keys, large_steps = vm_steps(large, b"k", b"l", 10)
    assert small_keys == large_keys == [b"k%05d" % i for i in range(10)]
    assert large_steps < 2 * small_steps  # a scan of the range would take ~100 times as many
    _, whole = vm_steps(large, b"k", b"l")
    assert whole > 50 * large_steps  # the measure does see a walk of the range
