"""JSON routes of the modeling capability."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["modeling"])
