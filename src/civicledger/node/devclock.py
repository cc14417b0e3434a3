"""A dev chain's clock: the orderer's wall clock plus an offset that an operator can move forward.

Block time comes from ordering (``Batch.time_ms``), never from contracts. On a chain run
with ``civic up --dev-clock`` the orderer reads this clock instead of the wall clock, so
moving it forward (``POST /v1/dev/advance-time``, ``civic dev advance 3d``) makes the next
block's time later, as anvil's ``evm_increaseTime`` does. Nothing else changes: contracts
still read the block's time, and replaying the chain gives the same roots.

The clock never goes back: it starts no earlier than the chain's head (a chain moved
forward before a restart resumes at its last block time), and an advance only adds.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from civicledger.core.errors import UnknownCall
from civicledger.node.ordering import wall_clock_ms

MAX_ADVANCE_MS = 10 * 365 * 24 * 3600 * 1000
"""Most that one advance may move the clock (ten years)."""
_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_SPAN = re.compile(r"(\d+)(ms|s|m|h|d|w)")


class DevClock:
    """``wall() + offset``, in Unix milliseconds; the offset only grows."""

    def __init__(self, *, start_at_least: int = 0, wall: Callable[[], int] = wall_clock_ms) -> None:
        self._wall = wall
        self._lock = threading.Lock()
        self._offset = max(0, start_at_least - wall())

    def __call__(self) -> int:
        return self._wall() + self._offset

    @property
    def offset_ms(self) -> int:
        return self._offset

    def advance(self, ms: int) -> int:
        """Move the clock ``ms`` forward (1 ms to ten years); the new time."""
        if type(ms) is not int or not 1 <= ms <= MAX_ADVANCE_MS:
            raise UnknownCall(f"advance by 1 to {MAX_ADVANCE_MS} ms", code="invalid_argument")
        with self._lock:
            self._offset += ms
        return self()


def parse_span(text: str) -> int:
    """``"3d"``, ``"90m"``, ``"1h30m"``, ``"500ms"`` or a plain number of ms, in milliseconds."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    parts = _SPAN.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise UnknownCall(f"cannot read the time span '{text}' (e.g. 3d, 12h, 90m, 1h30m)",
                          code="invalid_argument")
    return sum(int(n) * _UNITS[u] for n, u in parts)
