"""Builders of the order, result and recall tests that a subprocess can import too (no pytest, no conftest):
testing's order handlers on a bus, tubes inserted directly, and a snapshot of what the testing tables say.

``testing_support`` re-exports them for the in-process tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.events import (
    EventBus,
    PeoplePlacedUnderManagement,
    PersonPlacedUnderManagement,
    PersonReleasedFromManagement,
)
from fangkong.core.models import Person
from fangkong.protocol.models import ManagementPlanRecord
from fangkong.testing.models import LabResult, Recall, TestOrder, Tube, TubeKind, TubeMember
from fangkong.testing.service import orders
from fangkong.tracing.models import Case


def with_order_handlers(bus: EventBus) -> EventBus:
    """``bus`` with testing's order handlers subscribed where ``wiring`` does not list them yet."""
    for kind, handler in (
        (PersonPlacedUnderManagement, orders.orders_for_placements),
        (PeoplePlacedUnderManagement, orders.orders_for_placements),
        (PersonReleasedFromManagement, orders.orders_for_release),
    ):
        if handler not in bus.handlers_for(kind):
            bus.subscribe(kind, handler)
    return bus


def insert_tube(
    session: Session,
    barcode: str,
    person_ids: Sequence[int],
    scanned_at: dt.datetime,
    pool_size: int = 10,
    kind: TubeKind = TubeKind.pooled,
    device: str = "handheld-1",
    first_seq: int = 1,
) -> Tube:
    """A tube holding these people's samples (none: an empty tube), as the scanner would bind them."""
    paths = {p.id: p.jpath for p in session.scalars(select(Person).where(Person.id.in_(person_ids)))}
    tube = Tube(
        barcode=barcode,
        jpath=paths[person_ids[0]] if person_ids else "/330000/",
        kind=kind,
        pool_size=pool_size,
        members=len(person_ids),
        opened_at=scanned_at,
    )
    session.add(tube)
    session.flush()
    for seq, person_id in enumerate(person_ids, start=first_seq):
        session.add(
            TubeMember(
                tube_id=tube.id,
                person_id=person_id,
                jpath=paths[person_id],
                device_id=device,
                device_seq=seq,
                scanned_at=scanned_at,
            )
        )
    session.flush()
    return tube


def state_snapshot(session: Session) -> dict[str, object]:
    """What the testing tables, the plans they made and the cases they opened say, by natural keys."""
    barcode_of: dict[int, str] = {t.id: t.barcode for t in session.scalars(select(Tube))}
    # A recall's id is a surrogate (PostgreSQL's sequences skip the ids of rolled-back rows): sources that
    # name one are compared by the recall's natural key, its pool and member.
    recalls = {
        f"recall:{r.id}": f"recall:{barcode_of[r.tube_id]}/{r.person_id}"
        for r in session.scalars(select(Recall))
    }

    def source(name: str) -> str:
        return recalls.get(name, name)

    return {
        "results": sorted(
            (r.barcode, r.version, r.result.value, r.digest, r.min_ct)
            for r in session.scalars(select(LabResult))
        ),
        "tubes": sorted(
            (t.barcode, t.result.value if t.result else "", t.result_version, str(t.resulted_at))
            for t in session.scalars(select(Tube))
        ),
        "orders": sorted(
            (o.person_id, source(o.source), o.plan_day, o.state.value, o.result.value if o.result else "")
            for o in session.scalars(select(TestOrder))
        ),
        "recalls": sorted(
            (barcode_of[r.tube_id], r.person_id, r.state.value, str(r.deadline_at))
            for r in session.scalars(select(Recall))
        ),
        "plans": sorted(
            (p.person_id, source(p.source), p.category, str(p.clock_date))
            for p in session.scalars(select(ManagementPlanRecord))
        ),
        "cases": sorted((c.subject_key, str(c.sampling_date)) for c in session.scalars(select(Case))),
    }
