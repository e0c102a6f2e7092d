"""Doses: recording one at a vaccination site, listing them, and counting them by lot.

A dose belongs to a person of the registry and takes that person's ``jpath``, so every read here is one
scope filter on the doses table. A recorded dose is announced (``DosesRecorded``) so the person's status
is evaluated again in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.crypto import Vault
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.models import Person
from fangkong.core.scope import path_in_scope, under
from fangkong.vaccination.events import DosesRecorded
from fangkong.vaccination.models import Dose, DoseKind, Platform
from fangkong.vaccination.service.doses_batch import (
    MAX_DOSE_NUMBER,
    Bad,
    kind_error,
    parse_day,
    parse_lot,
    parse_product,
    parse_site,
    platform_label,
    platform_of_product,
    too_young,
)

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class DoseView:
    """A dose as the lists show it: the person masked."""

    id: int
    person_id: int
    person_name: str
    person_id_number: str
    product: str
    platform: Platform
    dose_number: int
    kind: DoseKind
    given_on: dt.date
    site: str
    lot: str
    source: str
    created_at: dt.datetime


@dataclass(frozen=True)
class DosePage:
    items: list[DoseView]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def person_by_id_number(session: Session, vault: Vault, principal: Principal, id_number: str) -> int:
    """The registry id of the person with this ID number in the caller's scope (else NotFound)."""
    person = session.execute(
        select(Person.id, Person.jpath).where(Person.id_hash == vault.keyed_hash(id_number.strip()))
    ).first()
    if person is None or not path_in_scope(person.jpath, principal.jpath):
        raise NotFound("no one with this ID number is registered in your jurisdiction")
    return int(person.id)


def _checked(
    product: str,
    platform: Platform | None,
    dose_number: int,
    kind: DoseKind,
    given_on: dt.date,
    site: str,
    lot: str,
) -> tuple[str, Platform, str, str]:
    """The same checks as an imported row's, each error naming the field."""
    errors: list[RowError] = []
    values: dict[str, object] = {
        "product": parse_product(product),
        "site": parse_site(site),
        "lot": parse_lot(lot),
        "given_on": parse_day(given_on, clock.today()),
    }
    for name, value in values.items():
        if isinstance(value, Bad):
            errors.append(RowError(1, name, value.message))
    known = platform_of_product(product)
    chosen = platform or known
    if chosen is None:
        errors.append(
            RowError(1, "platform", Message("needed: “{product}” is not a product we know", product=product))
        )
    elif known is not None and platform is not None and known is not platform:
        errors.append(
            RowError(
                1,
                "platform",
                Message("“{product}” is {platform}", product=product, platform=platform_label(known)),
            )
        )
    if not 1 <= dose_number <= MAX_DOSE_NUMBER:
        errors.append(
            RowError(1, "dose_number", Message("dose number must be from 1 to {most}", most=MAX_DOSE_NUMBER))
        )
    elif (problem := kind_error(kind, dose_number)) is not None:
        errors.append(RowError(1, "kind", problem))
    if errors or chosen is None:
        raise InvalidInput(errors)
    return product.strip(), chosen, site.strip(), lot.strip()


def record_dose(
    session: Session,
    principal: Principal,
    bus: EventBus,
    person_id: int,
    product: str,
    platform: Platform | None,
    dose_number: int,
    kind: DoseKind,
    given_on: dt.date,
    site: str,
    lot: str,
    *,
    ip: str = "local",
) -> Dose:
    """Record one dose given at a site (``doses_record``); the platform may be left to the product name."""
    person = session.get(Person, person_id)
    if person is None or not path_in_scope(person.jpath, principal.jpath):
        raise NotFound("no such person in your jurisdiction")
    product, chosen, site, lot = _checked(product, platform, dose_number, kind, given_on, site, lot)
    if (problem := too_young(person.birth_date, given_on)) is not None:
        raise InvalidInput([RowError(1, "given_on", problem)])
    taken = session.scalar(
        select(Dose.id).where(Dose.person_id == person_id, Dose.dose_number == dose_number)
    )
    if taken is not None:
        raise Conflict("this person's dose with this number is already recorded")
    dose = Dose(
        person_id=person_id,
        jpath=person.jpath,
        product=product,
        platform=chosen,
        dose_number=dose_number,
        kind=kind,
        given_on=given_on,
        site=site,
        lot=lot,
        source=f"api:{principal.username}"[:200],
    )
    session.add(dose)
    session.flush()
    audit.record(
        session,
        audit.Actor(principal.user_id, principal.username, ip),
        "doses.record",
        "dose",
        dose.id,
        jpath=person.jpath,
        detail={"person_id": person_id, "dose_number": dose_number, "product": product, "lot": lot},
    )
    bus.publish(session, DosesRecorded((person_id,)))
    return dose


def list_doses(
    session: Session,
    principal: Principal,
    *,
    person_id: int | None = None,
    lot: str | None = None,
    page: int = 1,
    size: int = 50,
) -> DosePage:
    """Doses in the caller's scope, newest first, filtered by person and lot (exact), paged."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    page = max(1, page)
    where = [under(Dose.jpath, principal.jpath)]
    if person_id is not None:
        where.append(Dose.person_id == person_id)
    if lot:
        where.append(Dose.lot == lot.strip())
    total = session.scalar(select(func.count()).select_from(Dose).where(*where)) or 0
    rows = session.execute(
        select(Dose, Person.name_masked, Person.id_masked)
        .join(Person, Person.id == Dose.person_id)
        .where(*where)
        .order_by(Dose.given_on.desc(), Dose.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    items = [
        DoseView(
            id=d.id,
            person_id=d.person_id,
            person_name=name,
            person_id_number=id_masked,
            product=d.product,
            platform=d.platform,
            dose_number=d.dose_number,
            kind=d.kind,
            given_on=d.given_on,
            site=d.site,
            lot=d.lot,
            source=d.source,
            created_at=d.created_at,
        )
        for d, name, id_masked in rows
    ]
    return DosePage(items, total, page, size)


def doses_by_lot(session: Session, jpath: str) -> dict[tuple[str, str], int]:
    """Doses given under ``jpath``, counted by (product, lot): the denominators of AEFI rates."""
    rows = session.execute(
        select(Dose.product, Dose.lot, func.count())
        .where(under(Dose.jpath, jpath))
        .group_by(Dose.product, Dose.lot)
    )
    return {(product, lot): int(n) for product, lot, n in rows}
