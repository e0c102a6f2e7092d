"""Web pages of the vaccination capability: coverage, the outreach worklist, doses and their import,
adverse events."""

from __future__ import annotations

from fastapi import APIRouter

from fangkong.core.permissions import Permission
from fangkong.vaccination.views import aefi, coverage, doses, outreach

router = APIRouter()
# The routes are copied rather than included: FastAPI keeps an included router nested, and the
# authorization matrix walks a capability's own routes.
for _module in (coverage, outreach, doses, aefi):
    router.routes.extend(_module.router.routes)

# (permission, path, title): coverage first, then the community's work, the doses, adverse events.
NAV: list[tuple[Permission, str, str]] = [
    *coverage.NAV,
    *outreach.NAV,
    *doses.NAV,
    *aefi.NAV,
]
