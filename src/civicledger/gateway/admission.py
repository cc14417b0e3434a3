"""Admission of submissions from many concurrent requests, grouped into one node call.

Each call of ``Node.submit_many`` costs a thread hop, a hand-off to the
signature verifiers and one replay lookup in the store, whatever its size. So
while one group is being admitted, requests that arrive queue up, and the next
group takes them all at once: under load, hundreds of single submissions share
one call; when idle, a lone request goes straight through with no added delay.
Each request still gets exactly the outcomes of its own envelopes, in order.
The calls run on one thread of the admission's own (groups are admitted one at
a time anyway), handed over with the event loop's executor call.
"""

from __future__ import annotations

import asyncio
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from civicledger.core.errors import CivicError
from civicledger.node.node import Committed, Node

Outcome = Future[Committed] | CivicError


class Admission:
    def __init__(self, node: Node, max_group: int = 10_000) -> None:
        self.node = node
        self.max_group = max_group
        self._waiting: deque[tuple[list[bytes], asyncio.Future[list[Outcome]]]] = deque()
        self._draining = False
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="admission")

    async def submit(self, envelopes: list[bytes]) -> list[Outcome]:
        """The node's outcome for each envelope, once admitted (or refused)."""
        answer: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        self._waiting.append((envelopes, answer))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await answer

    async def _drain(self) -> None:
        try:
            while self._waiting:
                group = self._take()
                flat = [e for envelopes, _ in group for e in envelopes]
                try:
                    outcomes = await asyncio.get_running_loop().run_in_executor(
                        self._thread, self.node.submit_many, flat)
                except BaseException as error:  # a node fault: every request in the group hears it
                    for _, answer in group:
                        if not answer.done():
                            answer.set_exception(error)
                    continue
                start = 0
                for envelopes, answer in group:
                    if not answer.done():
                        answer.set_result(outcomes[start:start + len(envelopes)])
                    start += len(envelopes)
        finally:
            self._draining = False

    def _take(self) -> list[tuple[list[bytes], asyncio.Future[list[Outcome]]]]:
        group, size = [], 0
        while self._waiting and (not group or size + len(self._waiting[0][0]) <= self.max_group):
            item = self._waiting.popleft()
            group.append(item)
            size += len(item[0])
        return group
