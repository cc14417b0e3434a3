"""The citizens' incentive-service pages: air readings, hazard reports, shared parking."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
