"""Web pages of the areas capability, and the public risk-area page and arrival form (no login)."""

from __future__ import annotations

from fastapi import APIRouter

from fangkong.core.permissions import Permission

router = APIRouter(include_in_schema=False)
# (permission, url, message id) entries this capability adds to the main navigation.
NAV: list[tuple[Permission, str, str]] = []
