"""Recalls of positive pools: the members, located, retested, and the time to locate them."""

from __future__ import annotations

from fangkong.core.deps import BusDep, SessionDep
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.testing import service
from fangkong.testing.api.common import ItemId, QueryId, Reader, Sampler, instant, router
from fangkong.testing.models import RecallState
from fangkong.testing.schemas import LocatedCreate, RecallPublic, RecallTimingPublic, RetestCreate


def _recall(view: service.recall.RecallView) -> RecallPublic:
    return RecallPublic.model_validate({**vars(view), "late": view.late})


@router.get("/recalls", response_model=list[RecallPublic])
def recalls(
    principal: Reader, session: SessionDep, tube_id: QueryId = None, state: RecallState | None = None
) -> list[RecallPublic]:
    """Members of positive pools to locate and retest, soonest deadline first."""
    return [_recall(v) for v in service.recall.recall_list(session, principal, tube_id=tube_id, state=state)]


@router.post("/recalls/{recall_id}/located", response_model=RecallPublic)
def mark_located(
    recall_id: ItemId, body: LocatedCreate, principal: Sampler, session: SessionDep, bus: BusDep
) -> RecallPublic:
    """A community worker found the member and isolated them (marking it again changes nothing)."""
    view = service.recall.mark_located(session, bus, principal, recall_id, at=instant(body.at, "at"))
    return _recall(view)


@router.post("/recalls/{recall_id}/retest", response_model=RecallPublic)
def record_retest(
    recall_id: ItemId, body: RetestCreate, principal: Sampler, session: SessionDep, bus: BusDep
) -> RecallPublic:
    """The member's single-tube retest was taken; a result read on the spot may come with it (a
    positive opens a case in tracing)."""
    for gene, value in body.ct_values.items():
        if not 0 < value <= service.results.MAX_CT:
            raise InvalidInput(
                [
                    RowError(
                        1,
                        "ct_values",
                        Message("Ct {value} of {gene} is out of range", value=value, gene=gene),
                    )
                ]
            )
    view = service.recall.record_retest(
        session,
        principal,
        recall_id,
        body.barcode,
        at=instant(body.at, "at"),
        result=body.result,
        ct_values=body.ct_values,
        tested_at=instant(body.tested_at, "tested_at"),
        bus=bus,
    )
    return _recall(view)


@router.get("/tubes/{tube_id}/recall-timing", response_model=RecallTimingPublic)
def recall_timing(tube_id: ItemId, principal: Reader, session: SessionDep) -> RecallTimingPublic:
    """How long from the pool's positive result until every member was located."""
    timing = service.recall.recall_timing(session, principal, tube_id)
    return RecallTimingPublic.model_validate(
        {
            **vars(timing),
            "hours_to_all_located": timing.hours_to_all_located,
            "within_deadline": timing.within_deadline,
        }
    )
