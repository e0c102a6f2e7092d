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


# Capabilities with several pages show one entry in the top bar (this title) and their pages in a second
# row while the user is inside them; the others show their pages directly.
GROUP_TITLES = {"tracing": "Tracing", "surveillance": "Surveillance", "modeling": "Modelling"}


def navigation() -> list[tuple[str | None, list[tuple[Permission, str, str]]]]:
    """The navigation as (group title or None, entries) in capability order, administration last."""
    groups: list[tuple[str | None, list[tuple[Permission, str, str]]]] = []
    for capability in CAPABILITIES:
        module = importlib.import_module(f"fangkong.{capability}.views")
        entries = list(getattr(module, "NAV", []))
        title = GROUP_TITLES.get(capability)
        if title is None:
            groups.extend((None, [entry]) for entry in entries)
        elif entries:
            groups.append((title, entries))
    from fangkong.core.views import ADMIN_NAV

    return groups + [(None, [entry]) for entry in ADMIN_NAV]


def include_all(app: FastAPI) -> None:
    for router in routers():
        app.include_router(router)
