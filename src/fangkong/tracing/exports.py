"""Excel exports of the line list, the contact list and the exposures, with masked personal data.

Exports never carry full ID numbers, phones or names (like the registry's own export); they stream with
openpyxl's write-only workbook and read the rows in id order by keyset, so a county's whole contact list
exports in one pass without deep offsets.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import as_local
from fangkong.core.i18n import render_text
from fangkong.core.scope import under
from fangkong.tracing import persons, service
from fangkong.tracing.models import Case, ChainLink, Contact, Exposure
from fangkong.tracing.spreadsheets import Language

ExportKind = Literal["cases", "contacts", "exposures"]
_BATCH = 1000

HEADERS: dict[ExportKind, list[tuple[str, str]]] = {
    "cases": [
        ("case_ref", "病例编号"),
        ("name", "姓名"),
        ("classification", "病例分类"),
        ("onset_date", "发病日期"),
        ("diagnosis_date", "确诊日期"),
        ("report_time", "报告时间"),
        ("imported", "是否输入"),
        ("outcome", "转归"),
        ("jurisdiction", "所属辖区"),
        ("infected_by", "传染来源病例"),
        ("contacts", "接触者数"),
        ("cluster", "聚集编号"),
        ("found_under_management", "管控中发现"),
    ],
    "contacts": [
        ("contact_id", "接触者编号"),
        ("name", "姓名"),
        ("case_ref", "病例编号"),
        ("category", "接触者类别"),
        ("reason", "判定依据"),
        ("setting", "接触场景"),
        ("last_exposure", "末次接触时间"),
        ("status", "状态"),
        ("plan_end", "管理期末日"),
        ("jurisdiction", "所属辖区"),
    ],
    "exposures": [
        ("case_ref", "病例编号"),
        ("name", "被暴露者"),
        ("setting", "接触场景"),
        ("start", "开始时间"),
        ("end", "结束时间"),
        ("protected", "是否防护"),
        ("place", "地点"),
        ("via_contact", "经由密接"),
    ],
}


M = TypeVar("M", Case, Contact, Exposure)


def _batches(session: Session, model: type[M], principal: Principal) -> Iterator[list[M]]:
    last = 0
    while True:
        rows = list(
            session.scalars(
                select(model)
                .where(under(model.jpath, principal.jpath), model.id > last)
                .order_by(model.id)
                .limit(_BATCH)
            )
        )
        if not rows:
            return
        yield rows
        last = rows[-1].id


def export_xlsx(
    session: Session, principal: Principal, kind: ExportKind, language: Language, *, ip: str = ""
) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(kind)
    sheet.append([zh if language == "zh" else en for en, zh in HEADERS[kind]])
    count = 0
    if kind == "cases":
        for batch in _batches(session, Case, principal):
            rows = service.case_rows(session, principal, batch)
            ids = [c.id for c in batch]
            refs: dict[int, list[str]] = {}
            for infectee, ref in session.execute(
                select(ChainLink.infectee_case_id, Case.case_ref)
                .join(Case, Case.id == ChainLink.infector_case_id)
                .where(ChainLink.infectee_case_id.in_(ids), under(Case.jpath, principal.jpath))
            ):
                refs.setdefault(infectee, []).append(ref)
            for r in rows:
                sheet.append(
                    [
                        r.case_ref,
                        r.label,
                        r.classification.value,
                        r.onset_date,
                        r.diagnosis_date,
                        r.reported_at,
                        "yes" if r.imported else "no",
                        r.outcome.value if r.outcome else "",
                        r.jurisdiction_name,
                        ";".join(refs.get(r.id, [])),
                        r.contacts,
                        r.cluster_id,
                        "yes" if r.found_under_management else "no",
                    ]
                )
            count += len(rows)
    elif kind == "contacts":
        for contacts in _batches(session, Contact, principal):
            for c in service.contact_rows(session, principal, contacts):
                sheet.append(
                    [
                        c.id,
                        c.label,
                        c.case_ref,
                        c.category.value,
                        render_text(c.reason, language),
                        c.setting or "",
                        c.last_exposure,
                        c.status.value,
                        c.plan_end,
                        c.jurisdiction_name,
                    ]
                )
                count += 1
    else:
        for exposures in _batches(session, Exposure, principal):
            names = persons.labels(session, principal, [e.subject_key for e in exposures])
            refs_of = dict(
                session.execute(
                    select(Case.id, Case.case_ref).where(Case.id.in_({e.case_id for e in exposures}))
                ).all()
            )
            for e in exposures:
                sheet.append(
                    [
                        refs_of.get(e.case_id, ""),
                        names.get(e.subject_key, "?"),
                        e.setting,
                        as_local(e.start),
                        as_local(e.end) if e.end else None,
                        "yes" if e.protected else "no",
                        e.place or "",
                        e.via_contact_id or "",
                    ]
                )
                count += 1
    audit.record(
        session,
        service.actor(principal, ip),
        f"{kind}.export",
        kind,
        "*",
        jpath=principal.jpath,
        detail={"rows": count, "format": "xlsx"},
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
