"""Reads every use case of tracing builds on, and the reads other capabilities make.

A case or a contact in the caller's scope (anything outside it is "not found"), a case by its number,
pages of rows, the place pickers (communities of the caller's jurisdiction, counties elsewhere), the
audit actor of a caller; and, for quarantine, the index case behind each plan source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.errors import NotFound
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope, under
from fangkong.tracing.models import (
    Case,
    Contact,
)

MAX_PAGE_SIZE = 200


def actor(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "web")


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def _paging(page: int, size: int) -> tuple[int, int]:
    return max(1, page), max(1, min(size, MAX_PAGE_SIZE))


def get_case(session: Session, principal: Principal, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or not path_in_scope(case.jpath, principal.jpath):
        raise NotFound(f"case {case_id} not found")
    return case


def get_contact(session: Session, principal: Principal, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or not path_in_scope(contact.jpath, principal.jpath):
        raise NotFound(f"contact {contact_id} not found")
    return contact


def case_by_ref(session: Session, principal: Principal, case_ref: str) -> Case:
    case = session.scalar(
        select(Case).where(Case.case_ref == case_ref.strip(), under(Case.jpath, principal.jpath))
    )
    if case is None:
        raise NotFound(f"case {case_ref} not found")
    return case


def _place_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    return dict(
        session.execute(select(Jurisdiction.id, Jurisdiction.name).where(Jurisdiction.id.in_(wanted))).all()
    )


@dataclass(frozen=True)
class PlaceGroup:
    """Places for a picker under the name of the place above them (a street's communities...)."""

    name: str
    places: list[tuple[str, str]]  # (code, name)


def _grouped(session: Session, nodes: Sequence[Jurisdiction]) -> list[PlaceGroup]:
    parents = _place_names(session, {n.parent_id for n in nodes if n.parent_id is not None})
    groups: dict[int | None, PlaceGroup] = {}
    for node in nodes:
        group = groups.get(node.parent_id)
        if group is None:
            group = groups[node.parent_id] = PlaceGroup(parents.get(node.parent_id or 0, ""), [])
        group.places.append((node.code, node.name))
    return list(groups.values())


def _real_places(session: Session, principal: Principal) -> ColumnElement[bool]:
    """Drill sandboxes stay out of pickers, except for someone working inside one."""
    own = session.get(Jurisdiction, principal.jurisdiction_id)
    return Jurisdiction.is_sandbox.is_(False) if own is None or not own.is_sandbox else true()


def community_choices(session: Session, principal: Principal) -> list[PlaceGroup]:
    """Communities in the caller's jurisdiction, by street (township), for the community pickers."""
    from fangkong.core.models import Level

    nodes = session.scalars(
        select(Jurisdiction)
        .where(
            under(Jurisdiction.path, principal.jpath),
            Jurisdiction.level == Level.community,
            _real_places(session, principal),
        )
        .order_by(Jurisdiction.path)
    ).all()
    return _grouped(session, nodes)


def county_choices(session: Session, principal: Principal) -> list[PlaceGroup]:
    """Counties outside the caller's jurisdiction, by city: where a contact living elsewhere is referred."""
    from fangkong.core.models import Level

    nodes = session.scalars(
        select(Jurisdiction)
        .where(
            ~under(Jurisdiction.path, principal.jpath),
            Jurisdiction.level == Level.county,
            _real_places(session, principal),
        )
        .order_by(Jurisdiction.path)
    ).all()
    return _grouped(session, nodes)


def county_code_of(session: Session, jurisdiction_id: int | None) -> str:
    """The county a jurisdiction lies in (itself if it is one), as its code; "" above county level."""
    node = session.get(Jurisdiction, jurisdiction_id) if jurisdiction_id is not None else None
    codes = [c for c in node.path.split("/") if c] if node is not None else []
    return codes[2] if len(codes) > 2 else ""


def _scope_path(session: Session, principal: Principal, jurisdiction_id: int | None) -> str:
    if jurisdiction_id is None:
        return principal.jpath
    node = session.get(Jurisdiction, jurisdiction_id)
    if node is None or not path_in_scope(node.path, principal.jpath):
        raise NotFound(f"jurisdiction {jurisdiction_id} not found")
    return node.path


# ------------------------------------------------------------------------------- reads for other capabilities


def index_cases_of_sources(session: Session, sources: Iterable[str]) -> dict[str, frozenset[int]]:
    """The index case behind each plan source ``contact:<id>`` (quarantine keeps contacts of different
    cases apart). Sources that are not contacts, or unknown contacts, are left out."""
    contact_ids: dict[int, str] = {}
    for source in sources:
        kind, _, number = source.partition(":")
        if kind == "contact" and number.isdigit():
            contact_ids[int(number)] = source
    found: dict[str, frozenset[int]] = {}
    ids = sorted(contact_ids)
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(Contact.id, Contact.case_id).where(Contact.id.in_(ids[start : start + 1000]))
        )
        for contact_id, case_id in rows:
            found[contact_ids[contact_id]] = frozenset({case_id})
    return found
