"""JSON routes of the testing capability: thin (parse, call the service, shape the answer)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/testing", tags=["testing"])
