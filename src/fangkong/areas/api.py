"""JSON routes of the areas capability: thin (parse, call the service, shape the answer)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/areas", tags=["areas"])
