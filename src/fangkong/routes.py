"""Which routers the app serves: every capability's ``api`` and ``views`` are listed here once."""

from __future__ import annotations

from fastapi import FastAPI


def include_all(app: FastAPI) -> None:
    from fangkong.core import api as core_api
    from fangkong.core import views as core_views

    for router in (core_api.router, core_views.router):
        app.include_router(router)
