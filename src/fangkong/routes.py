"""Which routers the app serves: every capability's ``api`` and ``views`` are listed here once."""

from __future__ import annotations

import importlib

from fastapi import APIRouter, FastAPI

from fangkong.core.permissions import Permission

CAPABILITIES = ("core", "protocol", "tracing", "surveillance", "modeling")


def routers() -> list[APIRouter]:
    """Every router of the app, in the order they are matched (the authorization test walks these)."""
    found: list[APIRouter] = []
    for capability in CAPABILITIES:
        for room in ("api", "views"):
            module = importlib.import_module(f"fangkong.{capability}.{room}")
            found.append(module.router)
    return found


def navigation() -> list[tuple[Permission, str, str]]:
    """The main navigation: each capability's ``views.NAV`` entries, in capability order."""
    entries: list[tuple[Permission, str, str]] = []
    for capability in CAPABILITIES:
        module = importlib.import_module(f"fangkong.{capability}.views")
        entries.extend(getattr(module, "NAV", []))
    from fangkong.core.views import ADMIN_NAV

    return entries + ADMIN_NAV


def include_all(app: FastAPI) -> None:
    for router in routers():
        app.include_router(router)
