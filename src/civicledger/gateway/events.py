"""The live event stream: committed events fanned out to every reader, resumable by position.

The node calls ``EventHub.publish`` on its executor thread after each durable
commit. Each reader (one SSE connection) owns a bounded asyncio queue fed on
its event loop. A reader first registers (so nothing committed from then on is
missed), then replays stored blocks from the height it asked for, then drains
the live queue, skipping what the replay already gave. A reader too slow to
keep up is cut off with a ``lagged`` message naming where to resume.

Positions are ``height:index:n`` — the n-th event of the index-th transaction
of a block. A block's own summary has position ``height:tx_count:0``, after
all of its events.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from civicledger.core.address import to_text
from civicledger.core.block import BlockHeader, Receipt
from civicledger.core.jsonform import plain
from civicledger.node.store import CommitBatch, Store

Position = tuple[int, int, int]
REPLAY_CHUNK = 64
"""Stored blocks read per step of a replay."""


@dataclass(frozen=True, slots=True)
class StreamFilter:
    contract: str | None = None
    name: str | None = None
    account: bytes | None = None
    blocks: bool = False
    """Also send a summary of every block."""

    def wants(self, contract: str, name: str, topics: tuple[bytes, ...]) -> bool:
        return ((self.contract is None or contract == self.contract)
                and (self.name is None or name == self.name)
                and (self.account is None or self.account in topics))


@dataclass(frozen=True, slots=True)
class Message:
    position: Position
    kind: str
    """``event``, ``block`` or ``lagged``."""
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return ":".join(map(str, self.position))


def parse_position(text: str) -> Position:
    """``H:I:N`` as sent in an event id (raises ValueError)."""
    parts = [int(p) for p in text.split(":")]
    if len(parts) != 3 or min(parts) < 0:
        raise ValueError("a position is height:index:n")
    return parts[0], parts[1], parts[2]


def messages(header: BlockHeader, receipts: tuple[Receipt, ...], wanted: StreamFilter) -> Iterator[Message]:
    """What one committed block means to a reader with ``wanted``."""
    height = header.height
    for index, receipt in enumerate(receipts):
        for n, event in enumerate(receipt.events):
            if wanted.wants(event.contract, event.name, event.topics):
                yield Message((height, index, n), "event", {
                    "height": height, "index": index, "time_ms": header.time_ms,
                    "tx_id": receipt.tx_id.hex(), "contract": event.contract, "name": event.name,
                    "data": plain(dict(event.data)),
                    "accounts": [to_text(t) for t in event.topics if len(t) == 20],
                })
    if wanted.blocks:
        yield Message((height, header.tx_count, 0), "block", {
            "height": height, "hash": header.hash.hex(), "time_ms": header.time_ms,
            "tx_count": header.tx_count, "proposer": header.proposer,
        })


class Reader:
    def __init__(self, hub: EventHub, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        self.hub = hub
        self.loop = loop
        self.queue: asyncio.Queue[CommitBatch | None] = asyncio.Queue(limit)
        self.lagged = False

    def offer(self, batch: CommitBatch) -> None:
        """On the reader's loop: queue a block, or mark the reader lagged."""
        if self.lagged:
            return
        try:
            self.queue.put_nowait(batch)
        except asyncio.QueueFull:
            self.lagged = True
            self.queue = asyncio.Queue(1)
            self.queue.put_nowait(None)


class EventHub:
    def __init__(self, store: Store, queue_limit: int) -> None:
        self.store = store
        self.queue_limit = queue_limit
        self._readers: set[Reader] = set()
        self._lock = threading.Lock()

    def publish(self, batch: CommitBatch) -> None:
        """Hand a committed block to every reader (called on the executor thread)."""
        with self._lock:
            readers = list(self._readers)
        for reader in readers:
            try:
                reader.loop.call_soon_threadsafe(reader.offer, batch)
            except RuntimeError:  # its loop has closed
                self._drop(reader)

    def _drop(self, reader: Reader) -> None:
        with self._lock:
            self._readers.discard(reader)

    @property
    def readers(self) -> int:
        return len(self._readers)

    async def stream(self, wanted: StreamFilter, after: Position | None,
                     from_height: int) -> AsyncIterator[Message]:
        """Messages from ``from_height`` (or just after ``after``), then live, until cut off."""
        reader = Reader(self, asyncio.get_running_loop(), self.queue_limit)
        with self._lock:
            self._readers.add(reader)
        try:
            start = after[0] if after is not None else from_height
            last = after or (start, -1, -1)
            replayed_to = start - 1
            while True:
                head = self.store.head()
                assert head is not None
                if replayed_to >= head.height:
                    break
                top = min(head.height, replayed_to + REPLAY_CHUNK)
                blocks = await asyncio.to_thread(self._read, replayed_to + 1, top)
                for header, receipts in blocks:
                    for message in messages(header, receipts, wanted):
                        if message.position > last:
                            last = message.position
                            yield message
                replayed_to = top
            while True:
                batch = await reader.queue.get()
                if batch is None:
                    yield Message(last, "lagged", {
                        "message": "this reader fell behind; reconnect with Last-Event-ID to resume",
                        "resume_from": ":".join(map(str, last)),
                    })
                    return
                if batch.header.height <= replayed_to:
                    continue
                for message in messages(batch.header, batch.receipts, wanted):
                    if message.position > last:
                        last = message.position
                        yield message
        finally:
            self._drop(reader)

    def _read(self, low: int, high: int) -> list[tuple[BlockHeader, tuple[Receipt, ...]]]:
        out = []
        with self.store.reading():
            for height in range(low, high + 1):
                block = self.store.block(height)
                assert block is not None
                out.append((block.header, block.receipts))
        return out
