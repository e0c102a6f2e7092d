"""The demo's open quarantine sites get their staff posted, so their pages and the dashboard are not
empty on first run: for each open site, the minimum its size needs (``quarantine.rules.staffing``) from
new staff of its county (a lead, doctors and nurses of the county hospital certified for clinical
care, guards, and cleaners certified for disinfection). Rows are written in one batch per table,
without an audit entry per person (the demo's seed, not anyone's act)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.bulk import write_rows
from fangkong.core.models import Jurisdiction
from fangkong.resources import rules
from fangkong.resources.models import (
    Certification,
    PostedSiteKind,
    Posting,
    PostingRole,
    Skill,
    Staff,
    StaffSkill,
)
from fangkong.resources.rules.postings import ROLE_SKILL

UNITS = {
    PostingRole.lead: "街道办事处",
    PostingRole.medical: "区人民医院",
    PostingRole.security: "区公安分局",
    PostingRole.cleaning: "物业保洁公司",
    PostingRole.support: "街道办事处",
}
SURNAMES = "钱孙周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华"
GIVEN = "春夏秋冬文武安宁康健明亮东南西北"


def _name(i: int) -> str:
    return (
        SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + GIVEN[(i * 3) % len(GIVEN)]
    )


def seed(session: Session, county_codes: list[str]) -> int:
    """Post the minimum staff to every open quarantine site of the counties; returns how many were posted."""
    from fangkong.quarantine.rules.staffing import minimum_staff
    from fangkong.quarantine.service import staffing

    now, today = clock.utcnow(), clock.today()
    counties = session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(county_codes))).all()
    plan: list[tuple[int, str, str, PostingRole]] = []  # (site id, site name, site path, role)
    county_of: dict[str, Jurisdiction] = {}
    for county in counties:
        for site in staffing.open_sites(session, county.path):
            county_of[site.jpath] = county
            for role, n in minimum_staff(site.beds).items():
                plan += [(site.id, site.name, site.jpath, PostingRole(role))] * n
    if not plan:
        return 0
    people = [
        Staff(
            jurisdiction_id=county_of[path].id, jpath=county_of[path].path, name=_name(i),
            unit=f"{county_of[path].name}{UNITS[role]}", available=True, created_at=now,
        )
        for i, (_site, _name_, path, role) in enumerate(plan)
    ]  # fmt: skip
    session.add_all(people)
    session.flush()
    passed = today - dt.timedelta(days=60)
    skills, certs = [], []
    for person, (*_where, role) in zip(people, plan, strict=True):
        skill: Skill | None = ROLE_SKILL.get(role)
        if skill is None:
            continue
        skills.append(StaffSkill(staff_id=person.id, skill=skill))
        certs.append(
            Certification(
                staff_id=person.id, jpath=person.jpath, skill=skill, passed_on=passed,
                expires_on=passed + dt.timedelta(days=rules.CERTIFICATION_VALID_DAYS - 1), source="demo",
                created_at=now,
            )
        )  # fmt: skip
    session.add_all(skills)
    session.add_all(certs)
    columns = ("staff_id", "site_kind", "site_id", "site_name", "jpath", "role", "starts_at", "posted_by",
               "created_at")  # fmt: skip
    rows = [
        (person.id, PostedSiteKind.quarantine_site.value, site, name, path, role.value, now, "demo", now)
        for person, (site, name, path, role) in zip(people, plan, strict=True)
    ]
    write_rows(session, Posting.__table__, columns, rows)  # type: ignore[arg-type]
    session.flush()
    staffing.sync_on_duty(session, sorted({site for site, *_ in plan}))
    return len(plan)
