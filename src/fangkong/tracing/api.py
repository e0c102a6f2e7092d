"""JSON routes of the tracing capability."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["tracing"])
