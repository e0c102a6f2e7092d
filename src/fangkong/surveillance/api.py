"""JSON routes of the surveillance capability."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["surveillance"])
