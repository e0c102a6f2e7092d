"""Test orders: worklists, the overdue, syncing orders from plans, a sample taken, a person's tests."""

from __future__ import annotations

import datetime as dt

from fastapi import Request

from fangkong.core import audit, clock
from fangkong.core.deps import SessionDep
from fangkong.testing import service
from fangkong.testing.api.common import (
    ItemId,
    Manager,
    PageNo,
    PageSize,
    QueryId,
    Reader,
    Sampler,
    _actor,
    instant,
    router,
)
from fangkong.testing.models import TestPlace
from fangkong.testing.schemas import HistoryItemPublic, OrderPage, OrderPublic, SampleCreate, SyncPublic


def _order_page(result: service.orders.OrderPage) -> OrderPage:
    return OrderPage(
        items=[OrderPublic.model_validate(o) for o in result.items],
        total=result.total,
        page=result.page,
        size=result.size,
    )


@router.get("/orders/worklist", response_model=OrderPage)
def worklist(
    principal: Reader,
    session: SessionDep,
    day: dt.date | None = None,
    place: TestPlace | None = None,
    community_id: QueryId = None,
    page: PageNo = 1,
    size: PageSize = 50,
) -> OrderPage:
    """The tests due on ``day`` (default today) in your jurisdiction, a community, or at one kind of place."""
    result = service.orders.worklist(
        session,
        principal,
        day or clock.today(),
        place=place,
        community_id=community_id,
        page=page,
        size=size,
    )
    return _order_page(result)


@router.get("/orders/overdue", response_model=OrderPage)
def overdue(
    principal: Reader,
    session: SessionDep,
    on: dt.date | None = None,
    community_id: QueryId = None,
    page: PageNo = 1,
    size: PageSize = 50,
) -> OrderPage:
    """Tests due before ``on`` (default today) that nobody sampled: they hold their people's release."""
    result = service.orders.overdue(
        session, principal, on=on, community_id=community_id, page=page, size=size
    )
    return _order_page(result)


@router.post("/orders/sync", response_model=SyncPublic)
def sync_orders(principal: Manager, session: SessionDep, request: Request) -> SyncPublic:
    """Make the orders in your jurisdiction agree with the plans as they stand now."""
    report = service.orders.sync_orders(session, principal.jpath)
    audit.record(
        session,
        _actor(principal, request),
        "testing.orders.sync",
        "testing_orders",
        principal.jpath,
        detail=vars(report),
        jpath=principal.jpath,
    )
    return SyncPublic.model_validate(report)


@router.post("/orders/{order_id}/sample", response_model=OrderPublic)
def record_sample(
    order_id: ItemId, body: SampleCreate, principal: Sampler, session: SessionDep
) -> OrderPublic:
    """The ordered test was taken in a single tube (sending the same tube again changes nothing)."""
    view = service.orders.record_sample(session, principal, order_id, body.barcode, at=instant(body.at, "at"))
    return OrderPublic.model_validate(view)


@router.get("/people/{person_id}/tests", response_model=list[HistoryItemPublic])
def history(person_id: ItemId, principal: Reader, session: SessionDep) -> list[HistoryItemPublic]:
    """Every test of a person, ordered by a plan or taken in a round, oldest first."""
    return [
        HistoryItemPublic.model_validate(item)
        for item in service.orders.history_of(session, principal, person_id)
    ]
