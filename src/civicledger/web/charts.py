"""Charts drawn on the server as inline SVG: no script, no library, readable without colour.

Each bar carries its number as text beside it, and the figure has a title and a
text description, so a screen reader gets the same facts as the eye.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 170
BAR_WIDTH = 240
VALUE_WIDTH = 90


def bars(items: Sequence[tuple[str, int]], title: str) -> Markup:
    """A horizontal bar chart of (label, value) pairs; values are non-negative integers."""
    top = max((value for _, value in items), default=0) or 1
    height = len(items) * (BAR_HEIGHT + GAP)
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    rows = []
    for i, (label, value) in enumerate(items):
        y = i * (BAR_HEIGHT + GAP)
        length = max(0, value) * BAR_WIDTH // top
        rows.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT - 6}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}"></rect>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + BAR_HEIGHT - 6}">{value:,}</text>'
        )
    description = ", ".join(f"{label} {value:,}" for label, value in items)
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>'
        f"<desc>{escape(description)}</desc>{''.join(rows)}</svg>"
    )


COLUMN_AREA = 150
"""Height of the columns' drawing area."""
AXIS_LABEL = 18
LEGEND = 22
SLOT = 24
"""Width given to each label (a day), shared by its series' columns."""
AXIS_FONT = 12
"""The axis labels' font size (``svg.timeline`` in style.css), in the chart's units."""
CHAR_WIDTH = 0.65
"""A generous width of one axis character, in ems (digits are 0.55–0.64 em in common fonts)."""
AXIS_GAP = 4


def axis_labels(ticks: Sequence[str], slot: int = SLOT) -> list[tuple[int, int, str]]:
    """Where each axis label goes, as (slot, x, text-anchor), leaving out labels that would touch.

    A label sits centred under its slot, moved inwards at either end so that it stays inside the
    chart. Labels naming a month (``11/19``, ``12/1``) are placed first, then the others from the
    left, each only where it keeps ``AXIS_GAP`` from every label already placed.
    """
    width = len(ticks) * slot
    placed: list[tuple[int, float, float]] = []  # (slot, left, right)
    order = sorted(range(len(ticks)), key=lambda i: ("/" not in ticks[i], i))
    for i in order:
        wide = len(ticks[i]) * CHAR_WIDTH * AXIS_FONT
        left = min(max(0.0, i * slot + slot / 2 - wide / 2), width - wide)
        if all(left >= right + AXIS_GAP or left + wide + AXIS_GAP <= other for _, other, right in placed):
            placed.append((i, left, left + wide))
    out = []
    for i, left, right in sorted(placed):
        centre = i * slot + slot // 2
        if left <= 0:
            out.append((i, 0, "start"))
        elif right >= width:
            out.append((i, width, "end"))
        else:
            out.append((i, centre, "middle"))
    return out


def columns(labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], title: str,
            ticks: Sequence[str] | None = None) -> Markup:
    """Vertical columns over ``labels`` (e.g. days), one per series in each slot, with a legend;
    ``ticks``: shorter texts for the axis (the description keeps the full labels); where they
    would touch, some are left out (``axis_labels``).

    Series are told apart by pattern class (``series-0``, ``series-1``…) and by their order in
    each slot; the description lists every value, so nothing depends on seeing colour.
    """
    top = max((max(values, default=0) for _, values in series), default=0) or 1
    width = max(1, len(labels)) * SLOT
    height = LEGEND + COLUMN_AREA + AXIS_LABEL
    column = max(2, (SLOT - 6) // max(1, len(series)))
    parts = []
    for n, (name, _) in enumerate(series):
        x = 4 + n * 140
        parts.append(f'<rect class="series-{n}" x="{x}" y="4" width="12" height="12"></rect>'
                     f'<text x="{x + 16}" y="15">{escape(name)}</text>')
    for i, label in enumerate(labels):
        left = i * SLOT + 3
        for n, (_, values) in enumerate(series):
            value = max(0, values[i])
            tall = value * COLUMN_AREA // top
            x, y = left + n * column, LEGEND + COLUMN_AREA - tall
            parts.append(f'<rect class="series-{n}" x="{x}" y="{y}" width="{column - 1}" height="{tall}">'
                         f'<title>{escape(label)} {escape(series[n][0])} {value:,}</title></rect>')
    shown = list(labels) if ticks is None else list(ticks)
    for i, x, anchor in axis_labels(shown):
        parts.append(f'<text class="axis" x="{x}" y="{height - 4}" '
                     f'text-anchor="{anchor}">{escape(shown[i])}</text>')
    description = "; ".join(
        f"{name}: " + ", ".join(f"{label} {value:,}" for label, value in zip(labels, values, strict=True))
        for name, values in series)
    return Markup(
        f'<svg class="chart timeline" role="img" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>'
        f"<desc>{escape(description)}</desc>{''.join(parts)}</svg>"
    )
