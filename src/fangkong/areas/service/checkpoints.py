"""Checkpoints (卡口): staff at a station or on a road look a traveller up by ID number.

The answer is only what the checkpoint needs: the masked name (to see it is the person in front of
them), the category of their latest trip into the jurisdiction, the measure it asks today and the day
it runs to. Nothing else of the person (no phone, address, origin or registry record) leaves here, and
every look-up is audited, a miss included, in the caller's unit of work: a look-up never raises after
it has read, so the audit entry is never rolled back with an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.areas.models import Arrival
from fangkong.areas.service.arrivals import clean_text, measure_of, plan_for
from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.crypto import Vault
from fangkong.core.errors import Forbidden, InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.idnumber import InvalidIdNumber, mask_id_number, validate_id_number
from fangkong.core.permissions import Permission
from fangkong.core.scope import under
from fangkong.protocol.plan import ManagementPlan
from fangkong.protocol.service import plans_for_person

MAX_CHECKPOINT_NAME = 60


@dataclass(frozen=True)
class CheckpointAnswer:
    """Everything a checkpoint is told: found or not, masked name, category, measure, valid until."""

    found: bool
    name: str | None = None
    category: str | None = None
    measure: str | None = None
    valid_until: dt.date | None = None


def _plan_of(session: Session, arrival: Arrival) -> ManagementPlan | None:
    """The plan the trip gave (as re-planned since), read from the protocol capability."""
    if arrival.person_id is None:
        return plan_for(
            session, arrival.jpath, arrival.category.value, arrival.departed_on, arrival.arrived_on
        )
    source = f"arrival:{arrival.id}"
    # The trip is in the caller's scope; the person's registry home may lie elsewhere.
    for view in plans_for_person(session, "/", arrival.person_id):
        if view.source == source:
            return view.plan
    # No stored plan (the protocol capability is not listening): the plan the protocol gives the trip.
    return plan_for(session, arrival.jpath, arrival.category.value, arrival.departed_on, arrival.arrived_on)


def lookup(
    session: Session, vault: Vault, principal: Principal, id_number: str, *, checkpoint: str, ip: str
) -> CheckpointAnswer:
    """Look one traveller up by full ID number among the trips into the caller's jurisdiction."""
    if not principal.can(Permission.checkpoint_lookup):
        raise Forbidden(
            Message(
                "your role lacks the permission {permission}", permission=Permission.checkpoint_lookup.value
            )
        )
    errors: list[RowError] = []
    place = clean_text(checkpoint, MAX_CHECKPOINT_NAME)
    if isinstance(place, Message):
        errors.append(RowError(1, "checkpoint", place))
    elif not place:
        errors.append(RowError(1, "checkpoint", "is required"))
    number = ""
    if not isinstance(id_number, str) or not id_number.strip():
        errors.append(RowError(1, "id_number", "is required"))
    elif len(id_number) > 40:
        errors.append(RowError(1, "id_number", Message("longer than {limit} characters", limit=40)))
    else:
        try:
            number = validate_id_number(id_number).number
        except InvalidIdNumber as exc:
            errors.append(RowError(1, "id_number", exc.text))
    if errors:
        raise InvalidInput(errors)
    assert isinstance(place, str)
    arrival = session.scalar(
        select(Arrival)
        .where(Arrival.id_hash == vault.keyed_hash(number), under(Arrival.jpath, principal.jpath))
        .order_by(Arrival.departed_on.desc(), Arrival.id.desc())
        .limit(1)
    )
    answer = CheckpointAnswer(found=False)
    if arrival is not None:
        plan = _plan_of(session, arrival)
        answer = CheckpointAnswer(
            found=True,
            name=arrival.name_masked,
            category=arrival.category.value,
            measure=measure_of(plan, clock.today()),
            valid_until=plan.end_date if plan is not None else None,
        )
    audit.record(
        session,
        audit.Actor(principal.user_id, principal.username, (ip or "web")[:64]),
        "checkpoint.lookup",
        "arrival",
        arrival.id if arrival is not None else "-",
        jpath=arrival.jpath if arrival is not None else principal.jpath,
        detail={"checkpoint": place, "id_number": mask_id_number(number), "found": answer.found},
    )
    return answer
