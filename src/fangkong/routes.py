"""Which routers the app serves: every capability's ``api`` and ``views`` are listed here once."""

from __future__ import annotations

import importlib

from fastapi import APIRouter, FastAPI

from fangkong.core.permissions import Permission

CAPABILITIES = (
    "core",
    "response",
    # Beside response: its pages join the Command group (teams, staff and supplies are the command's).
    "resources",
    "protocol",
    "tracing",
    "surveillance",
    "quarantine",
    "testing",
    "areas",
    "vaccination",
    "modeling",
    # The personal-data lifecycle: its pages join the Registry group (they are about the people in it).
    "privacy",
)


# Routers matched before all the others, as (module, name): the handhelds' scans, thousands of calls a
# second at a round's peak. FastAPI tries the routers in order, a regular expression per route, which
# costs the last route about 0.7 ms of CPU a call; no other route shares these paths.
FIRST = (("fangkong.testing.api.scanning", "handheld_router"),)


def routers() -> list[APIRouter]:
    """Every router of the app, in the order they are matched (the authorization test walks these)."""
    found: list[APIRouter] = [getattr(importlib.import_module(module), name) for module, name in FIRST]
    for capability in CAPABILITIES:
        for room in ("api", "views"):
            module = importlib.import_module(f"fangkong.{capability}.{room}")
            found.append(module.router)
    return found


# Capabilities with several pages show one entry in the top bar (this title) and their pages in a second
# row while the user is inside them; the others show their pages directly. The measures taken on the
# ground (quarantine sites, testing, risk areas) share one entry, so that the widest role's top bar (an
# administrator or the command centre, in English) still fits one line at 1366 px.
MEASURES_TITLE = "Measures"
COMMAND_TITLE = "Command"
GROUP_TITLES = {
    "response": COMMAND_TITLE,
    "resources": COMMAND_TITLE,
    "tracing": "Tracing",
    "surveillance": "Surveillance",
    "quarantine": MEASURES_TITLE,
    "testing": MEASURES_TITLE,
    "areas": MEASURES_TITLE,
    "vaccination": MEASURES_TITLE,
    "modeling": "Modelling",
}
# "Registry", not "Places and people": the Command group (issue 15) left no room for the longer title.
REGISTRY_TITLE = "Registry"
REGISTRY = (
    "/jurisdictions",
    "/people",
    "/people/import",
    # The personal-data lifecycle (privacy): retention, emergencies, duplicates, access with a reason.
    "/privacy",
    "/privacy/emergencies",
    "/privacy/merge",
    "/privacy/access",
    "/privacy/access/review",
)
ADMINISTRATION_TITLE = "Administration"


def navigation() -> list[tuple[str | None, list[tuple[Permission, str, str]]]]:
    """The navigation as (group title or None, entries) in capability order, administration last."""
    groups: list[tuple[str | None, list[tuple[Permission, str, str]]]] = []
    for capability in CAPABILITIES:
        module = importlib.import_module(f"fangkong.{capability}.views")
        entries = list(getattr(module, "NAV", []))
        title = GROUP_TITLES.get(capability)
        if title is None:
            groups.extend((None, [entry]) for entry in entries)
        elif entries and groups and groups[-1][0] == title:
            groups[-1][1].extend(entries)
        elif entries:
            groups.append((title, entries))
    from fangkong.core.views import ADMIN_NAV

    # The shared kernel's registry pages and the administration pages are grouped like a capability's,
    # so that the top bar of the widest role (an administrator, in English) fits one line at 1366 px.
    registry = [
        entry for title, entries in groups if title is None for entry in entries if entry[1] in REGISTRY
    ]
    groups = [
        (title, entries) for title, entries in groups if title is not None or entries[0][1] not in REGISTRY
    ]
    if registry:
        groups.insert(1, (REGISTRY_TITLE, registry))
    return [*groups, (ADMINISTRATION_TITLE, list(ADMIN_NAV))]


def include_all(app: FastAPI) -> None:
    for router in routers():
        app.include_router(router)
