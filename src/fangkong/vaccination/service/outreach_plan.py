"""Outreach planning and export: the ranking of communities by their unvaccinated elderly, with the
plan each gap calls for (mobile site, door to door, routine), and the worklist as an Excel workbook.
Split from ``service.outreach``, whose ``gaps`` and ``export_xlsx`` call these.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.i18n import Message, translations
from fangkong.core.models import Jurisdiction, Level
from fangkong.core.scope import path_in_scope, under
from fangkong.vaccination.models import StatusState, VaccinationStatus
from fangkong.vaccination.rules import outreach as rules
from fangkong.vaccination.service.outreach import iter_worklist, page_args


@dataclass(frozen=True)
class GapRow:
    jurisdiction_id: int
    code: str
    name: str
    gap: rules.CommunityGap
    share: float | None
    plans: list[rules.Plan]


@dataclass(frozen=True)
class GapPage:
    items: list[GapRow]
    total: int
    page: int
    size: int
    unvaccinated_60: int
    unvaccinated_80: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


EXPORT_COLUMNS = (
    "Community",
    "Name",
    "Sex",
    "Age",
    "Status",
    "Next dose",
    "Due on",
    "Attempts",
    "Last contact",
    "Method",
    "Outcome",
    "Appointment",
    "Next reminder",
)


def export_xlsx(
    session: Session,
    principal: Principal,
    *,
    jpath: str | None = None,
    min_age: int = rules.MIN_AGE,
    language: str = "zh",
) -> bytes:
    """The worklist as an Excel workbook (masked names; XlsxWriter in constant memory, one row at a
    time, so a county's list costs no more memory than a community's)."""
    words = translations(language)

    def word(key: str | None) -> str:
        return words.pgettext("outreach", key) if key else ""

    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"constant_memory": True})
    sheet = book.add_worksheet(Message("Outreach").render(language)[:31])
    bold = book.add_format({"bold": True})
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for col, title in enumerate(EXPORT_COLUMNS):
        sheet.write(0, col, Message(title).render(language), bold)
    sheet.set_column(0, 0, 16)
    sheet.set_column(4, 12, 12)
    count = 0
    for count, item in enumerate(iter_worklist(session, principal, jpath=jpath, min_age=min_age), start=1):
        cells: list[Any] = [
            item.community,
            item.name,
            item.sex,
            item.age,
            word(item.state.value),
            word(item.next_kind),
            item.due_on,
            item.attempts,
            item.last_on,
            word(item.last_method.value if item.last_method else None),
            word(item.last_outcome.value if item.last_outcome else None),
            item.appointment_on,
            item.next_reminder,
        ]
        for col, value in enumerate(cells):
            if isinstance(value, dt.date):
                sheet.write_datetime(count, col, dt.datetime.combine(value, dt.time.min), dates)
            elif value is None:
                sheet.write_blank(count, col, None)
            else:
                sheet.write(count, col, value)
    book.close()
    audit.record(
        session,
        audit.Actor(principal.user_id, principal.username, "web"),
        "outreach.export",
        "jurisdiction",
        jpath or principal.jpath,
        jpath=jpath or principal.jpath,
        detail={"rows": count},
    )
    return output.getvalue()


def gaps(
    session: Session,
    principal: Principal,
    jpath: str | None = None,
    *,
    page: int = 1,
    size: int = 50,
) -> GapPage:
    """Communities in scope ranked by unvaccinated people aged 60+ (then 80+), each with the plan its
    gap calls for (mobile site, door to door, routine)."""
    page, size = page_args(page, size)
    path = jpath if jpath is not None and path_in_scope(jpath, principal.jpath) else principal.jpath
    today = clock.today()
    born_60 = rules.born_on_or_before(today, rules.MIN_AGE)
    born_80 = rules.born_on_or_before(today, rules.OLDEST_AGE)
    lead = today + dt.timedelta(days=rules.REMINDER_LEAD_DAYS)
    open_ = VaccinationStatus.contraindication.is_(None)
    unvaccinated = and_(open_, VaccinationStatus.state == StatusState.unvaccinated)
    due = and_(
        open_,
        VaccinationStatus.state != StatusState.unvaccinated,
        VaccinationStatus.due_on.is_not(None),
        VaccinationStatus.due_on <= lead,
    )

    def counted(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    counts = session.execute(
        select(
            VaccinationStatus.jpath,
            func.count(),
            counted(unvaccinated),
            counted(and_(unvaccinated, VaccinationStatus.birth_date <= born_80)),
            counted(due),
        )
        .where(under(VaccinationStatus.jpath, path), VaccinationStatus.birth_date <= born_60)
        .group_by(VaccinationStatus.jpath)
    ).all()
    by_path = {p: rules.CommunityGap(int(n), int(u), int(u80), int(d)) for p, n, u, u80, d in counts}
    places = session.execute(
        select(Jurisdiction.id, Jurisdiction.code, Jurisdiction.name, Jurisdiction.path).where(
            under(Jurisdiction.path, path), Jurisdiction.level == Level.community
        )
    ).all()
    rows = [
        GapRow(jid, code, name, gap, rules.unvaccinated_share(gap), rules.plans_for(gap))
        for jid, code, name, p in places
        if (gap := by_path.get(p)) is not None
    ]
    rows.sort(key=lambda r: (-r.gap.unvaccinated_60, -r.gap.unvaccinated_80, r.code))
    start = (page - 1) * size
    return GapPage(
        rows[start : start + size],
        len(rows),
        page,
        size,
        sum(r.gap.unvaccinated_60 for r in rows),
        sum(r.gap.unvaccinated_80 for r in rows),
    )
