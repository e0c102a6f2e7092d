"""Web pages of the response capability: tasks, daily closures, the command dashboard, the daily report."""

from __future__ import annotations

from fastapi import APIRouter

from fangkong.core.permissions import Permission
from fangkong.response.views import closures, dashboard, reports, tasks

router = APIRouter()
# The routes are copied rather than included: FastAPI keeps an included router nested, and the
# authorization matrix walks a capability's own routes.
for _module in (dashboard, tasks, closures, reports):
    router.routes.extend(_module.router.routes)

# (permission, path, title): the command dashboard first, then the work and the day's closure.
NAV: list[tuple[Permission, str, str]] = [
    *getattr(dashboard, "NAV", []),
    *getattr(tasks, "NAV", []),
    *getattr(closures, "NAV", []),
]
