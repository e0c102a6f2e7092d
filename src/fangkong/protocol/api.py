"""JSON routes of the protocol capability."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["protocol"])
