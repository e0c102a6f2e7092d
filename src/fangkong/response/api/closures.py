"""JSON routes of the response capability: closures."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
