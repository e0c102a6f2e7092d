"""Laboratories: who tests the tubes, how many tests an hour, and their turnaround deadline."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import ancestor_paths, path_in_scope, under
from fangkong.testing.models import Laboratory

# A lab's results are due within this many hours of receiving the samples (rural "乡采样、县检测",
# protocols.md §7 epi.lab_turnaround, S54).
DEFAULT_TURNAROUND_HOURS = 12
# Largest capacity accepted, tests per hour (a Huo-Yan air-inflated lab runs about 10,000 a day; a
# county lab far fewer): a bound against typing mistakes, not a fact.
MAX_TESTS_PER_HOUR = 100_000


def create_laboratory(
    session: Session,
    principal: Principal,
    *,
    name: str,
    jurisdiction_code: str,
    tests_per_hour: int,
    turnaround_hours: int = DEFAULT_TURNAROUND_HOURS,
    ip: str = "",
) -> Laboratory:
    errors: list[RowError] = []
    name = name.strip()
    if not name or len(name) > 120:
        errors.append(RowError(1, "name", Message("a name of 1 to {n} characters is required", n=120)))
    if not 0 <= tests_per_hour <= MAX_TESTS_PER_HOUR:
        errors.append(
            RowError(1, "tests_per_hour", Message("between {low} and {high}", low=0, high=MAX_TESTS_PER_HOUR))
        )
    if not 1 <= turnaround_hours <= 168:
        errors.append(RowError(1, "turnaround_hours", Message("between {low} and {high}", low=1, high=168)))
    place = session.scalar(select(Jurisdiction).where(Jurisdiction.code == jurisdiction_code.strip()))
    if place is None or not path_in_scope(place.path, principal.jpath):
        errors.append(RowError(1, "jurisdiction_code", Message("not a jurisdiction in your area")))
    if errors:
        raise InvalidInput(errors)
    assert place is not None
    if session.scalar(select(Laboratory.id).where(Laboratory.name == name)) is not None:
        raise Conflict(Message("a laboratory named {name} already exists", name=name))
    lab = Laboratory(
        name=name,
        jurisdiction_id=place.id,
        jpath=place.path,
        tests_per_hour=tests_per_hour,
        turnaround_hours=turnaround_hours,
    )
    session.add(lab)
    session.flush()
    audit.record(
        session,
        audit.Actor(principal.user_id, principal.username, ip or "web"),
        "testing.laboratory",
        "laboratory",
        lab.id,
        jpath=place.path,
        detail={"name": name, "tests_per_hour": tests_per_hour},
    )
    return lab


def list_laboratories(session: Session, principal: Principal) -> Sequence[Laboratory]:
    """Laboratories in the caller's area and above it (a county's tubes often go to the city's lab)."""
    ancestors = ancestor_paths(principal.jpath)
    return list(
        session.scalars(
            select(Laboratory)
            .where(under(Laboratory.jpath, principal.jpath) | Laboratory.jpath.in_(ancestors))
            .order_by(Laboratory.name)
        )
    )


def get_laboratory(session: Session, principal: Principal, laboratory_id: int) -> Laboratory:
    lab = session.get(Laboratory, laboratory_id)
    if lab is None or not (
        path_in_scope(lab.jpath, principal.jpath) or path_in_scope(principal.jpath, lab.jpath)
    ):
        raise NotFound(f"laboratory {laboratory_id} not found")
    return lab
