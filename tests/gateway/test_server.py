"""The served protocol: each response leaves in one write, and nothing is lost or reordered."""

from __future__ import annotations

import asyncio

from civicledger.gateway.server import FLUSH_AT, CoalescingTransport


class Recording:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_writes_of_one_loop_turn_leave_together_in_order():
    async def run():
        real = Recording()
        transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"body")
        assert real.writes == []
        await asyncio.sleep(0)
        assert real.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
        transport.write(b"next")
        await asyncio.sleep(0)
        assert real.writes[1:] == [b"next"]
        assert transport.get_extra_info("peername") == "info:peername"

    asyncio.run(run())


def test_close_writes_what_is_held_first():
    async def run():
        real = Recording()
        transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"last words")
        transport.close()
        assert real.writes == [b"last words"] and real.closed
        await asyncio.sleep(0)  # the scheduled flush finds nothing left
        assert real.writes == [b"last words"]

    asyncio.run(run())


def test_large_output_is_not_held_back():
    async def run():
        real = Recording()
        transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"h")
        transport.write(b"x" * FLUSH_AT)
        assert real.writes == [b"h" + b"x" * FLUSH_AT]
        await asyncio.sleep(0)
        assert len(real.writes) == 1

    asyncio.run(run())


def test_nothing_is_written_to_a_closed_connection():
    async def run():
        real = Recording()
        transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"too late")
        real.closed = True  # the peer went away before the loop turned
        await asyncio.sleep(0)
        assert real.writes == []

    asyncio.run(run())
