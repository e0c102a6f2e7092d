"""JSON routes of the response capability: tasks."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
