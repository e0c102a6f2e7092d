"""JSON routes of the response capability (/api/response/...): tasks and templates, daily closures,
the dashboard and accountability, the daily report; one module per use case, one router here."""

from __future__ import annotations

from fastapi import APIRouter

from fangkong.response.api import closures, dashboard, reports, tasks

router = APIRouter()
# The routes are copied rather than included: FastAPI keeps an included router nested, and the
# authorization matrix walks a capability's own routes.
for _module in (tasks, closures, dashboard, reports):
    router.routes.extend(_module.router.routes)
