"""The protocol in force for a jurisdiction, as tracing needs it.

The protocol capability owns the choice; until its service exists (``protocol_in_force``), the built-in
default (cn-9) is used everywhere, which is what an administrator who has chosen nothing gets.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from fangkong.protocol.classifier import IndexCase
from fangkong.protocol.loader import DEFAULT_PROTOCOL_ID, load_builtin
from fangkong.protocol.plan import ManagementPlan, PlanError, PlanFacts, compute_plan
from fangkong.protocol.schema import Protocol


def _service_lookup() -> Callable[[Session, str], Protocol] | None:
    try:
        module = importlib.import_module("fangkong.protocol.service")
    except ImportError:
        return None
    found: Any = getattr(module, "protocol_in_force", None)
    return found if callable(found) else None


def protocol_for(session: Session, jpath: str) -> Protocol:
    """The protocol in force where ``jpath`` lies."""
    lookup = _service_lookup()
    if lookup is not None:
        return lookup(session, jpath)
    return load_builtin(DEFAULT_PROTOCOL_ID)


def plan_for(protocol: Protocol, category: str, last_exposure: dt.date) -> ManagementPlan | None:
    """A contact's plan, computed with the pure plan engine (the protocol capability stores the real one)."""
    if category not in protocol.categories:
        return None
    try:
        return compute_plan(protocol, category, PlanFacts(last_exposure=last_exposure))
    except PlanError:
        return None


def days_before_onset(protocol: Protocol) -> int:
    """How long before onset an index case counts as infectious for contact tracing (cn-9: 4 days)."""
    window = protocol.contact_tracing.window
    return window.days_before_onset if window is not None else 4


def index_case(
    case_id: int, onset: dt.date | None, sampling: dt.date | None, isolated_at: dt.datetime | None
) -> IndexCase:
    return IndexCase(case_id=str(case_id), isolated_at=isolated_at, onset=onset, sampling=sampling)
