"""Operators' consoles: service flows and budgets, report review, currencies, roles, proposals."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
