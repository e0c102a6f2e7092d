"""Web pages of the response capability: tasks, daily closures, the command dashboard, the daily report."""

from __future__ import annotations

from fastapi import APIRouter

from fangkong.core.permissions import Permission
from fangkong.response.views import closures, dashboard, reports, tasks

router = APIRouter()
for _module in (dashboard, tasks, closures, reports):
    router.include_router(_module.router)

# (permission, path, title): the command dashboard first, then the work and the day's closure.
NAV: list[tuple[Permission, str, str]] = [
    *getattr(dashboard, "NAV", []),
    *getattr(tasks, "NAV", []),
    *getattr(closures, "NAV", []),
]
