"""The live event stream: replay from a height, filters, resume by position, slow readers."""

from __future__ import annotations

import asyncio
import json
import threading

from civicledger.core.address import to_text
from civicledger.gateway import events
from civicledger.gateway.events import EventHub, Reader, StreamFilter, block_bytes, parse_position
from tests.gateway.conftest import error_code, transfer


def _send(node, accounts, sender, recipient, amount):
    return node.submit(transfer(accounts, sender, recipient, amount).envelope()).result(timeout=10)


def _frames(api, query: str, headers=None) -> list[dict]:
    frames, current = [], {}
    with api.stream("GET", f"/v1/events?{query}", headers=headers or {}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line:
                if "data" in current:
                    frames.append(current)
                current = {}
                continue
            field, _, value = line.partition(": ")
            current[field] = json.loads(value) if field == "data" else value
    return frames


def test_the_stream_replays_from_a_height_with_block_summaries(api, node, accounts):
    _send(node, accounts, 1, 2, 5)
    _send(node, accounts, 3, 4, 6)
    frames = _frames(api, "from_height=1&blocks=true&limit=4")
    assert [(f["event"], f["id"]) for f in frames] == [
        ("event", "1:0:0"), ("block", "1:1:0"), ("event", "2:0:0"), ("block", "2:1:0")]
    assert frames[0]["data"]["name"] == "Transferred" and frames[0]["data"]["data"]["amount"] == 5
    assert frames[1]["data"]["tx_count"] == 1


def test_filters_by_account_contract_and_type(api, node, accounts):
    _send(node, accounts, 1, 2, 5)
    _send(node, accounts, 3, 4, 6)
    mine = _frames(api, f"from_height=0&account={to_text(accounts.address(4))}&limit=1")
    assert [f["data"]["data"]["amount"] for f in mine] == [6]
    assert to_text(accounts.address(4)) in mine[0]["data"]["accounts"]
    typed = _frames(api, "from_height=0&contract=token&name=Transferred&limit=2")
    assert [f["data"]["data"]["amount"] for f in typed] == [5, 6]


def test_resuming_after_an_id_skips_what_was_seen(api, node, accounts):
    for amount in (1, 2, 3):
        _send(node, accounts, 1, 2, amount)
    frames = _frames(api, "limit=2", headers={"Last-Event-ID": "1:0:0"})
    assert [f["data"]["data"]["amount"] for f in frames] == [2, 3]


def test_live_events_follow_the_replay(api, node, accounts):
    _send(node, accounts, 1, 2, 1)

    def later():
        _send(node, accounts, 1, 2, 2)

    timer = threading.Timer(0.3, later)
    timer.start()
    frames = _frames(api, "from_height=1&limit=2")
    timer.join()
    assert [f["data"]["data"]["amount"] for f in frames] == [1, 2]


def test_bad_stream_requests_are_refused(api):
    with api.stream("GET", "/v1/events", headers={"Last-Event-ID": "x"}) as response:
        response.read()
        assert (response.status_code, error_code(response)) == (422, "invalid_argument")
    with api.stream("GET", "/v1/events?account=civ1nope") as response:
        response.read()
        assert error_code(response) == "invalid_address"


def test_positions_parse_strictly():
    assert parse_position("3:0:12") == (3, 0, 12)
    for bad in ("3:0", "a:b:c", "1:-1:0", ""):
        try:
            parse_position(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} parsed")


def test_a_slow_reader_is_cut_off_with_where_to_resume(node, accounts):
    hub = EventHub(node.store, queue_bytes=1)
    node.on_commit(hub.publish)

    async def read() -> list:
        out = []
        stream = hub.stream(StreamFilter(), None, node.head.height + 1)
        first = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.05)  # registered, replay done, waiting for live blocks
        loop = asyncio.get_running_loop()
        for amount in (1, 2, 3):
            await loop.run_in_executor(None, _send, node, accounts, 1, 2, amount)
        out.append(await first)
        async for message in stream:
            out.append(message)
        return out

    messages = asyncio.run(read())
    assert messages[-1].kind == "lagged"
    assert messages[-1].data["resume_from"] == messages[-2].id
    assert hub.readers == 0


def test_a_reader_is_cut_off_by_the_bytes_it_holds_not_the_blocks(node, accounts):
    _send(node, accounts, 1, 2, 5)
    block = node.store.block(1)
    size = block_bytes(block.receipts)

    async def offer() -> tuple[Reader, Reader]:
        loop = asyncio.get_running_loop()
        roomy = Reader(EventHub(node.store, 0), loop, 100 * size)
        tight = Reader(EventHub(node.store, 0), loop, 3 * size)
        for _ in range(10):
            for reader in (roomy, tight):
                reader.offer(block.header, block.receipts, size)
        return roomy, tight

    roomy, tight = asyncio.run(offer())
    assert (roomy.lagged, roomy.held_bytes, roomy.queue.qsize()) == (False, 10 * size, 10)
    assert (tight.lagged, tight.held_bytes, tight.queue.qsize()) == (True, 0, 1), \
        "cut off at the fourth block, its blocks let go at once"


def test_a_block_larger_than_the_limit_still_reaches_an_idle_reader(node, accounts):
    _send(node, accounts, 1, 2, 5)
    block = node.store.block(1)

    async def offer() -> Reader:
        reader = Reader(EventHub(node.store, 0), asyncio.get_running_loop(), 1)
        reader.offer(block.header, block.receipts, block_bytes(block.receipts))
        assert await reader.take() == (block.header, block.receipts)
        return reader

    reader = asyncio.run(offer())
    assert (reader.lagged, reader.held_bytes) == (False, 0)


def test_an_account_replay_reads_the_topics_index_not_every_block(api, node, accounts, monkeypatch):
    for sender, recipient, amount in ((1, 2, 5), (3, 4, 6), (1, 3, 7), (4, 5, 8)):
        _send(node, accounts, sender, recipient, amount)
    monkeypatch.setattr(events, "ACCOUNT_WINDOW", 2)  # several windows, some without a hit
    monkeypatch.setattr(events, "HIT_PAGE", 1)
    read: list[int] = []
    real = node.store.block
    monkeypatch.setattr(node.store, "block", lambda height: read.append(height) or real(height))
    mine = _frames(api, f"from_height=1&account={to_text(accounts.address(3))}&limit=2")
    assert [(f["id"], f["data"]["data"]["amount"]) for f in mine] == [("2:0:0", 6), ("3:0:0", 7)]
    assert read == [], "no block was read whole"
    later = _frames(api, f"from_height=3&account={to_text(accounts.address(4))}&limit=1")
    assert [(f["id"], f["data"]["data"]["amount"]) for f in later] == [("4:0:0", 8)]


def test_a_start_far_past_the_head_is_refused(api, node):
    far = node.head.height + events.FROM_HEIGHT_MARGIN + 1
    for query, headers in ((f"from_height={far}", {}), ("", {"Last-Event-ID": f"{far}:0:0"})):
        with api.stream("GET", f"/v1/events?{query}", headers=headers) as response:
            response.read()
            assert (response.status_code, error_code(response)) == (422, "beyond_head")
