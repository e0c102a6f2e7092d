"""Web pages of the resources capability, Chinese first: staff and their certifications, teams with
readiness, deployments (支援), supplies with days of stock left and reorder alerts, training (courses,
sessions, exams, exercises, the renewal worklist) and the duty roster (排班).

The package holds one module per group of pages; this module is its public face (``fangkong.routes``
includes ``router``, the navigation reads ``NAV``):

- :mod:`.pages`: the staff, teams, deployments and supplies pages;
- :mod:`.forms`: the forms those pages post;
- :mod:`.training`: courses, sessions and their results, exercises, the renewal worklist and its export;
- :mod:`.roster`: the duty roster's week, its lines, its import and its download;
- :mod:`.common`: the permissions as dependencies, the labels, the reader's own jurisdiction code.
"""

from __future__ import annotations

from fastapi import APIRouter

from fangkong.core.permissions import Permission
from fangkong.resources.views import forms, pages, roster, training
from fangkong.resources.views.common import LABELS, SKILL_LABELS

router = APIRouter(include_in_schema=False)
# The routes in the order they are matched. They are copied rather than included because FastAPI keeps an
# included router nested, and the authorization matrix walks a capability's own routes (as
# ``areas.views`` does).
for _module in (pages, forms, training, roster):
    router.routes.extend(_module.router.routes)

# (permission, url, message id) entries this capability adds to the main navigation.
NAV: list[tuple[Permission, str, str]] = [
    (Permission.resources_read, "/resources/teams", "Teams"),
    (Permission.resources_read, "/resources/staff", "Staff"),
    (Permission.resources_read, "/resources/deployments", "Deployments"),
    (Permission.resources_read, "/resources/supplies", "Supplies"),
    (Permission.resources_read, "/resources/roster", "Duty roster"),
    (Permission.resources_read, "/resources/training", "Training"),
]

__all__ = ["LABELS", "NAV", "SKILL_LABELS", "router"]
