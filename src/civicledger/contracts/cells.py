"""Coarse locations shared by the incentive services: a 500 m grid over the city.

A ``Cell`` is ``"RRRR-CCCC"``: the row and column of a 500 m square, never a
point, so the chain learns no address. Ten by ten cells make a ``Zone``
(``"RRR-CCC"``, 5 km): the unit datasets are sold in, hazards are listed in and
responsible departments are assigned to. Where the grid lies on the map is a
client's concern (``civicledger.web.geo``): contracts only compare labels.
"""

from __future__ import annotations

from typing import Annotated

from civicledger.core.schema import Text

GRID = 10_000
"""Rows and columns per side of the grid (0 … 9999)."""

Cell = Annotated[str, Text(9, r"[0-9]{4}-[0-9]{4}", low=9)]
"""A 500 m grid square, ``"RRRR-CCCC"``."""
Zone = Annotated[str, Text(7, r"[0-9]{3}-[0-9]{3}", low=7)]
"""A 5 km square of 10×10 cells, ``"RRR-CCC"``."""


def zone_of(cell: str) -> str:
    """The zone a cell lies in: ``"0412-1087"`` → ``"041-108"``."""
    return f"{cell[:3]}-{cell[5:8]}"


def neighbours(cell: str) -> list[str]:
    """The up to eight cells around ``cell``, in row then column order."""
    row, col = int(cell[:4]), int(cell[5:])
    return [
        f"{r:04d}-{c:04d}"
        for r in range(row - 1, row + 2)
        for c in range(col - 1, col + 2)
        if (r, c) != (row, col) and 0 <= r < GRID and 0 <= c < GRID
    ]
