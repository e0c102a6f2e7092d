"""People registry use cases: register, find, show (masked or revealed), list households, export.

Every query here goes through the scope filter; a person outside the caller's subtree is "not found".
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.crypto import PersonalData, Vault
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus, PersonRegistered
from fangkong.core.models import Household, Jurisdiction, Level, Person
from fangkong.core.people_rules import shape_person
from fangkong.core.scope import path_in_scope, under

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MAX_PAGE_SIZE = 200
_ID_LIKE = re.compile(r"^\d{17}[\dXx]$")
_PHONE_LIKE = re.compile(r"^(\+?86)?1\d{10}$")


@dataclass(frozen=True)
class PersonView:
    """What a list or detail page shows: masked unless revealed."""

    id: int
    name: str
    id_number: str
    phone: str | None
    sex: str
    birth_date: dt.date
    age: int
    jurisdiction_id: int
    jurisdiction_name: str
    household_id: int | None
    address: str | None
    revealed: bool


@dataclass(frozen=True)
class Page:
    items: list[PersonView]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _masked_view(person: Person, place_name: str, address_masked: str | None, today: dt.date) -> PersonView:
    return PersonView(
        id=person.id,
        name=person.name_masked,
        id_number=person.id_masked,
        phone=person.phone_masked,
        sex=person.sex,
        birth_date=person.birth_date,
        age=_age(person.birth_date, today),
        jurisdiction_id=person.jurisdiction_id,
        jurisdiction_name=place_name,
        household_id=person.household_id,
        address=address_masked,
        revealed=False,
    )


def communities_in_scope(session: Session, scope_path: str) -> dict[str, tuple[int, str]]:
    rows = session.execute(
        select(Jurisdiction.code, Jurisdiction.id, Jurisdiction.path).where(
            under(Jurisdiction.path, scope_path), Jurisdiction.level == Level.community
        )
    )
    return {code: (jid, path) for code, jid, path in rows}


def register(
    session: Session, vault: Vault, bus: EventBus, actor: Principal, fields: dict[str, str]
) -> PersonView:
    """Register one person; errors name the field, a known ID number is a conflict."""
    communities = communities_in_scope(session, actor.jpath)
    errors: list[RowError] = []
    shaped = shape_person(1, fields, vault, communities, errors)
    if shaped is None:
        raise InvalidInput(errors)
    (
        jid,
        jpath,
        hh_hash,
        hh_cipher,
        hh_masked,
        pii,
        id_hash,
        phone_hash,
        name_hash,
        id_masked,
        phone_masked,
        name_masked,
        sex,
        birth,
    ) = shaped
    if session.scalar(select(Person.id).where(Person.id_hash == id_hash)) is not None:
        raise Conflict("a person with this ID number is already registered")
    household = session.scalar(select(Household).where(Household.address_hash == hh_hash))
    if household is None:
        household = Household(
            jurisdiction_id=jid,
            jpath=jpath,
            address_hash=hh_hash,
            address_cipher=hh_cipher,
            address_masked=hh_masked,
        )
        session.add(household)
        session.flush()
    person = Person(
        jurisdiction_id=jid,
        jpath=jpath,
        household_id=household.id,
        pii=pii,
        id_hash=id_hash,
        phone_hash=phone_hash,
        name_hash=name_hash,
        id_masked=id_masked,
        phone_masked=phone_masked,
        name_masked=name_masked,
        sex=sex,
        birth_date=birth,
    )
    session.add(person)
    session.flush()
    audit.record(session, _actor(actor), "people.register", "person", person.id, jpath=jpath)
    bus.publish(session, PersonRegistered(person_id=person.id, jurisdiction_id=jid))
    place = session.get(Jurisdiction, jid)
    return _masked_view(person, place.name if place else "", hh_masked, clock.today())


def _actor(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "web")


def search(
    session: Session,
    vault: Vault,
    principal: Principal,
    query: str = "",
    *,
    jurisdiction_id: int | None = None,
    page: int = 1,
    size: int = 50,
) -> Page:
    """Find people in scope by full ID number, phone or exact name (all matched on keyed hashes)."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    page = max(1, page)
    scope_path = principal.jpath
    if jurisdiction_id is not None:
        node = session.get(Jurisdiction, jurisdiction_id)
        if node is None or not path_in_scope(node.path, principal.jpath):
            raise NotFound(f"jurisdiction {jurisdiction_id} not found")
        scope_path = node.path
    stmt = select(Person).where(under(Person.jpath, scope_path))
    # Hashes are of the folded forms the registry stores: full-width digits (from a Chinese input
    # method) and spaces typed inside a number must not make a known person "not found".
    query = "".join(unicodedata.normalize("NFKC", query).split())
    if query:
        if _ID_LIKE.match(query):
            stmt = stmt.where(Person.id_hash == vault.keyed_hash(query.upper()))
        elif _PHONE_LIKE.match(query):
            stmt = stmt.where(Person.phone_hash == vault.keyed_hash(query[-11:]))
        else:
            stmt = stmt.where(Person.name_hash == vault.keyed_hash(query))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(session.scalars(stmt.order_by(Person.id).offset((page - 1) * size).limit(size)))
    return Page(_views(session, rows), total, page, size)


def _views(session: Session, rows: list[Person]) -> list[PersonView]:
    if not rows:
        return []
    places = dict(
        session.execute(
            select(Jurisdiction.id, Jurisdiction.name).where(
                Jurisdiction.id.in_({p.jurisdiction_id for p in rows})
            )
        ).all()
    )
    households = dict(
        session.execute(
            select(Household.id, Household.address_masked).where(
                Household.id.in_({p.household_id for p in rows if p.household_id is not None})
            )
        ).all()
    )
    today = clock.today()
    return [
        _masked_view(p, places.get(p.jurisdiction_id, ""), households.get(p.household_id or -1), today)
        for p in rows
    ]


def _outside_scope_allowed(session: Session, principal: Principal, person: Person) -> bool:
    """Whether a person outside the reader's subtree may be read anyway: a grant with a stated reason
    ("break the glass"); the checks are listed in ``wiring.outside_scope_checks`` and audit each read."""
    from fangkong.wiring import outside_scope_checks

    return any(check(session, principal, person) for check in outside_scope_checks())


def get(session: Session, principal: Principal, person_id: int) -> PersonView:
    person = session.get(Person, person_id)
    if person is None or (
        not path_in_scope(person.jpath, principal.jpath)
        and not _outside_scope_allowed(session, principal, person)
    ):
        raise NotFound(f"person {person_id} not found")
    return _views(session, [person])[0]


def reveal(session: Session, vault: Vault, principal: Principal, person_id: int, ip: str = "") -> PersonView:
    """The full personal data, for roles that need it; the read is audited before it is returned."""
    person = session.get(Person, person_id)
    if person is None or (
        not path_in_scope(person.jpath, principal.jpath)
        and not _outside_scope_allowed(session, principal, person)
    ):
        raise NotFound(f"person {person_id} not found")
    data: PersonalData = vault.decrypt_person(person.pii)
    audit.record(
        session,
        _actor(principal, ip),
        "people.reveal",
        "person",
        person.id,
        jpath=person.jpath,
        detail={"fields": ["id_number", "name", "phone", "address"]},
    )
    masked = _views(session, [person])[0]
    return PersonView(
        **{
            **masked.__dict__,
            "name": data.name,
            "id_number": data.id_number,
            "phone": data.phone or None,
            "address": data.address,
            "revealed": True,
        }
    )


def household_members(session: Session, principal: Principal, household_id: int) -> list[PersonView]:
    household = session.get(Household, household_id)
    if household is None or not path_in_scope(household.jpath, principal.jpath):
        raise NotFound(f"household {household_id} not found")
    rows = list(
        session.scalars(select(Person).where(Person.household_id == household_id).order_by(Person.id))
    )
    return _views(session, rows)


def count_in_scope(session: Session, scope_path: str) -> int:
    return (
        session.scalar(select(func.count()).select_from(Person).where(under(Person.jpath, scope_path))) or 0
    )


def views_by_ids(session: Session, scope_path: str, person_ids: list[int]) -> dict[int, PersonView]:
    """Masked views of the given people that lie in scope, in one query (list pages of other capabilities)."""
    found: dict[int, PersonView] = {}
    unique = sorted(set(person_ids))
    for start in range(0, len(unique), 1000):
        rows = list(
            session.scalars(
                select(Person).where(
                    Person.id.in_(unique[start : start + 1000]), under(Person.jpath, scope_path)
                )
            )
        )
        found.update((v.id, v) for v in _views(session, rows))
    return found


def ids_by_id_hash(
    session: Session, scope_path: str, id_hashes: list[str]
) -> dict[str, tuple[int, int, str]]:
    """Registry people in scope by keyed ID-number hash: hash → (person id, jurisdiction id, jpath).

    The bulk form of looking a person up by full ID number, for imports that match thousands of rows.
    """
    found: dict[str, tuple[int, int, str]] = {}
    unique = sorted(set(id_hashes))
    for start in range(0, len(unique), 1000):
        rows = session.execute(
            select(Person.id_hash, Person.id, Person.jurisdiction_id, Person.jpath).where(
                Person.id_hash.in_(unique[start : start + 1000]), under(Person.jpath, scope_path)
            )
        )
        found.update((h, (pid, jid, path)) for h, pid, jid, path in rows)
    return found


@dataclass(frozen=True)
class PopulationArrays:
    """The registry's people in a subtree as columns, one entry per person, in person-id order.

    ``household_id`` is -1 for people without a household; ``age`` is in whole years on ``as_of``.
    """

    person_id: npt.NDArray[np.int64]
    age: npt.NDArray[np.int64]
    household_id: npt.NDArray[np.int64]
    jurisdiction_id: npt.NDArray[np.int64]
    as_of: dt.date

    @property
    def size(self) -> int:
        return int(self.person_id.shape[0])


def population_arrays(session: Session, scope_path: str, *, as_of: dt.date | None = None) -> PopulationArrays:
    """Age, household and jurisdiction of everyone in a subtree, as numpy arrays (for the simulator).

    A drill's sandbox lies outside every real subtree (``core.scope``), so its synthetic residents are
    counted only when ``scope_path`` is the sandbox itself.
    """
    import numpy as np

    today = as_of or clock.today()
    conditions = [under(Person.jpath, scope_path)]
    rows = session.execute(
        select(Person.id, Person.birth_date, Person.household_id, Person.jurisdiction_id)
        .where(*conditions)
        .order_by(Person.id)
    ).all()
    n = len(rows)
    person_id = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    birth = np.array([r[1] for r in rows], dtype="datetime64[D]") if n else np.empty(0, "datetime64[D]")
    household = np.fromiter((-1 if r[2] is None else r[2] for r in rows), dtype=np.int64, count=n)
    jurisdiction = np.fromiter((r[3] for r in rows), dtype=np.int64, count=n)
    return PopulationArrays(person_id, _ages(birth, today), household, jurisdiction, today)


def _ages(birth: npt.NDArray[np.datetime64], today: dt.date) -> npt.NDArray[np.int64]:
    """Whole years between each birth date and ``today`` (a birthday counts on its day)."""
    import numpy as np

    if birth.size == 0:
        return np.empty(0, dtype=np.int64)
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    months = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    before_birthday = (months > today.month) | ((months == today.month) & (days > today.day))
    ages: npt.NDArray[np.int64] = (today.year - years - before_birthday.astype(np.int64)).astype(np.int64)
    return ages
