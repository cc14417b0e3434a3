"""The volunteering pages: citizens browse, apply and spend; organisations run their requests."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
