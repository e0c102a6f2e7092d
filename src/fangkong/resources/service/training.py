"""Training and exercises: courses, sessions, attendance and exam results. Passing a course's exam
certifies its skill for the course's validity; an exercise (a drill counts as one) records each
participant's part and hours.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.scope import path_in_scope, under
from fangkong.resources import rules
from fangkong.resources.models import Attendance, Course, Skill, Staff, TrainingSession
from fangkong.resources.service import staff as staff_service
from fangkong.resources.service.common import actor, bad, get_staff, jurisdiction_in_scope

TITLE_MAX = 120


def create_course(
    session: Session,
    principal: Principal,
    *,
    title: str,
    skill: str,
    valid_days: int = rules.CERTIFICATION_VALID_DAYS,
    pass_score: int = rules.PASS_SCORE,
    ip: str = "",
) -> Course:
    errors: list[RowError] = []
    title = title.strip()
    if not title or len(title) > TITLE_MAX:
        errors.append(
            RowError(1, "title", Message("a title of 1 to {n} characters is required", n=TITLE_MAX))
        )
    try:
        parsed = staff_service.parse_skills([skill], "skill")
    except InvalidInput as invalid:
        errors.extend(invalid.errors)
        parsed = []
    if not parsed and not errors:
        errors.append(RowError(1, "skill", Message("a skill is required")))
    if not 1 <= valid_days <= 3650:
        errors.append(RowError(1, "valid_days", Message("validity must be 1 to 3650 days")))
    if not 0 <= pass_score <= 100:
        errors.append(RowError(1, "pass_score", Message("a score is 0 to 100")))
    if errors:
        raise InvalidInput(errors)
    course = Course(
        jpath=principal.jpath,
        title=title,
        skill=parsed[0],
        valid_days=valid_days,
        pass_score=pass_score,
        created_at=clock.utcnow(),
    )
    session.add(course)
    session.flush()
    audit.record(
        session, actor(principal, ip), "resources.course.create", "course", course.id, jpath=course.jpath
    )
    return course


def get_course(session: Session, principal: Principal, course_id: int) -> Course:
    found = session.get(Course, course_id)
    if found is None or not path_in_scope(found.jpath, principal.jpath):
        raise NotFound(Message("course {id} not found", id=course_id))
    return found


def get_session(session: Session, principal: Principal, session_id: int) -> TrainingSession:
    found = session.get(TrainingSession, session_id)
    if found is None or not path_in_scope(found.jpath, principal.jpath):
        raise NotFound(Message("training session {id} not found", id=session_id))
    return found


def list_courses(session: Session, principal: Principal) -> list[Course]:
    return list(
        session.scalars(select(Course).where(under(Course.jpath, principal.jpath)).order_by(Course.id))
    )


def hold_session(
    session: Session,
    principal: Principal,
    course_id: int,
    held_on: dt.date,
    *,
    jurisdiction_code: str = "",
    ip: str = "",
) -> TrainingSession:
    course = get_course(session, principal, course_id)
    node_path = principal.jpath
    if jurisdiction_code:
        node_path = jurisdiction_in_scope(session, principal, jurisdiction_code, "jurisdiction_code").path
    if held_on > clock.today() + dt.timedelta(days=365):
        raise bad("held_on", Message("a session is held within the coming year"))
    found = TrainingSession(
        course_id=course.id, jpath=node_path, title=course.title, held_on=held_on, is_exercise=False
    )
    session.add(found)
    session.flush()
    audit.record(
        session, actor(principal, ip), "resources.session.hold", "training_session", found.id, jpath=node_path
    )
    return found


def record_result(
    session: Session,
    principal: Principal,
    session_id: int,
    staff_id: int,
    exam_score: int,
    *,
    ip: str = "",
) -> Attendance:
    """A participant's exam result; a pass certifies the course's skill from the session's day."""
    held = get_session(session, principal, session_id)
    if held.course_id is None:
        raise bad("session_id", Message("an exercise has no exam"))
    if held.held_on > clock.today():
        raise bad("exam_score", Message("the session has not been held yet"))
    if not 0 <= exam_score <= 100:
        raise bad("exam_score", Message("a score is 0 to 100"))
    person = get_staff(session, principal, staff_id)
    course = session.get(Course, held.course_id)
    assert course is not None
    existing = session.scalar(
        select(Attendance).where(Attendance.session_id == held.id, Attendance.staff_id == person.id)
    )
    if existing is not None and existing.exam_score is not None:
        raise Conflict(Message("{name}'s result is already recorded", name=person.name))
    row = existing or Attendance(session_id=held.id, staff_id=person.id)
    row.exam_score = exam_score
    row.passed = exam_score >= course.pass_score
    session.add(row)
    session.flush()
    if row.passed:
        staff_service.grant(
            session, person, course.skill, held.held_on, course.valid_days, f"attendance:{row.id}"
        )
    audit.record(
        session,
        actor(principal, ip),
        "resources.session.result",
        "training_session",
        held.id,
        jpath=held.jpath,
        detail={"staff_id": person.id, "score": exam_score, "passed": row.passed},
    )
    return row


@dataclass(frozen=True)
class Part:
    """One participant's part in an exercise."""

    staff_id: int
    part: str
    hours: float


def record_exercise(
    session: Session, jpath: str, title: str, held_on: dt.date, parts: Sequence[Part], source: str
) -> TrainingSession:
    """An exercise with each participant's part (the drill records itself here through this function)."""
    known = set(session.scalars(select(Staff.id).where(Staff.id.in_([p.staff_id for p in parts]))))
    held = TrainingSession(
        course_id=None, jpath=jpath, title=title[:TITLE_MAX], held_on=held_on, is_exercise=True, source=source
    )
    session.add(held)
    session.flush()
    session.add_all(
        Attendance(session_id=held.id, staff_id=p.staff_id, part=p.part[:200], hours=round(p.hours, 2))
        for p in parts
        if p.staff_id in known
    )
    session.flush()
    return held


def join_exercise(
    session: Session, team_id: int, *, title: str, held_on: dt.date, source: str, part: str
) -> TrainingSession:
    """A team takes part in an exercise (a drill: ``source`` "drill:<id>"): the exercise is recorded once
    where the team is, and each member's part lists what they were given (cases, tasks)."""
    from fangkong.resources.models import Team, TeamMember

    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(Message("team {id} not found", id=team_id))
    held = session.scalar(
        select(TrainingSession).where(TrainingSession.source == source, TrainingSession.jpath == team.jpath)
    )
    if held is None:
        held = TrainingSession(
            course_id=None,
            jpath=team.jpath,
            title=title[:TITLE_MAX],
            held_on=held_on,
            is_exercise=True,
            source=source,
        )
        session.add(held)
        session.flush()
    members = list(session.scalars(select(TeamMember.staff_id).where(TeamMember.team_id == team.id)))
    existing = {
        a.staff_id: a
        for a in session.scalars(
            select(Attendance).where(Attendance.session_id == held.id, Attendance.staff_id.in_(members))
        )
    }
    for staff_id in members:
        row = existing.get(staff_id)
        if row is None:
            session.add(Attendance(session_id=held.id, staff_id=staff_id, part=part[:200]))
        elif part not in row.part.split(", "):
            row.part = f"{row.part}, {part}"[:200]
    session.flush()
    return held


@dataclass(frozen=True)
class SessionRow:
    session: TrainingSession
    attended: int
    passed: int


def list_sessions(session: Session, principal: Principal) -> list[SessionRow]:
    """The latest sessions in scope (the API's list: its first 200)."""
    return _session_rows(session, [under(TrainingSession.jpath, principal.jpath)], 1, size=200)[0]


# ------------------------------------------------------------------------------- pages' reads and forms

PAGE_SIZE = 50
MAX_PARTICIPANTS = 200


@dataclass(frozen=True)
class CourseRow:
    course: Course
    sessions: int
    passed: int


def course_rows(session: Session, principal: Principal) -> list[CourseRow]:
    """Courses in scope with how many sessions were held and how many passed their exams."""
    held = (
        select(
            TrainingSession.course_id,
            func.count(func.distinct(TrainingSession.id)).label("sessions"),
            func.count(Attendance.id).filter(Attendance.passed.is_(True)).label("passed"),
        )
        .outerjoin(Attendance, Attendance.session_id == TrainingSession.id)
        .where(TrainingSession.course_id.is_not(None))
        .group_by(TrainingSession.course_id)
        .subquery()
    )
    found = session.execute(
        select(Course, held.c.sessions, held.c.passed)
        .outerjoin(held, held.c.course_id == Course.id)
        .where(under(Course.jpath, principal.jpath))
        .order_by(Course.id.desc())
    ).all()
    return [CourseRow(c, int(n or 0), int(p or 0)) for c, n, p in found]


def _session_rows(
    session: Session, where: list[Any], page: int, size: int = PAGE_SIZE
) -> tuple[list[SessionRow], int]:
    total = int(session.scalar(select(func.count(TrainingSession.id)).where(*where)) or 0)
    counts = (
        select(
            Attendance.session_id,
            func.count(Attendance.id).label("attended"),
            func.count(Attendance.id).filter(Attendance.passed.is_(True)).label("passed"),
        )
        .group_by(Attendance.session_id)
        .subquery()
    )
    found = session.execute(
        select(TrainingSession, counts.c.attended, counts.c.passed)
        .outerjoin(counts, counts.c.session_id == TrainingSession.id)
        .where(*where)
        .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
        .offset((max(page, 1) - 1) * size)
        .limit(size)
    ).all()
    return [SessionRow(s, int(a or 0), int(p or 0)) for s, a, p in found], total


def course_sessions(
    session: Session, principal: Principal, course_id: int, page: int = 1
) -> tuple[list[SessionRow], int]:
    """A course's sessions in scope, latest first, a page at a time (and how many there are)."""
    course = get_course(session, principal, course_id)
    return _session_rows(
        session, [TrainingSession.course_id == course.id, under(TrainingSession.jpath, principal.jpath)], page
    )


def exercises(session: Session, principal: Principal, page: int = 1) -> tuple[list[SessionRow], int]:
    """Exercises in scope (drills count as exercises), latest first."""
    return _session_rows(
        session, [TrainingSession.is_exercise.is_(True), under(TrainingSession.jpath, principal.jpath)], page
    )


@dataclass(frozen=True)
class Line:
    """A participant of a session: their attendance (score, pass, part, hours) and who they are."""

    attendance: Attendance
    staff: Staff


def lines(session: Session, principal: Principal, session_id: int) -> list[Line]:
    held = get_session(session, principal, session_id)
    return [
        Line(a, s)
        for a, s in session.execute(
            select(Attendance, Staff)
            .join(Staff, Staff.id == Attendance.staff_id)
            .where(Attendance.session_id == held.id)
            .order_by(Staff.name, Staff.id)
        ).all()
    ]


def candidates(session: Session, principal: Principal, session_id: int) -> list[Staff]:
    """Staff of the session's jurisdiction not yet on its list (whom the form offers to add)."""
    held = get_session(session, principal, session_id)
    taken = select(Attendance.staff_id).where(Attendance.session_id == held.id)
    return list(
        session.scalars(
            select(Staff)
            .where(under(Staff.jpath, held.jpath), Staff.id.not_in(taken))
            .order_by(Staff.name, Staff.id)
            .limit(500)
        )
    )


def add_participants(
    session: Session, principal: Principal, session_id: int, staff_ids: Sequence[int], *, ip: str = ""
) -> int:
    """Put people on a session's attendance list (their results come later); returns how many were added."""
    held = get_session(session, principal, session_id)
    if not staff_ids:
        raise bad("staff_ids", Message("choose at least one person"))
    if len(staff_ids) > MAX_PARTICIPANTS:
        raise bad("staff_ids", Message("at most {n} people at a time", n=MAX_PARTICIPANTS))
    people = [get_staff(session, principal, i) for i in dict.fromkeys(staff_ids)]
    present = set(
        session.scalars(
            select(Attendance.staff_id).where(
                Attendance.session_id == held.id, Attendance.staff_id.in_([p.id for p in people])
            )
        )
    )
    added = [p for p in people if p.id not in present]
    session.add_all(Attendance(session_id=held.id, staff_id=p.id) for p in added)
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "resources.session.attendance",
        "training_session",
        held.id,
        jpath=held.jpath,
        detail={"staff_ids": [p.id for p in added]},
    )
    return len(added)


def line_of(session: Session, principal: Principal, session_id: int, staff_id: int) -> Line:
    held = get_session(session, principal, session_id)
    person = get_staff(session, principal, staff_id)
    found = session.scalar(
        select(Attendance).where(Attendance.session_id == held.id, Attendance.staff_id == person.id)
    )
    if found is None:
        raise NotFound(Message("{name} is not on this session's list", name=person.name))
    return Line(found, person)


RENEWAL_COLUMNS = ("Name", "Unit", "Jurisdiction", "Skill", "Expires on", "Status")


def renewals_xlsx(
    session: Session,
    principal: Principal,
    rows: Sequence[staff_service.RenewalRow],
    *,
    skill_labels: dict[Skill, str],
    places: dict[str, str],
    language: str = "zh",
    jpath: str = "",
) -> bytes:
    """The renewal worklist as an Excel workbook (XlsxWriter, as the other worklists export), audited:
    it lists names, which stay inside the platform only when the export is recorded."""
    import xlsxwriter  # type: ignore[import-untyped]

    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"constant_memory": True})
    sheet = book.add_worksheet(Message("Certifications due for renewal").render(language)[:31])
    bold = book.add_format({"bold": True})
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for col, title in enumerate(RENEWAL_COLUMNS):
        sheet.write(0, col, Message(title).render(language), bold)
    sheet.set_column(0, 2, 16)
    sheet.set_column(3, 5, 12)
    expired, soon = Message("Expired").render(language), Message("Expiring soon").render(language)
    for n, r in enumerate(rows, start=1):
        sheet.write(n, 0, r.staff.name)
        sheet.write(n, 1, r.staff.unit)
        sheet.write(n, 2, places.get(r.staff.jpath, ""))
        sheet.write(n, 3, Message(skill_labels[r.skill]).render(language))
        sheet.write_datetime(n, 4, dt.datetime.combine(r.expires_on, dt.time.min), dates)
        sheet.write(n, 5, expired if r.expired else soon)
    book.close()
    audit.record(
        session,
        actor(principal, "web"),
        "resources.renewals.export",
        "jurisdiction",
        jpath or principal.jpath,
        jpath=jpath or principal.jpath,
        detail={"rows": len(rows)},
    )
    return output.getvalue()
