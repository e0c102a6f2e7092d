"""The people an import names, resolved in bulk: registry matches by keyed ID hash, new residents
registered through ``core.people_import``, everyone else kept as unidentified people (one record per
person, reusing those already kept), and the places (community, residence) every row must name rightly.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import people
from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.crypto import Vault
from fangkong.core.errors import InvalidInput
from fangkong.core.people_import import import_people_csv
from fangkong.core.people_rules import Keys
from fangkong.core.scope import path_in_scope, under
from fangkong.tracing import persons, service
from fangkong.tracing.imports.common import ImportReport, _Errors, _reserve_ids, _write
from fangkong.tracing.models import UnidentifiedPerson

# ------------------------------------------------------------------------------------------ people


@dataclass
class _PersonNeed:
    row: int
    person: persons.CleanPerson


class _People:
    """Resolves the people named by many rows at once."""

    def __init__(
        self, session: Session, vault: Vault, keys: Keys, principal: Principal, report: ImportReport
    ) -> None:
        self.session, self.vault, self.keys, self.principal, self.report = (
            session,
            vault,
            keys,
            principal,
            report,
        )

    def resolve(self, needs: list[_PersonNeed], errors: _Errors) -> dict[int, persons.Subject]:
        """Subject per row number; the same person named by several rows gets one subject."""
        vault, scope = self.vault, self.principal.jpath
        hashes = {n.row: vault.keyed_hash(n.person.id_number) for n in needs if n.person.id_number}
        found = people.ids_by_id_hash(self.session, scope, list(hashes.values()))
        communities = people.communities_in_scope(self.session, scope)
        register: dict[str, _PersonNeed] = {}
        for n in needs:
            h = hashes.get(n.row)
            p = n.person
            if h and h not in found and p.community_code in communities and p.address and p.name:
                register.setdefault(h, n)
        if register:
            self._register(list(register.values()), hashes, errors)
            errors.check()
            found.update(people.ids_by_id_hash(self.session, scope, list(register)))
        subjects: dict[int, persons.Subject] = {}
        rest: list[_PersonNeed] = []
        for n in needs:
            h = hashes.get(n.row)
            if h and h in found:
                pid, jid, path = found[h]
                subjects[n.row] = persons.Subject(pid, None, jid, path)
            else:
                rest.append(n)
        self.report.people_matched = len({s.person_id for s in subjects.values()})
        subjects.update(self._unidentified(rest))
        return subjects

    def _register(self, needs: list[_PersonNeed], hashes: dict[int, str], errors: _Errors) -> None:
        """New residents go into the registry through its own bulk import (set-based, audited there)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "residents.csv"
            pending = list(needs)
            for _attempt in range(2):
                with path.open("w", encoding="utf-8", newline="") as fh:
                    out = csv.writer(fh)
                    out.writerow(["id_number", "name", "phone", "community_code", "address"])
                    for n in pending:
                        p = n.person
                        out.writerow([p.id_number, p.name, p.phone, p.community_code, p.address])
                nested = self.session.begin_nested()
                try:
                    result = import_people_csv(
                        self.session,
                        self.keys,
                        service.actor(self.principal),
                        self.principal.jpath,
                        path,
                        workers=1,
                    )
                except InvalidInput as exc:
                    nested.rollback()
                    elsewhere = {e.row for e in exc.errors if "already registered" in e.message}
                    for e in exc.errors:
                        if e.row not in elsewhere and 2 <= e.row < len(pending) + 2:
                            errors.add(pending[e.row - 2].row, e.field, e.text)
                    if errors.items or not elsewhere:
                        return
                    # Registered in another jurisdiction: kept here as unidentified people instead.
                    pending = [n for i, n in enumerate(pending, start=2) if i not in elsewhere]
                    if not pending:
                        return
                    continue
                nested.commit()
                self.report.people_registered += result.created
                return

    def _unidentified(self, needs: list[_PersonNeed]) -> dict[int, persons.Subject]:
        """One record per distinct person (same ID or same phone), reusing records already kept here."""
        if not needs:
            return {}
        vault, session, principal = self.vault, self.session, self.principal
        key_of: dict[int, str] = {}
        for n in needs:
            p = n.person
            if p.id_number:
                key_of[n.row] = "i" + vault.keyed_hash(p.id_number)
            elif p.phone:
                key_of[n.row] = "m" + vault.keyed_hash(p.phone)
        existing: dict[str, persons.Subject] = {}
        for column, prefix in ((UnidentifiedPerson.id_hash, "i"), (UnidentifiedPerson.phone_hash, "m")):
            wanted = sorted({k[1:] for k in key_of.values() if k[0] == prefix})
            for start in range(0, len(wanted), 1000):
                for rid, h, jid, path, residence in session.execute(
                    select(
                        UnidentifiedPerson.id,
                        column,
                        UnidentifiedPerson.jurisdiction_id,
                        UnidentifiedPerson.jpath,
                        UnidentifiedPerson.residence_jurisdiction_id,
                    ).where(
                        column.in_(wanted[start : start + 1000]),
                        UnidentifiedPerson.person_id.is_(None),
                        under(UnidentifiedPerson.jpath, principal.jpath),
                    )
                ):
                    if h is not None:
                        existing.setdefault(prefix + h, persons.Subject(None, rid, jid, path, residence))
        places = _places(
            session, {c for n in needs for c in (n.person.community_code, n.person.residence_code) if c}
        )
        result: dict[int, persons.Subject] = {}
        groups: dict[str, list[int]] = {}
        first: dict[str, _PersonNeed] = {}
        for n in needs:
            key = key_of.get(n.row) or f"#{n.row}"
            if key in existing:
                result[n.row] = existing[key]
                continue
            if key not in groups:
                groups[key], first[key] = [], n
            groups[key].append(n.row)
        ids = _reserve_ids(session, UnidentifiedPerson.__tablename__, len(groups))
        now = utcnow()
        columns = (
            "id",
            "jurisdiction_id",
            "jpath",
            "pii",
            "id_hash",
            "phone_hash",
            "name_hash",
            "label",
            "id_masked",
            "phone_masked",
            "sex",
            "age",
            "residence_jurisdiction_id",
            "created_at",
        )
        values = []
        for rid, key in zip(ids, groups, strict=True):
            person = first[key].person
            jid, path, residence = _responsible(principal, person, places)
            c = persons.unidentified_columns(vault, person)
            values.append(
                (
                    rid,
                    jid,
                    path,
                    c["pii"],
                    c["id_hash"],
                    c["phone_hash"],
                    c["name_hash"],
                    c["label"],
                    c["id_masked"],
                    c["phone_masked"],
                    c["sex"],
                    c["age"],
                    residence,
                    now,
                )
            )
            subject = persons.Subject(None, rid, jid, path, residence)
            for row in groups[key]:
                result[row] = subject
        _write(session, UnidentifiedPerson, columns, values)
        self.report.unidentified += len(values)
        return result


def _places(session: Session, codes: set[str]) -> dict[str, tuple[int, str]]:
    from fangkong.core.models import Jurisdiction

    if not codes:
        return {}
    rows = session.execute(
        select(Jurisdiction.code, Jurisdiction.id, Jurisdiction.path).where(
            Jurisdiction.code.in_(sorted(codes))
        )
    )
    return {code: (jid, path) for code, jid, path in rows}


def _check_places(
    session: Session, named: Sequence[tuple[int, persons.CleanPerson]], errors: _Errors
) -> None:
    """Every community and residence code of the file must exist, by the single-entry rule
    (``persons.place_problems``), all codes looked up at once."""
    codes = {code for _row, p in named for code in (p.community_code, p.residence_code) if code}
    if not codes:
        return
    places = persons.places_by_code(session, codes)
    for row, person in named:
        for e in persons.place_problems(person, places, row):
            errors.add(e.row, e.field, e.text)


def _responsible(
    principal: Principal, person: persons.CleanPerson, places: dict[str, tuple[int, str]]
) -> tuple[int, str, int | None]:
    for code in (person.community_code, person.residence_code):
        place = places.get(code) if code else None
        if place is None:
            continue
        if path_in_scope(place[1], principal.jpath):
            return place[0], place[1], None
        return principal.jurisdiction_id, principal.jpath, place[0]
    return principal.jurisdiction_id, principal.jpath, None
