"""A person's test history."""

from __future__ import annotations

import json
from collections.abc import Sequence

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.deps import RowId, SessionDep
from fangkong.core.errors import NotFound
from fangkong.core.i18n import Message
from fangkong.core.models import Person
from fangkong.testing.models import LabResult
from fangkong.testing.service import orders, recall
from fangkong.testing.views.common import Reader, _can, router
from fangkong.web.templating import render


@router.get("/testing/people/{person_id}", response_class=HTMLResponse)
def history_page(request: Request, person_id: RowId, principal: Reader, session: SessionDep) -> Response:
    items = orders.history_of(session, principal, person_id)
    person = session.get(Person, person_id)
    if person is None:  # history_of has checked it exists in scope
        raise NotFound(Message("person {id} not found", id=person_id))
    ct = _ct_by_barcode(session, [i.barcode for i in items if i.barcode])
    return render(
        request,
        "testing/history.html",
        {
            "person": person,
            "items": items,
            "ct": ct,
            "recalls": [r for r in recall.recall_list(session, principal) if r.person_id == person_id],
            "now": clock.utcnow(),
            **_can(principal),
        },
        principal=principal,
    )


def _ct_by_barcode(session: Session, barcodes: Sequence[str]) -> dict[str, dict[str, float]]:
    """The Ct values of each tube's latest result version."""
    if not barcodes:
        return {}
    found: dict[str, tuple[int, dict[str, float]]] = {}
    for barcode, version, values in session.execute(
        select(LabResult.barcode, LabResult.version, LabResult.ct_values).where(
            LabResult.barcode.in_(list(barcodes))
        )
    ):
        if barcode not in found or version > found[barcode][0]:
            try:
                parsed = {str(k): float(v) for k, v in json.loads(values or "{}").items()}
            except (ValueError, AttributeError):
                parsed = {}
            found[barcode] = (version, parsed)
    return {barcode: values for barcode, (_v, values) in found.items()}
