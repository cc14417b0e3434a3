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
