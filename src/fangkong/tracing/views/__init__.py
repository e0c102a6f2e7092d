"""Web pages of the tracing capability: cases, contacts, chains and clusters, assist requests, import.

Lists are paged and filtered on the server; the line-list entry on a case page posts one exposure at a
time with htmx and redraws only the contact table, so entry keeps pace with a phone call. One module per
page group; this package is their public face (``router`` and ``NAV``).
"""

from __future__ import annotations

from fastapi import APIRouter

from fangkong.core.permissions import Permission
from fangkong.tracing.views import assist, cases, clusters, contacts, importing, overview

__all__ = ["NAV", "router"]

router = APIRouter(include_in_schema=False)
# The page groups' routes in the order they are matched. They are copied rather than included because
# FastAPI keeps an included router nested, and the authorization matrix walks a capability's own routes.
for _module in (overview, cases, contacts, clusters, assist, importing):
    router.routes.extend(_module.router.routes)

NAV: list[tuple[Permission, str, str]] = [
    (Permission.cases_read, "/tracing", "Tracing"),
    (Permission.cases_read, "/tracing/cases", "Cases"),
    (Permission.cases_read, "/tracing/contacts", "Contacts"),
    (Permission.assist_manage, "/tracing/assist", "Assist requests"),
]
