"""Web pages of the response capability: dashboard."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
