"""JSON routes of the response capability: reports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
