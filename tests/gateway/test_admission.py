"""Concurrent submissions share node calls, yet each request gets exactly its own outcomes."""

from __future__ import annotations

import asyncio
import threading

from civicledger.core.errors import NodeFault
from civicledger.gateway.admission import Admission


class SlowNode:
    """Answers each envelope with its own bytes reversed, slowly, and records every call."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.release = threading.Event()

    def submit_many(self, envelopes):
        self.release.wait(5)
        self.calls.append(len(envelopes))
        return [e[::-1] for e in envelopes]


def test_waiting_requests_are_admitted_together_in_order():
    node = SlowNode()
    admission = Admission(node)  # type: ignore[arg-type]

    async def run():
        first = asyncio.ensure_future(admission.submit([b"a1"]))
        await asyncio.sleep(0.05)  # the first call is in the node; these queue meanwhile
        rest = [asyncio.ensure_future(admission.submit([f"r{i}".encode(), f"s{i}".encode()]))
                for i in range(20)]
        await asyncio.sleep(0.05)
        node.release.set()
        return await first, await asyncio.gather(*rest)

    first, rest = asyncio.run(run())
    assert first == [b"1a"]
    assert rest == [[f"r{i}".encode()[::-1], f"s{i}".encode()[::-1]] for i in range(20)]
    assert node.calls == [1, 40]


def test_a_node_fault_reaches_every_request_of_the_group():
    class Faulty:
        def submit_many(self, envelopes):
            raise NodeFault("the store is gone")

    admission = Admission(Faulty())  # type: ignore[arg-type]

    async def run():
        return await asyncio.gather(*(admission.submit([b"x"]) for _ in range(3)),
                                    return_exceptions=True)

    assert all(isinstance(r, NodeFault) for r in asyncio.run(run()))
