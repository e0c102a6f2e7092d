"""The resources part of the demo region: staff, teams, a deployment, training and stock.

Every county gets its staff (certified for their skills, a few certificates due for renewal and one
expired), its five teams, a store of every supply with two weeks of use behind it, and the demo county
enough certified samplers for the testing round the testing part opens there. A team of the first county
is deployed to the demo county and checked in; a sampler course was held last month and another is
under way (results half entered), and a tabletop exercise gave each team member a part. Every county's
staff have a duty roster for the current week. Staff rows are written in one batch each (the session's
insert of many rows), their work phones encrypted in one pass (``Vault.encrypt_texts``); the roster is
one batched write; stock moves go through the supplies use case so the alerts are raised as in real use.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.bulk import write_rows
from fangkong.core.crypto import Vault
from fangkong.core.demo_loader import demo_principal
from fangkong.core.models import Jurisdiction, Level, Person
from fangkong.core.phone import mask_phone
from fangkong.core.scope import under
from fangkong.resources import rules
from fangkong.resources.demo import postings as demo_postings
from fangkong.resources.models import (
    Certification,
    MoveReason,
    Shift,
    ShiftKind,
    Skill,
    Staff,
    StaffSkill,
    Stock,
    StockMove,
    SupplyKind,
    Team,
    TeamKind,
    TeamLevel,
    TeamMember,
)
from fangkong.resources.service import deployments, roster, supplies, training

# Staff of each county by skill (demo choice: a county CDC and its community health centres).
STAFF_PER_COUNTY = {
    Skill.sampling: 24,
    Skill.field_investigation: 9,
    Skill.laboratory_testing: 6,
    Skill.disinfection: 4,
    Skill.transport: 4,
    Skill.data_entry: 3,
}
# People one sampler takes in a round (testing's rule, rt.sites: population ÷ 360), to give the demo
# county enough certified samplers for its round.
PEOPLE_PER_SAMPLER = 360
# Stock on hand per county store and what a day uses (demo choices).
STOCK = {
    SupplyKind.ppe: (1_200, 60),
    SupplyKind.swab: (40_000, 1_500),
    SupplyKind.tube: (6_000, 600),
    SupplyKind.reagent: (9_000, 400),
    SupplyKind.antigen_test: (5_000, 150),
    SupplyKind.disinfectant: (800, 20),
    SupplyKind.medicine: (600, 15),
}
HISTORY_DAYS = 10
UNITS = ("区疾控中心", "社区卫生服务中心", "区人民医院")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


@dataclass(frozen=True)
class DemoResources:
    staff: int
    teams: int
    deployed: int
    stores: int
    alerts: int
    shifts: int = 0
    # Staff posted to the open quarantine sites (``demo.postings``).
    posted: int = 0


def _name(i: int) -> str:
    return (
        SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + GIVEN[(i * 7) % len(GIVEN)]
    )


def _county_staff(
    session: Session, vault: Vault, county: Jurisdiction, extra_samplers: int, offset: int
) -> dict[Skill, list[int]]:
    """The county's staff with their skills and certifications, written in one batch each; work phones
    encrypted and hashed in one pass each."""
    today = clock.today()
    plan = [
        (skill, n + (extra_samplers if skill is Skill.sampling else 0))
        for skill, n in STAFF_PER_COUNTY.items()
    ]
    count = sum(n for _, n in plan)
    phones = [f"0571-8{(offset + i) % 10_000_000:07d}" for i in range(count)]
    ciphers = vault.encrypt_texts(phones)
    hashes = vault.keyed_hashes_normalised([p.replace("-", "") for p in phones])
    people = [
        Staff(
            jurisdiction_id=county.id, jpath=county.path, name=_name(offset + i),
            unit=f"{county.name}{UNITS[i % 3]}", phone_cipher=ciphers[i], phone_hash=hashes[i],
            phone_masked=mask_phone(phones[i]), available=i % 17 != 5, created_at=clock.utcnow(),
        )
        for i in range(count)
    ]  # fmt: skip
    session.add_all(people)
    session.flush()
    by_skill: dict[Skill, list[int]] = {}
    skills: list[StaffSkill] = []
    certs: list[Certification] = []
    index = 0
    for skill, n in plan:
        for _ in range(n):
            person = people[index]
            by_skill.setdefault(skill, []).append(person.id)
            skills.append(StaffSkill(staff_id=person.id, skill=skill))
            # Most passed within the year; every thirteenth is due for renewal, every nineteenth expired.
            age = 330 + index % 30 if index % 13 == 0 else 380 if index % 19 == 0 else 20 + index % 200
            passed = today - dt.timedelta(days=age)
            certs.append(
                Certification(
                    staff_id=person.id, jpath=county.path, skill=skill, passed_on=passed,
                    expires_on=passed + dt.timedelta(days=rules.CERTIFICATION_VALID_DAYS - 1), source="demo",
                    created_at=clock.utcnow(),
                )
            )  # fmt: skip
            index += 1
    session.add_all(skills)
    session.add_all(certs)
    session.flush()
    return by_skill


def _teams(session: Session, county: Jurisdiction, staff: dict[Skill, list[int]]) -> list[Team]:
    made = []
    for kind in TeamKind:
        skill = rules.TEAM_SKILL[kind]
        members = staff.get(skill, [])[: rules.STANDARD_SIZE[kind]]
        team = Team(
            jurisdiction_id=county.id, jpath=county.path, level=TeamLevel.county, kind=kind,
            name=f"{county.name}{_TEAM_NAMES[kind]}", leader_id=members[0] if members else None,
            created_at=clock.utcnow(),
        )  # fmt: skip
        session.add(team)
        session.flush()
        session.add_all(TeamMember(team_id=team.id, staff_id=s) for s in members)
        made.append(team)
    session.flush()
    return made


_TEAM_NAMES = {
    TeamKind.investigation: "流调溯源队",
    TeamKind.sampling: "采样队",
    TeamKind.testing: "检测队",
    TeamKind.disinfection: "消杀队",
    TeamKind.transfer: "转运队",
}


def _write_history(session: Session, history: list[tuple[Stock, int]], today: dt.date) -> None:
    """Ten days of use before today for every store, in one batch of moves."""
    now = clock.utcnow()
    rows = []
    for stock, use in history:
        for day in range(HISTORY_DAYS, 0, -1):
            rows.append((stock.id, stock.jpath, stock.kind.value, -use, MoveReason.consumption.value, "demo",
                         today - dt.timedelta(days=day), "system", now))  # fmt: skip
        stock.on_hand -= use * HISTORY_DAYS
    columns = (
        "stock_id",
        "jpath",
        "kind",
        "quantity",
        "reason",
        "source",
        "moved_on",
        "recorded_by",
        "created_at",
    )
    write_rows(session, StockMove.__table__, columns, rows)  # type: ignore[arg-type]
    session.flush()


def _roster(session: Session, counties: list[Jurisdiction], today: dt.date) -> int:
    """This week's duty roster for every county's staff in one batched write: during an outbreak everyone
    works six days of seven, each resting on a different day by turns, and one member of each team is on
    call each day instead (demo choices)."""
    monday = roster.week_start(today)
    paths = [c.path for c in counties]
    team_of: dict[int, int] = {}
    for team_id, staff_id in session.execute(
        select(TeamMember.team_id, TeamMember.staff_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.jpath.in_(paths))
        .order_by(TeamMember.id)
    ):
        team_of.setdefault(staff_id, team_id)
    members: dict[int, list[int]] = {}
    for staff_id, team_id in team_of.items():
        members.setdefault(team_id, []).append(staff_id)
    now = clock.utcnow()
    rows: list[tuple[object, ...]] = []
    for staff_id, jpath in session.execute(
        select(Staff.id, Staff.jpath).where(Staff.jpath.in_(paths)).order_by(Staff.id)
    ):
        team = team_of.get(staff_id)
        for d in range(7):
            day = monday + dt.timedelta(days=d)
            kind: ShiftKind | None = None
            if team is not None and members[team][d % len(members[team])] == staff_id:
                kind = ShiftKind.on_call
            elif d != staff_id % 7:
                kind = ShiftKind.on_duty
            if kind is not None:
                rows.append((staff_id, jpath, day, kind.value, team, "system", now))
    columns = ("staff_id", "jpath", "day", "kind", "team_id", "created_by", "created_at")
    write_rows(session, Shift.__table__, columns, rows)  # type: ignore[arg-type]
    session.flush()
    return len(rows)


def _training(session: Session, admin: Principal, demo_team: Team, today: dt.date) -> None:
    """A sampler course held last month (results in), a disinfection course held this week (half the
    results entered), and a tabletop exercise of the demo county's teams."""
    sampler_ids = list(session.scalars(select(TeamMember.staff_id).where(TeamMember.team_id == demo_team.id)))
    course = training.create_course(
        session, admin, title="采样人员实操培训与考核", skill=Skill.sampling.value, ip="demo"
    )
    held = training.hold_session(session, admin, course.id, today - dt.timedelta(days=30), ip="demo")
    for i, staff_id in enumerate(sampler_ids):
        training.record_result(session, admin, held.id, staff_id, 70 + (i * 7) % 30, ip="demo")
    refresher = training.create_course(
        session, admin, title="消杀规范复训", skill=Skill.disinfection.value, valid_days=180, ip="demo"
    )
    this_week = training.hold_session(
        session, admin, refresher.id, max(roster.week_start(today), today - dt.timedelta(days=1)), ip="demo"
    )
    cleaners = list(
        session.scalars(
            select(StaffSkill.staff_id)
            .join(Staff, Staff.id == StaffSkill.staff_id)
            .where(StaffSkill.skill == Skill.disinfection, Staff.jpath == demo_team.jpath)
            .order_by(StaffSkill.staff_id)
        )
    )
    training.add_participants(session, admin, this_week.id, cleaners, ip="demo")
    for i, staff_id in enumerate(cleaners[: len(cleaners) // 2]):
        training.record_result(session, admin, this_week.id, staff_id, 75 + (i * 11) % 25, ip="demo")
    for team_id in session.scalars(select(Team.id).where(Team.jpath == demo_team.jpath).order_by(Team.id)):
        training.join_exercise(
            session, team_id, title="聚集性疫情桌面推演", held_on=today - dt.timedelta(days=14),
            source="demo:tabletop", part="桌面推演：流调、采样、转运衔接",
        )  # fmt: skip


def seed(
    session: Session, county_codes: list[str], demo_county_code: str, vault: Vault | None = None
) -> DemoResources:
    admin = demo_principal(session, "admin")
    today = clock.today()
    if vault is None:
        from fangkong.core.config import get_settings

        settings = get_settings()
        vault = Vault(settings.encryption_key, settings.hash_key)
    counties = list(
        session.scalars(
            select(Jurisdiction).where(Jurisdiction.code.in_(county_codes)).order_by(Jurisdiction.code)
        )
    )
    staff_count, teams_made = 0, []
    sampling_teams: dict[str, Team] = {}
    stores: list[Stock] = []
    history: list[tuple[Stock, int]] = []
    for n, county in enumerate(counties):
        extra = 0
        if county.code == demo_county_code:
            residents = (
                session.scalar(select(func.count(Person.id)).where(under(Person.jpath, county.path))) or 0
            )
            communities = session.scalar(
                select(func.count(Jurisdiction.id)).where(
                    under(Jurisdiction.path, county.path), Jurisdiction.level == Level.community
                )
            ) or 0  # fmt: skip
            # Samplers for a round of everyone, one more per community for rounding, and a margin.
            extra = math.ceil(residents / PEOPLE_PER_SAMPLER) + int(communities) + 10
        staff = _county_staff(session, vault, county, extra, n * 1000)
        staff_count += sum(len(v) for v in staff.values())
        made = _teams(session, county, staff)
        teams_made += made
        sampling_teams[county.code] = next(t for t in made if t.kind is TeamKind.sampling)
        for kind, (on_hand, per_day) in STOCK.items():
            stores.append(
                supplies.receive(
                    session, admin, jurisdiction_code=county.code, kind=kind.value,
                    quantity=on_hand + per_day * HISTORY_DAYS, source="demo", ip="demo",
                )
            )  # fmt: skip
            # The demo county ran short of tubes: its use is twice the others'.
            use = per_day * (2 if county.code == demo_county_code and kind is SupplyKind.tube else 1)
            history.append((stores[-1], use))
    _write_history(session, history, today)
    supplies.refresh_alerts(session, stores, today)
    deployed = 0
    helper = next((c for c in counties if c.code != demo_county_code), None)
    if helper is not None:
        host = next(c.name for c in counties if c.code == demo_county_code)
        sent = deployments.send(
            session, admin, sampling_teams[helper.code].id, to_jurisdiction_code=demo_county_code,
            outbreak="演示疫情", commander=f"{host}现场指挥部",
            ip="demo",
        )  # fmt: skip
        deployed = deployments.check_in(session, admin, sent.id, ip="demo")
    _training(session, admin, sampling_teams[demo_county_code], today)
    shifts = _roster(session, counties, today)
    alerts = len(supplies.stock_rows(session, "/", alerts_only=True))
    posted = demo_postings.seed(session, county_codes)
    return DemoResources(
        staff_count, len(teams_made), deployed, len(counties) * len(STOCK), alerts, shifts, posted
    )
