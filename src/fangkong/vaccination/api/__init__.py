"""JSON routes of the vaccination capability (/api/vaccination/...): doses and their import, coverage,
outreach, adverse events; one module per use case, one router here."""

from __future__ import annotations

from fastapi import APIRouter

from fangkong.vaccination.api import aefi, coverage, doses, outreach

router = APIRouter()
# The routes are copied rather than included: FastAPI keeps an included router nested, and the
# authorization matrix walks a capability's own routes.
for _module in (doses, coverage, outreach, aefi):
    router.routes.extend(_module.router.routes)
