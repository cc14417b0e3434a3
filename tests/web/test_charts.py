"""charts.axis_labels: which day labels a narrow column chart shows, and where."""

from __future__ import annotations

from civicledger.web.charts import AXIS_FONT, AXIS_GAP, CHAR_WIDTH, SLOT, axis_labels

FORTNIGHT = ["11/19", *map(str, range(20, 31)), "12/1", "2"]


def spans(ticks: list[str]) -> list[tuple[float, float]]:
    out = []
    for i, x, anchor in axis_labels(ticks):
        wide = len(ticks[i]) * CHAR_WIDTH * AXIS_FONT
        left = {"start": x, "end": x - wide, "middle": x - wide / 2}[anchor]
        out.append((left, left + wide))
    return out


def test_labels_stay_inside_the_chart_and_apart():
    placed = spans(FORTNIGHT)
    assert all(left >= 0 and right <= len(FORTNIGHT) * SLOT for left, right in placed)
    assert all(a[1] + AXIS_GAP <= b[0] for a, b in zip(placed, placed[1:], strict=False))


def test_month_labels_are_kept_and_the_first_starts_at_the_edge():
    shown = {FORTNIGHT[i]: (x, anchor) for i, x, anchor in axis_labels(FORTNIGHT)}
    assert shown["11/19"] == (0, "start") and "12/1" in shown
    assert "20" not in shown, "the day after a month label would touch it"


def test_short_labels_all_fit():
    ticks = [str(day) for day in range(1, 15)]
    assert [i for i, _, _ in axis_labels(ticks)] == list(range(14))
