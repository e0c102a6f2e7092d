"""Staff: who works in the response, their skills and certifications, availability and work phone; who
is eligible for a post today; the renewal worklist; and the counts the command sees (on duty today by
the duty roster, away on deployments, support received).

A work phone is personal data and is kept as the people registry keeps a phone (``core.crypto``): a
ciphertext, a keyed hash beside it (the same hash a person's mobile gets, so the privacy sweep finds it)
and a masked form that pages show; the full number is read only by ``reveal_phone``, audited.

Eligibility is computed, never stored: a certification that expires takes its holder off the eligible
list the next morning without anyone touching the record.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Exists, exists, func, select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.crypto import Vault
from fangkong.core.errors import Conflict, InvalidInput, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.models import User
from fangkong.core.phone import InvalidPhone, mask_phone, normalise_mobile
from fangkong.core.scope import ancestor_paths, under
from fangkong.resources import rules
from fangkong.resources.models import (
    Certification,
    Deployment,
    DeploymentMember,
    Posting,
    Shift,
    ShiftKind,
    Skill,
    Staff,
    StaffSkill,
)
from fangkong.resources.service.common import actor, bad, get_staff, jurisdiction_in_scope

NAME_MAX = 50
UNIT_MAX = 100
PHONE_MAX = 20


# The skill other capabilities ask about (testing posts samplers), without importing resources' models.
SAMPLING = Skill.sampling


@dataclass(frozen=True)
class StaffRow:
    """A staff member as the worklist shows them: skills, valid certifications and where they are."""

    staff: Staff
    skills: list[Skill]
    valid: list[Skill]
    deployed_away: bool
    # Today's line of the duty roster (None: not rostered today).
    shift_today: ShiftKind | None = None

    def eligible_for(self, skill: Skill) -> bool:
        return rules.eligible(self.staff.available, self.deployed_away, set(self.valid), skill)


def parse_skills(values: Sequence[str], field: str = "skills") -> list[Skill]:
    skills: list[Skill] = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            skill = Skill(value)
        except ValueError:
            raise bad(field, Message("unknown skill {value}", value=value)) from None
        if skill not in skills:
            skills.append(skill)
    return skills


def clean_phone(text: str) -> str:
    """A work phone as kept: a mobile in its 11-digit national form, a fixed line as digits and dashes
    (``0571-87000000``); raises InvalidInput naming ``work_phone``."""
    text = text.strip()
    try:
        return normalise_mobile(text)
    except InvalidPhone:
        pass
    # Full-width digits and dashes (typed with a Chinese input method) are the ASCII ones.
    compact = "".join(unicodedata.normalize("NFKC", text).split())
    digits = compact.replace("-", "")
    if not (digits.isascii() and digits.isdigit()) or not 7 <= len(digits) <= 15 or len(compact) > PHONE_MAX:
        raise bad("work_phone", Message("a work phone is a mobile number or digits and dashes"))
    return compact


def phone_columns(vault: Vault, phone: str) -> tuple[bytes, str, str]:
    """(ciphertext, keyed hash, masked form) of a cleaned work phone. The hash is over the digits alone,
    so a staff mobile hashes as the same person's mobile does in the registry."""
    return vault.encrypt_text(phone), vault.keyed_hash(phone.replace("-", "")), mask_phone(phone)


def add_staff(
    session: Session,
    principal: Principal,
    *,
    jurisdiction_code: str,
    name: str,
    unit: str,
    skills: Sequence[str] = (),
    work_phone: str = "",
    username: str = "",
    vault: Vault | None = None,
    ip: str = "",
) -> Staff:
    """Put a person on the staff list of a jurisdiction in scope (a work phone needs the ``vault``)."""
    errors: list[RowError] = []
    name, unit, work_phone = name.strip(), unit.strip(), work_phone.strip()
    if not name or len(name) > NAME_MAX:
        errors.append(RowError(1, "name", Message("a name of 1 to {n} characters is required", n=NAME_MAX)))
    if not unit or len(unit) > UNIT_MAX:
        errors.append(RowError(1, "unit", Message("a unit of 1 to {n} characters is required", n=UNIT_MAX)))
    phone = ""
    if work_phone:
        try:
            phone = clean_phone(work_phone)
        except InvalidInput as invalid:
            errors.extend(invalid.errors)
    user_id = None
    if username.strip():
        user_id = session.scalar(select(User.id).where(User.username == username.strip()))
        if user_id is None:
            errors.append(RowError(1, "username", Message("no user with this name")))
    try:
        parsed = parse_skills(skills)
    except InvalidInput as invalid:
        errors.extend(invalid.errors)
        parsed = []
    try:
        node = jurisdiction_in_scope(session, principal, jurisdiction_code, "jurisdiction_code")
    except InvalidInput as invalid:
        errors.extend(invalid.errors)
    if errors:
        raise InvalidInput(errors)
    if phone and vault is None:
        raise RuntimeError("a work phone is encrypted: pass the vault")
    cipher, keyed, masked = phone_columns(vault, phone) if phone and vault else (None, None, None)
    person = Staff(
        jurisdiction_id=node.id,
        jpath=node.path,
        user_id=user_id,
        name=name,
        unit=unit,
        phone_cipher=cipher,
        phone_hash=keyed,
        phone_masked=masked,
        available=True,
        created_at=clock.utcnow(),
    )
    session.add(person)
    session.flush()
    session.add_all(StaffSkill(staff_id=person.id, skill=s) for s in parsed)
    session.flush()
    audit.record(session, actor(principal, ip), "resources.staff.add", "staff", person.id, jpath=person.jpath)
    return person


@dataclass(frozen=True)
class AvailabilityChange:
    """A person marked available or not, and the postings ended because they no longer are."""

    staff: Staff
    ended: list[Posting]

    @property
    def sites_left(self) -> list[str]:
        """The sites the person left, each once, in the order their postings began."""
        return list(dict.fromkeys(p.site_name for p in self.ended))

    @property
    def message(self) -> Message:
        """What the page and the API answer say of the change."""
        name = self.staff.name
        if self.staff.available:
            return Message("{name} is marked available", name=name)
        if not self.ended:
            return Message("{name} is marked not available", name=name)
        return Message(
            "{name} is marked not available and has left {sites}: the postings there have ended",
            name=name,
            sites=self.sites_left,
        )


def set_availability(
    session: Session,
    principal: Principal,
    staff_id: int,
    *,
    available: bool,
    ip: str = "",
    bus: EventBus | None = None,
) -> AvailabilityChange:
    """Mark a person available or not (on leave, ill); who works which day is the duty roster's.

    Marked not available, the person leaves every site they are posted to at that instant (the postings
    end, audited, and stay as history), so no site counts someone who is not there. Marked available
    again, they are posted nowhere until a coordinator posts them.
    """
    # Postings read staff rows, so the use case is imported here rather than at the top (a cycle).
    from fangkong.resources.service import postings

    person = get_staff(session, principal, staff_id)
    person.available = available
    # The row is written (and so locked) before the postings are read: a coordinator posting the person
    # at the same time (``postings.post`` locks the row too) either commits first, and that posting is
    # ended here, or waits and then finds the person not available.
    session.flush()
    ended = [] if available else postings.end_postings_of(session, principal, person, ip=ip, bus=bus)
    audit.record(
        session,
        actor(principal, ip),
        "resources.staff.availability",
        "staff",
        person.id,
        jpath=person.jpath,
        detail={"available": available, "postings_ended": [p.id for p in ended]},
    )
    return AvailabilityChange(person, ended)


def reveal_phone(session: Session, vault: Vault, principal: Principal, staff_id: int, ip: str = "") -> str:
    """A staff member's full work phone, for those who manage staff; the read is audited first."""
    person = get_staff(session, principal, staff_id)
    if person.phone_cipher is None or not person.phone_cipher:
        return ""
    phone = vault.decrypt_text(person.phone_cipher)
    audit.record(
        session,
        actor(principal, ip),
        "resources.staff.phone_reveal",
        "staff",
        person.id,
        jpath=person.jpath,
        detail={"fields": ["work_phone"]},
    )
    return phone


def certify(
    session: Session,
    principal: Principal,
    staff_id: int,
    skill: str,
    passed_on: dt.date,
    *,
    valid_days: int = rules.CERTIFICATION_VALID_DAYS,
    source: str = "",
    ip: str = "",
) -> Certification:
    """Record a certification (an exam passed elsewhere, typed in); it also adds the skill."""
    person = get_staff(session, principal, staff_id)
    parsed = parse_skills([skill], "skill")
    if not parsed:
        raise bad("skill", Message("a skill is required"))
    if passed_on > clock.today():
        raise bad("passed_on", Message("{value} is in the future", value=passed_on))
    if not 1 <= valid_days <= 3650:
        raise bad("valid_days", Message("validity must be 1 to 3650 days"))
    return grant(session, person, parsed[0], passed_on, valid_days, source or f"manual:{principal.username}")


def grant(
    session: Session, person: Staff, skill: Skill, passed_on: dt.date, valid_days: int, source: str
) -> Certification:
    """Write a certification and the skill it proves (the exam path and the manual path both land here)."""
    cert = Certification(
        staff_id=person.id,
        jpath=person.jpath,
        skill=skill,
        passed_on=passed_on,
        expires_on=passed_on + dt.timedelta(days=valid_days - 1),
        source=source,
        created_at=clock.utcnow(),
    )
    session.add(cert)
    if (
        session.scalar(
            select(StaffSkill.id).where(StaffSkill.staff_id == person.id, StaffSkill.skill == skill)
        )
        is None
    ):
        session.add(StaffSkill(staff_id=person.id, skill=skill))
    session.flush()
    return cert


# ---------------------------------------------------------------------------------------------- reads


def _away_clause() -> Exists:
    """True for a staff row now checked in on a deployment (away from home)."""
    return exists().where(
        DeploymentMember.staff_id == Staff.id,
        DeploymentMember.checked_in_at.is_not(None),
        DeploymentMember.checked_out_at.is_(None),
    )


def rows(
    session: Session, jpath: str, day: dt.date | None = None, skill: Skill | None = None
) -> list[StaffRow]:
    """Staff of a subtree with their skills, valid certifications and whether they are away."""
    day = day or clock.today()
    query = (
        select(Staff, _away_clause().label("away"))
        .where(under(Staff.jpath, jpath))
        .order_by(Staff.jpath, Staff.id)
    )
    if skill is not None:
        query = query.where(exists().where(StaffSkill.staff_id == Staff.id, StaffSkill.skill == skill))
    found = session.execute(query).all()
    ids = [s.id for s, _ in found]
    skills: dict[int, list[Skill]] = {}
    valid: dict[int, list[Skill]] = {}
    shifts: dict[int, ShiftKind] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        for sid, sk in session.execute(
            select(StaffSkill.staff_id, StaffSkill.skill).where(StaffSkill.staff_id.in_(part))
        ):
            skills.setdefault(sid, []).append(sk)
        for sid, sk in session.execute(
            select(Certification.staff_id, Certification.skill)
            .where(
                Certification.staff_id.in_(part),
                Certification.passed_on <= day,
                Certification.expires_on >= day,
            )
            .distinct()
        ):
            valid.setdefault(sid, []).append(sk)
        shifts.update(
            session.execute(
                select(Shift.staff_id, Shift.kind).where(Shift.staff_id.in_(part), Shift.day == day)
            ).all()
        )
    return [
        StaffRow(s, sorted(skills.get(s.id, [])), sorted(valid.get(s.id, [])), bool(away), shifts.get(s.id))
        for s, away in found
    ]


def list_staff(session: Session, principal: Principal, skill: str = "") -> list[StaffRow]:
    wanted = parse_skills([skill], "skill")[0] if skill.strip() else None
    return rows(session, principal.jpath, skill=wanted)


def eligible(session: Session, jpath: str, skill: Skill, day: dt.date | None = None) -> list[StaffRow]:
    """Who may be posted for ``skill`` today among the staff of a subtree (read by other capabilities)."""
    return [r for r in rows(session, jpath, day, skill) if r.eligible_for(skill)]


def county_path(jpath: str) -> str:
    """The county at or above ``jpath`` (the deepest ancestor with a six-digit code): samplers are
    organised by the county (sandboxes included, whose marker is no code)."""
    found = jpath
    for path in ancestor_paths(jpath):
        code = path.rstrip("/").rsplit("/", 1)[-1]
        if len(code) == 6 and code.isdigit():
            found = path
    return found


def support_present(
    session: Session, jpath: str, skill: Skill | None = None, day: dt.date | None = None
) -> int:
    """Staff of other jurisdictions checked in on deployments into the subtree of ``jpath`` (certified
    for ``skill`` today when given)."""
    day = day or clock.today()
    query = (
        select(func.count(func.distinct(DeploymentMember.staff_id)))
        .join(Deployment, Deployment.id == DeploymentMember.deployment_id)
        .join(Staff, Staff.id == DeploymentMember.staff_id)
        .where(
            under(Deployment.to_jpath, jpath),
            DeploymentMember.checked_in_at.is_not(None),
            DeploymentMember.checked_out_at.is_(None),
        )
    )
    if skill is not None:
        query = query.where(
            Staff.available.is_(True),
            exists().where(
                Certification.staff_id == Staff.id,
                Certification.skill == skill,
                Certification.passed_on <= day,
                Certification.expires_on >= day,
            ),
        )
    return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class SamplerCheck:
    keeps_roster: bool
    needed: int
    available: int

    @property
    def short(self) -> int:
        return max(0, self.needed - self.available) if self.keeps_roster else 0


def sampler_check(session: Session, jpath: str, needed: int) -> SamplerCheck:
    """Certified samplers available to the county of ``jpath`` (its own, and support checked in there)
    against ``needed``. A county that keeps no roster on the platform is not checked (``keeps_roster``)."""
    county = county_path(jpath)
    keeps = session.scalar(select(Staff.id).where(under(Staff.jpath, county)).limit(1)) is not None
    if not keeps:
        return SamplerCheck(False, needed, 0)
    own = len(eligible(session, county, Skill.sampling))
    return SamplerCheck(True, needed, own + support_present(session, county, Skill.sampling))


def require_samplers(session: Session, jpath: str, needed: int) -> None:
    """Refuse to open sampling sites that lack certified samplers ("no training, no post"). The testing
    capability calls this before it opens a round's sites."""
    check = sampler_check(session, jpath, needed)
    if check.short:
        raise Conflict(
            Message(
                "the sites need {needed} certified samplers and {available} are available",
                needed=check.needed,
                available=check.available,
            )
        )


@dataclass(frozen=True)
class RenewalRow:
    staff: Staff
    skill: Skill
    expires_on: dt.date
    expired: bool


def renewals_due(
    session: Session, principal: Principal, within: int = rules.RENEWAL_WINDOW_DAYS, jpath: str | None = None
) -> list[RenewalRow]:
    """Certifications expired or expiring within ``within`` days whose holder has no later one of the
    same skill: the renewal worklist, soonest first (of ``jpath``'s subtree, checked in scope by the
    caller; default the caller's whole scope)."""
    day = clock.today()
    latest = (
        select(
            Certification.staff_id,
            Certification.skill,
            func.max(Certification.expires_on).label("expires_on"),
        )
        .where(under(Certification.jpath, jpath or principal.jpath))
        .group_by(Certification.staff_id, Certification.skill)
        .subquery()
    )
    found = session.execute(
        select(Staff, latest.c.skill, latest.c.expires_on)
        .join(latest, latest.c.staff_id == Staff.id)
        .where(latest.c.expires_on <= day + dt.timedelta(days=within))
        .order_by(latest.c.expires_on, Staff.id)
    ).all()
    return [RenewalRow(s, Skill(k), e, e < day) for s, k, e in found if rules.renewal_due(e, day, within)]


@dataclass(frozen=True)
class DutyCounts:
    """Staff of a jurisdiction's subtree as the command sees them today."""

    staff: int
    available: int
    rostered: int  # on duty today by the roster, available and not away
    on_call: int  # on call today by the roster, available and not away
    away: int  # their own staff now checked in on deployments elsewhere
    support: int  # other jurisdictions' staff checked in here

    @property
    def on_duty(self) -> int:
        """Working here today: their own staff the roster puts on duty, and the support received."""
        return self.rostered + self.support


def duty_counts(session: Session, jpath: str, day: dt.date | None = None) -> DutyCounts:
    """The day's counts (default today, local): the roster says who works; a person away on a
    deployment or marked unavailable does not count here whatever the roster says."""
    day = day or clock.today()
    present = Staff.available.is_(True) & ~_away_clause()
    staff, available = session.execute(
        select(func.count(Staff.id), func.count(Staff.id).filter(Staff.available.is_(True))).where(
            under(Staff.jpath, jpath)
        )
    ).one()
    rostered, on_call = session.execute(
        select(
            func.count(Shift.id).filter(Shift.kind == ShiftKind.on_duty),
            func.count(Shift.id).filter(Shift.kind == ShiftKind.on_call),
        )
        .join(Staff, Staff.id == Shift.staff_id)
        .where(Shift.day == day, under(Shift.jpath, jpath), present)
    ).one()
    checked_in = (
        select(func.count(func.distinct(DeploymentMember.staff_id)))
        .join(Deployment, Deployment.id == DeploymentMember.deployment_id)
        .join(Staff, Staff.id == DeploymentMember.staff_id)
        .where(DeploymentMember.checked_in_at.is_not(None), DeploymentMember.checked_out_at.is_(None))
    )
    # Sent from this subtree to a place outside it; received from outside into it.
    away = session.scalar(
        checked_in.where(
            under(Staff.jpath, jpath), Staff.available.is_(True), ~under(Deployment.to_jpath, jpath)
        )
    )
    support = session.scalar(checked_in.where(under(Deployment.to_jpath, jpath), ~under(Staff.jpath, jpath)))
    return DutyCounts(
        int(staff), int(available), int(rostered), int(on_call), int(away or 0), int(support or 0)
    )
