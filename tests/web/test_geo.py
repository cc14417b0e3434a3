"""The grid on the map: the district offices fall in the demo's zones, the edges are exact,
and nothing outside the grid (or not a number) gets a cell."""

from __future__ import annotations

import math

from civicledger.cli.demo_incentives import GANGSEO_ZONE, NOWON_ZONE
from civicledger.contracts.cells import zone_of
from civicledger.web.geo import ORIGIN_LAT, ORIGIN_LON, cell_at


def test_the_district_offices_lie_in_the_demo_zones_named_after_them() -> None:
    assert cell_at(37.6543, 127.0565) == "0412-1087"
    assert zone_of(cell_at(37.6543, 127.0565) or "") == NOWON_ZONE
    assert zone_of(cell_at(37.5509, 126.8497) or "") == GANGSEO_ZONE


def test_a_cell_is_500_m_a_side() -> None:
    row_step, col_step = 500 / 111_320, 500 / 88_316  # degrees
    lat, lon = ORIGIN_LAT + 800.5 * row_step, ORIGIN_LON + 1200.5 * col_step
    assert cell_at(lat, lon) == "0800-1200"
    assert cell_at(lat + row_step, lon) == "0801-1200"
    assert cell_at(lat, lon - col_step) == "0800-1199"


def test_the_grid_has_edges() -> None:
    assert cell_at(ORIGIN_LAT, ORIGIN_LON) == "0000-0000"
    for outside in ((ORIGIN_LAT - 1e-9, ORIGIN_LON), (ORIGIN_LAT, ORIGIN_LON - 1e-9),
                    (80.72, 127.0), (37.5, 240.0)):  # 10,000 rows end at 80.7157°N
        assert cell_at(*outside) is None, outside
    for odd in (math.nan, math.inf, -math.inf):
        assert cell_at(odd, 127.0) is None and cell_at(37.5, odd) is None
