"""Web pages of the areas capability, and the public risk-area page, feed, subscription and arrival form.

Staff pages (Chinese first): the area list with its tile view, the proposals the command centre
approves (level, unit and name adjustable), the lifting calendar with each change due and what blocks
it, an area's timeline, the arrivals worklist per community, the checkpoint look-up, the doorstep
board and the vulnerable residents of a sealed area. They only shape what ``areas.service`` returns.

Public pages take no login and show no personal data. The risk-area page and its JSON feeds are
``async`` routes that read only the process's snapshot (``service.public``): no database query and no
worker thread per view, 304 by ETag. The arrival form (报备), its JSON API and the subscription to one
district are refused before anything is read when they come from another site's page (the Origin and
Fetch-Metadata headers a browser sends), when the address is past its allowance (the services' limits),
or when the body is larger than a form can be; only then does a plain-``def`` route touch the database.
A public answer holds only what the submission itself says.

The package holds one module per page or group of pages; this module is its public face (the app
includes ``router``, the navigation reads ``NAV``):

- :mod:`.designation`: the area list, the proposals, the lifting calendar;
- :mod:`.arrivals`: the arrivals worklist and the checkpoint look-up;
- :mod:`.doorstep`: the doorstep board and its requests;
- :mod:`.area`: one area's page and its vulnerable residents;
- :mod:`.public`: the public risk-area page and its feeds;
- :mod:`.public_arrivals`: the public arrival form and API;
- :mod:`.subscriptions`: following one district by e-mail;
- :mod:`.submissions`: the checks a public submission passes before the database;
- :mod:`.places`: the places the public forms offer;
- :mod:`.common`: the staff pages' permissions, page number and level colours.
"""

from __future__ import annotations

from fastapi import APIRouter

from fangkong.areas.views import (
    area,
    arrivals,
    designation,
    doorstep,
    public,
    public_arrivals,
    subscriptions,
)
from fangkong.areas.views.places import PLACES
from fangkong.areas.views.submissions import MAX_PUBLIC_BODY
from fangkong.core.permissions import Permission

router = APIRouter(include_in_schema=False)
# The page groups' routes in the order they are matched: one area's pages (``/areas/{area_id}``) after
# every other page under ``/areas/`` (calendar, arrivals, checkpoint, doorstep...). They are copied rather
# than included because FastAPI keeps an included router nested, and the authorization matrix walks a
# capability's own routes (as ``tracing.views`` does).
for _module in (designation, arrivals, doorstep, area, public, public_arrivals, subscriptions):
    router.routes.extend(_module.router.routes)

# (permission, url, message id) entries this capability adds to the main navigation: three, so that the
# widest role's top bar stays one line. Proposals, the calendar and the checkpoint are linked from these.
NAV: list[tuple[Permission, str, str]] = [
    (Permission.areas_read, "/areas", "Risk areas"),
    (Permission.arrivals_manage, "/areas/arrivals", "Arrival registrations"),
    (Permission.doorstep_manage, "/areas/doorstep", "Doorstep services"),
]

__all__ = ["MAX_PUBLIC_BODY", "NAV", "PLACES", "router"]
