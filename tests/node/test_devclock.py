"""A dev chain's clock: wall time plus an offset that only grows, and the spans people type."""

from __future__ import annotations

import pytest

from civicledger.core.errors import UnknownCall
from civicledger.node.devclock import MAX_ADVANCE_MS, DevClock, parse_span


class Wall:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def test_the_clock_runs_with_the_wall_and_moves_only_forward():
    wall = Wall(1_000)
    clock = DevClock(wall=wall)
    assert clock() == 1_000 and clock.offset_ms == 0
    assert clock.advance(500) == 1_500
    wall.now = 1_100
    assert clock() == 1_600
    for bad in (0, -1, MAX_ADVANCE_MS + 1, 1.5, True):
        with pytest.raises(UnknownCall):
            clock.advance(bad)  # type: ignore[arg-type]
    assert clock() == 1_600


def test_a_restarted_clock_starts_no_earlier_than_the_chain_head():
    assert DevClock(start_at_least=5_000, wall=Wall(1_000))() == 5_000
    assert DevClock(start_at_least=500, wall=Wall(1_000))() == 1_000  # never behind the wall


@pytest.mark.parametrize(("text", "ms"), [
    ("3d", 3 * 86_400_000), ("12h", 43_200_000), ("90m", 5_400_000), ("1h30m", 5_400_000),
    ("500ms", 500), ("2w", 14 * 86_400_000), ("45s", 45_000), ("1500", 1500), (" 1D ", 86_400_000),
])
def test_spans(text, ms):
    assert parse_span(text) == ms


@pytest.mark.parametrize("text", ["", "d", "3x", "3d-1h", "1.5h", "three days", "3d 1h"])
def test_unreadable_spans_are_refused_with_a_code(text):
    with pytest.raises(UnknownCall) as refused:
        parse_span(text)
    assert refused.value.code == "invalid_argument"
