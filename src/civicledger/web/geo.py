"""Where the 500 m grid lies on the map: a point's cell, for people placing a report.

Contracts know cells only as ``"RRRR-CCCC"`` labels (``contracts.cells``);
this is the grid's definition on the map, for clients. Row 0, column 0 is the square
whose south-west corner is at 35.8°N 120.9°E; a row is 500 m of latitude (111,320 m a
degree) and a column 500 m of longitude as long as it is at 37.5°N (88,316 m a degree),
Seoul's latitude. So Nowon district office lies in cell 0412-1087 and Gangseo district
office in 0389-1050, and a cell is the same whichever device computes it.

The portal's "use my location" button does this sum in the browser (``static/locate.js``,
with the same constants and the same operations, so both give the same cell): the
position never leaves the device, only the cell does.
"""

from __future__ import annotations

import math

from civicledger.contracts.cells import GRID

ORIGIN_LAT = 35.8
ORIGIN_LON = 120.9
ROWS_PER_DEGREE = 111_320 / 500
"""Cells per degree of latitude."""
COLS_PER_DEGREE = 88_316 / 500
"""Cells per degree of longitude (the degree's length at 37.5°N)."""


def cell_at(lat: float, lon: float) -> str | None:
    """The cell ``"RRRR-CCCC"`` holding the point, or None outside the grid."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    row = math.floor((lat - ORIGIN_LAT) * ROWS_PER_DEGREE)
    col = math.floor((lon - ORIGIN_LON) * COLS_PER_DEGREE)
    if not (0 <= row < GRID and 0 <= col < GRID):
        return None
    return f"{row:04d}-{col:04d}"
