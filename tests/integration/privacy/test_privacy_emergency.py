"""The end-of-emergency purge, on SQLite and PostgreSQL: only a province-level administrator closes an
emergency; the purge waits out the confirmation period; afterwards no personal field or keyed hash of
the purged people is left in any table (every table and column scanned), nor a name typed into the
free text of any capability (notes, typed addresses, reasons, an access reason), the counts by day, age band
and jurisdiction and the dashboard's stored figures are what they were, and the deletion report and
the audit log say how many of each class, never whom."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from privacy_rows import make, tables
from sqlalchemy import Date, LargeBinary, String, Text, func, select

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import audit, clock
from fangkong.core.auth import principal_for
from fangkong.core.crypto import Vault
from fangkong.core.errors import Conflict, Forbidden
from fangkong.core.models import AuditEntry, Household, Person, User
from fangkong.privacy.rules.retention import CONFIRMATION_DAYS, RECORD_CLASSES
from fangkong.privacy.service import emergency, linkage, retention

# The stored figures the dashboard, the daily report and the drills show.
STORED = ("response_gauges", "response_daily_counts", "response_closures", "modeling_drills")


def _principal(session: Any, world: World, username: str) -> Any:
    return principal_for(session, session.get(User, world.users[username]), "token")


def _dump(session: Any, name: str) -> list[tuple[object, ...]]:
    t = tables()[name]
    return sorted(tuple(map(repr, row)) for row in session.execute(select(t)))


def _counts(session: Any) -> Counter[tuple[object, ...]]:
    """Rows of every person-linked table and of the registry, by jurisdiction and every date column
    (by sex and birth date for people: what age bands are counted from)."""
    out: Counter[tuple[object, ...]] = Counter()
    names = {r.table.name for r in linkage.person_refs()} | {"people"}
    for name in sorted(names):
        t = tables()[name]
        keys = [c for c in t.columns if c.name == "jpath" or isinstance(c.type, Date) or c.name == "sex"]
        for row in session.execute(select(*keys, func.count()).group_by(*keys)):
            out[(name, *row[:-1])] += row[-1]
    return out


def _secrets(session: Any, vault: Vault, purged: list[int], kept: list[int], world: World) -> set[object]:
    """Everything that names a purged person: their ciphertexts, keyed hashes no kept person shares,
    their ID numbers and phones in clear, their households' addresses."""
    found: set[object] = set()
    shared = set()
    for p in session.scalars(select(Person).where(Person.id.in_(kept))):
        shared |= {p.id_hash, p.phone_hash, p.name_hash}
    for p in session.scalars(select(Person).where(Person.id.in_(purged))):
        data = vault.decrypt_person(p.pii)
        found |= {p.pii, data.id_number, data.phone, world.id_numbers[p.id]}
        found |= {h for h in (p.id_hash, p.phone_hash, p.name_hash) if h and h not in shared}
        household = session.get(Household, p.household_id)
        kept_members = session.scalar(
            select(func.count()).where(Person.household_id == p.household_id, Person.id.in_(kept))
        )
        if household is not None and not kept_members:
            found |= {household.address_hash, household.address_cipher}
    return found


def _scan(session: Any, secrets: set[object]) -> list[str]:
    """Every text and binary column of every table, searched for the secrets (whole values and, for
    text, inside longer values such as audit details)."""
    words = [s for s in secrets if isinstance(s, str)]
    hits = []
    for name, t in tables().items():
        columns = [c for c in t.columns if isinstance(c.type, String | Text | LargeBinary)]
        if not columns:
            continue
        for row in session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                if value in secrets or (isinstance(value, str) and any(w in value for w in words)):
                    hits.append(f"{name}.{column.name}")
    return hits


def _typed(name: str) -> str:
    """What a user might type into a note: the person's name inside a longer text."""
    return f"电话联系{name}，其家属称住在幸福路12号"


def _plant_free_text(session: Any, person: Person, name: str, made: dict[str, int]) -> set[str]:
    """A note naming the person typed into every personal text column of every table that has one:
    on the person's own rows, on rows hanging off them (a visit of their case), on a record about them
    kept by someone else (an access grant), and on rows filed in their jurisdiction only (a task's
    note). Returns the tables planted in."""
    planted = set()
    for t in tables().values():
        texts = {c.name: _typed(name) for c in linkage.personal_text_columns(t)}
        if not texts:
            continue
        refs = [c for c in t.columns if c in {r.column for r in linkage.person_refs()}]
        parents = [
            (c, fk.column.table.name)
            for c in t.columns
            for fk in c.foreign_keys
            if fk.column.table.name in made and fk.column.table is not t
        ]
        if t.name in made:
            session.execute(t.update().where(next(iter(t.primary_key.columns)) == made[t.name]).values(texts))
        elif any(c.name == "person_id" for c in refs):
            make(session, t.name, person_id=person.id, jpath=person.jpath, **texts)
        elif parents:
            column, parent = parents[0]
            # person_id passes to the parents make() adds (a chain link's other case is theirs too).
            make(
                session,
                t.name,
                **{column.name: made[parent]},
                person_id=person.id,
                jpath=person.jpath,
                **texts,
            )
        elif refs:
            make(session, t.name, **{refs[0].name: person.id}, **texts)
        else:
            assert "jpath" in t.c, f"{t.name} has personal text but nothing ties it to a person or place"
            make(session, t.name, jpath=person.jpath, **texts)
        planted.add(t.name)
    return planted


@pytest.fixture
def collected(app: Any, world: World, settings: Any) -> dict[str, Any]:
    """Records of every person-linked table for the home county's people, stored figures beside them,
    and a note naming the person typed into every free-text column that may hold one."""
    db = app.state.db
    vault = Vault(settings.encryption_key, settings.hash_key)
    purged = world.people[HOME_COUNTY]
    names = []
    with db.unit_of_work() as session:
        for rule in RECORD_CLASSES:
            if rule.person_column:  # an anonymising purge: every class keeps its rows
                retention.set_rule(
                    session, audit.SYSTEM, rule.code, rule.default_period_days, "anonymise", True
                )
        owning = sorted({r.table.name for r in linkage.person_refs() if r.owns})
        for pid in purged:
            person = session.get(Person, pid)
            made = {name: make(session, name, person_id=pid, jpath=person.jpath) for name in owning}
            # Copies of identity without a link: an arrival registered before the person was known.
            make(session, "arrivals", id_hash=person.id_hash, phone_hash=person.phone_hash, pii=person.pii)
            names.append(vault.decrypt_person(person.pii).name)
            planted = _plant_free_text(session, person, names[-1], made)
        contact = make(session, "tracing_contacts", person_id=purged[0], jpath=person.jpath)
        make(session, "tracing_assist_requests", contact_id=contact, located_person_id=purged[0], pii=b"x")
        for name in STORED:
            make(session, name, jpath="/330000/330100/330106/")
    return {"purged": purged, "kept": world.people[FOREIGN_COUNTY], "names": names, "planted": planted}


def test_an_anonymising_purge_leaves_no_trace_of_the_people_and_every_count_as_it_was(
    app: Any, world: World, settings: Any, collected: dict[str, Any], frozen_clock: Any
) -> None:
    db = app.state.db
    vault = Vault(settings.encryption_key, settings.hash_key)
    with db.unit_of_work() as session:
        secrets = _secrets(session, vault, collected["purged"], collected["kept"], world)
        secrets |= set(collected["names"])
        assert set(_scan(session, secrets)) >= {"people.pii", "people.id_hash", "arrivals.id_hash"}
        # The typed notes are there to be found: in every capability's free text, and the access reason.
        typed = {hit.split(".")[0] for hit in _scan(session, set(collected["names"]))}
        assert typed == collected["planted"]
        assert {
            "tracing_cases",
            "tracing_visits",
            "quarantine_room_events",
            "arrivals",
            "response_task_events",
            "vaccination_outreach",
            "privacy_access_grants",
        } <= typed
        counts_before = _counts(session)
        cases = session.scalar(select(func.count()).select_from(tables()["tracing_cases"]))
        stored_before = {name: _dump(session, name) for name in STORED}
        admin = _principal(session, world, "province_admin")
        county_admin = _principal(session, world, "home_administrator")
        with pytest.raises(Forbidden):
            emergency.open_emergency(session, county_admin, audit.SYSTEM, "西湖区疫情", clock.today())
        row = emergency.open_emergency(session, admin, audit.SYSTEM, "2026年冬季疫情", clock.today())
        with pytest.raises(Conflict):
            emergency.purge(session, admin, audit.SYSTEM, row.id)  # not closed yet
        emergency_id = row.id
    frozen_clock.advance(dt.timedelta(days=1))
    with db.unit_of_work() as session:
        admin = _principal(session, world, "province_admin")
        with pytest.raises(Forbidden):
            emergency.close(
                session, _principal(session, world, "home_administrator"), audit.SYSTEM, emergency_id
            )
        emergency.close(session, admin, audit.Actor(admin.user_id, admin.username), emergency_id)
    with db.unit_of_work() as session, pytest.raises(Conflict):
        emergency.purge(session, _principal(session, world, "province_admin"), audit.SYSTEM, emergency_id)
    frozen_clock.advance(dt.timedelta(days=CONFIRMATION_DAYS))
    with db.unit_of_work() as session:
        admin = _principal(session, world, "province_admin")
        report = emergency.purge(session, admin, audit.Actor(admin.user_id, admin.username), emergency_id)
    assert report.people == len(collected["purged"])
    assert report.classes["cases"] == {"action": "anonymise", "records": cases}
    assert report.purged_by == "province_admin" and report.closed_by == "province_admin"

    with db.unit_of_work() as session:
        assert _scan(session, secrets) == []
        assert _counts(session) == counts_before
        assert {name: _dump(session, name) for name in STORED} == stored_before
        # The people kept are untouched.
        for p in session.scalars(select(Person).where(Person.id.in_(collected["kept"]))):
            assert vault.decrypt_person(p.pii).id_number == world.id_numbers[p.id]
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.emergency_purged"))
        assert entry is not None and entry.actor == "province_admin"
        assert f'"people": {len(collected["purged"])}' in entry.detail
        stored = emergency.get(session, "/", emergency_id)
        assert emergency.deletion_report(stored) == report.as_dict()
        with pytest.raises(Conflict):
            emergency.purge(session, _principal(session, world, "province_admin"), audit.SYSTEM, emergency_id)


def test_a_deleting_purge_takes_the_people_and_their_records(
    app: Any, world: World, settings: Any, collected: dict[str, Any], frozen_clock: Any
) -> None:
    db = app.state.db
    vault = Vault(settings.encryption_key, settings.hash_key)
    with db.unit_of_work() as session:
        for rule in RECORD_CLASSES:
            if rule.person_column:
                retention.set_rule(session, audit.SYSTEM, rule.code, rule.default_period_days, "delete", True)
        secrets = _secrets(session, vault, collected["purged"], collected["kept"], world)
        stored_before = {name: _dump(session, name) for name in STORED}
        admin = _principal(session, world, "province_admin")
        emergency_id = emergency.open_emergency(session, admin, audit.SYSTEM, "疫情", clock.today()).id
        emergency.close(session, admin, audit.SYSTEM, emergency_id)
    frozen_clock.advance(dt.timedelta(days=CONFIRMATION_DAYS))
    with db.unit_of_work() as session:
        report = emergency.purge_due(session, audit.SYSTEM)  # the nightly job's part
    assert [r.people for r in report] == [len(collected["purged"])]
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).where(Person.id.in_(collected["purged"]))) == 0
        for ref in linkage.person_refs():
            if ref.weak:  # a record about the person kept by someone else: stays, its free text blank
                continue
            left = session.scalar(select(func.count()).where(ref.column.in_(collected["purged"])))
            assert left == 0, ref.table.name
        assert _scan(session, secrets | set(collected["names"])) == []
        assert {name: _dump(session, name) for name in STORED} == stored_before
        assert session.scalar(select(func.count()).where(Person.id.in_(collected["kept"]))) == 3
