"""Who acts in a drill and what it can reach.

The drill acts for itself through its own account (:func:`drill_principal`), every audit entry names
who acted (``_actor``), and the drill feeds only the capabilities that have landed
(:func:`capability_available`).
"""

from __future__ import annotations

import importlib.util

from sqlalchemy.orm import Session

from fangkong.core import audit, jurisdictions
from fangkong.core.auth import Principal, principal_for
from fangkong.core.errors import NotFound
from fangkong.core.models import Jurisdiction, Role
from fangkong.modeling.models import Drill


def capability_available(module: str) -> bool:
    """Whether another capability's service has landed (the score grows as they do)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _actor(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "drill")


def drill_principal(session: Session, drill: Drill) -> Principal:
    """The drill acting for itself: its own account (``drill:<id>``), scoped to its sandbox only.

    What the drill feeds, and the reads its score makes, go through the same use cases a user calls,
    as this principal: its records and audit entries name the drill, and it can reach nothing real.
    The account is made with the drill (or on first use, for a drill started before accounts existed).
    """
    township = session.get(Jurisdiction, drill.sandbox_id)
    if township is None or not township.is_sandbox:
        raise NotFound(f"the sandbox of drill {drill.id} no longer exists")
    user = jurisdictions.sandbox_actor(
        session, township, f"{jurisdictions.DRILL_ACTOR_PREFIX}{drill.id}", Role.command_centre
    )
    return principal_for(session, user, "drill")
