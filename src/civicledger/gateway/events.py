"""The live event stream: committed events fanned out to every reader, resumable by position.

The node calls ``EventHub.publish`` on its commit thread after each durable
commit. Each reader (one SSE connection) owns an asyncio queue fed on its event
loop, bounded by bytes: the blocks it holds (their headers and receipts, never
their envelopes or writes) may take at most ``queue_bytes`` (estimated by
``block_bytes``), whatever their number, so a stalled reader holds a few
megabytes, not every block committed since it stalled. A reader first
registers (so nothing committed from then on is missed), then replays stored
blocks from the height it asked for, then drains the live queue, skipping what
the replay already gave. A reader too slow to keep up is cut off with a
``lagged`` message naming where to resume (its queue is emptied at once).

A replay filtered by account and not asking for block summaries reads the
store's topics index (``Store.topic_hits``): only the transactions whose events
name the account, never every block.

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
ACCOUNT_WINDOW = 4096
"""Heights one step of an account's replay looks through in the topics index."""
HIT_PAGE = 500
"""Index hits read per query."""
FROM_HEIGHT_MARGIN = 1000
"""How far past the head a stream may ask to start (blocks not yet committed)."""
BLOCK_BYTES = 512
RECEIPT_BYTES = 512
EVENT_BYTES = 384
"""What a queued block's header, each receipt and each event hold in memory, about (measured
with ``bench.stream_rss``: a token transfer's receipt and event take about a kilobyte)."""


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


def block_bytes(receipts: tuple[Receipt, ...]) -> int:
    """About how much memory a queued block with these receipts holds."""
    return BLOCK_BYTES + sum(RECEIPT_BYTES + EVENT_BYTES * len(r.events) for r in receipts)


def tx_messages(header: BlockHeader, index: int, receipt: Receipt,
                wanted: StreamFilter) -> Iterator[Message]:
    """What one committed transaction's events mean to a reader with ``wanted``."""
    height = header.height
    for n, event in enumerate(receipt.events):
        if wanted.wants(event.contract, event.name, event.topics):
            yield Message((height, index, n), "event", {
                "height": height, "index": index, "time_ms": header.time_ms,
                "tx_id": receipt.tx_id.hex(), "contract": event.contract, "name": event.name,
                "data": plain(dict(event.data)),
                "accounts": [to_text(t) for t in event.topics if len(t) == 20],
            })


def messages(header: BlockHeader, receipts: tuple[Receipt, ...], wanted: StreamFilter) -> Iterator[Message]:
    """What one committed block means to a reader with ``wanted``."""
    height = header.height
    for index, receipt in enumerate(receipts):
        yield from tx_messages(header, index, receipt, wanted)
    if wanted.blocks:
        yield Message((height, header.tx_count, 0), "block", {
            "height": height, "hash": header.hash.hex(), "time_ms": header.time_ms,
            "tx_count": header.tx_count, "proposer": header.proposer,
        })


Queued = tuple[BlockHeader, tuple[Receipt, ...], int]
"""A block waiting for its reader: header, receipts, and its ``block_bytes``."""


class Reader:
    def __init__(self, hub: EventHub, loop: asyncio.AbstractEventLoop, limit_bytes: int) -> None:
        self.hub = hub
        self.loop = loop
        self.limit_bytes = limit_bytes
        self.queue: asyncio.Queue[Queued | None] = asyncio.Queue()
        self.held_bytes = 0
        """What the queued blocks take, by ``block_bytes``."""
        self.lagged = False

    def offer(self, header: BlockHeader, receipts: tuple[Receipt, ...], size: int) -> None:
        """On the reader's loop: queue a block, or cut the reader off. A block is queued if the
        queue is empty (however large the block) or if it fits within the limit."""
        if self.lagged:
            return
        if self.held_bytes and self.held_bytes + size > self.limit_bytes:
            self.lagged = True
            while not self.queue.empty():  # let the blocks go now, not when the reader wakes
                self.queue.get_nowait()
            self.held_bytes = 0
            self.queue.put_nowait(None)
            return
        self.held_bytes += size
        self.queue.put_nowait((header, receipts, size))

    async def take(self) -> tuple[BlockHeader, tuple[Receipt, ...]] | None:
        """The next queued block; None once the reader has been cut off."""
        item = await self.queue.get()
        if item is None:
            return None
        header, receipts, size = item
        self.held_bytes -= size
        return header, receipts


class EventHub:
    def __init__(self, store: Store, queue_bytes: int) -> None:
        """``queue_bytes``: the most each reader's queued blocks may take (see ``block_bytes``)."""
        self.store = store
        self.queue_bytes = queue_bytes
        self._readers: set[Reader] = set()
        self._lock = threading.Lock()

    def publish(self, batch: CommitBatch) -> None:
        """Hand a committed block to every reader (called on the executor thread)."""
        with self._lock:
            readers = list(self._readers)
        if not readers:
            return
        header, receipts = batch.header, batch.receipts  # not the envelopes nor the writes
        size = block_bytes(receipts)
        for reader in readers:
            try:
                reader.loop.call_soon_threadsafe(reader.offer, header, receipts, size)
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
        reader = Reader(self, asyncio.get_running_loop(), self.queue_bytes)
        with self._lock:
            self._readers.add(reader)
        try:
            start = after[0] if after is not None else from_height
            last = after or (start, -1, -1)
            replayed_to = start - 1
            by_index = wanted.account is not None and not wanted.blocks
            while True:
                head = self.store.head()
                assert head is not None
                if replayed_to >= head.height:
                    break
                if by_index:
                    top = min(head.height, replayed_to + ACCOUNT_WINDOW)
                    found = await asyncio.to_thread(self._read_account, wanted,
                                                    replayed_to + 1, top)
                else:
                    top = min(head.height, replayed_to + REPLAY_CHUNK)
                    found = await asyncio.to_thread(self._read, wanted, replayed_to + 1, top)
                for message in found:
                    if message.position > last:
                        last = message.position
                        yield message
                replayed_to = top
            while True:
                block = await reader.take()
                if block is None:
                    yield Message(last, "lagged", {
                        "message": "this reader fell behind; reconnect with Last-Event-ID to resume",
                        "resume_from": ":".join(map(str, last)),
                    })
                    return
                header, receipts = block
                if header.height <= replayed_to:
                    continue
                for message in messages(header, receipts, wanted):
                    if message.position > last:
                        last = message.position
                        yield message
        finally:
            self._drop(reader)

    def _read(self, wanted: StreamFilter, low: int, high: int) -> list[Message]:
        """The messages of stored blocks ``low`` to ``high`` (on a worker thread)."""
        blocks = []
        with self.store.reading():
            for height in range(low, high + 1):
                block = self.store.block(height)
                assert block is not None
                blocks.append((block.header, block.receipts))
        return [m for header, receipts in blocks for m in messages(header, receipts, wanted)]

    def _read_account(self, wanted: StreamFilter, low: int, high: int) -> list[Message]:
        """The messages of heights ``low`` to ``high`` for an account, from the topics index:
        only its transactions are read (on a worker thread)."""
        assert wanted.account is not None
        hits = []
        before = (high + 1, 0)
        with self.store.reading():
            while True:
                page = self.store.topic_hits(wanted.account, before=before, limit=HIT_PAGE)
                hits += [hit for hit in page if hit.height >= low]
                if len(page) < HIT_PAGE or page[-1].height < low:
                    break
                before = (page[-1].height, page[-1].index)
            out = []
            header = None
            for hit in reversed(hits):  # the index answers newest first
                if header is None or header.height != hit.height:
                    header = self.store.header(hit.height)
                receipt = self.store.receipt(hit.height, hit.index)
                assert header is not None and receipt is not None
                out += tx_messages(header, hit.index, receipt, wanted)
        return out
