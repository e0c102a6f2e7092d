"""Coverage equals a direct count (SQLite and PostgreSQL): a registry of a few hundred people of every
age with realistic dose histories across the seeded province, counted by ``coverage.refresh`` and
counted again here straight from people and doses, for every jurisdiction, band, measure and day; then
doses recorded after the count move the stored figures to what a new count gives, by the small path and
by the recount path."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from sqlalchemy import select

from conftest import World
from fangkong.core import clock
from fangkong.core.models import Jurisdiction, Person
from fangkong.vaccination.events import DosesRecorded
from fangkong.vaccination.models import CoverageCount, Dose, DoseKind, Platform
from fangkong.vaccination.rules.bands import ELDERLY_BANDS, band_of
from fangkong.vaccination.rules.coverage import days_counted
from fangkong.vaccination.service import coverage, status

COMMUNITIES = ("330106001001", "330106001002", "330102001001", "330203001001")
SERIES = {Platform.inactivated: 2, Platform.vector: 1, Platform.protein: 3}


def add_people(session, world: World, n: int, seed: int) -> list[int]:  # type: ignore[no-untyped-def]
    """``n`` residents of the seeded communities, born any day of the last 100 years (some under 3)."""
    rng = random.Random(seed)
    paths = {
        code: session.scalar(select(Jurisdiction.path).where(Jurisdiction.code == code))
        for code in COMMUNITIES
    }
    today = clock.today()
    people = []
    for i in range(n):
        code = rng.choice(COMMUNITIES)
        people.append(
            Person(
                jurisdiction_id=world.jurisdictions[code],
                jpath=paths[code],
                pii=b"-",
                id_hash=f"vax-test-{seed}-{i}",
                name_hash=f"n{i}",
                id_masked="3301**********0000",
                name_masked="张*",
                sex="F" if i % 2 else "M",
                birth_date=today - dt.timedelta(days=rng.randint(0, 100 * 365)),
            )
        )
    session.add_all(people)
    session.flush()
    return [p.id for p in people]


def add_doses(session, person_ids: list[int], seed: int, *, since_days: int = 400) -> list[int]:  # type: ignore[no-untyped-def]
    """A clean history for most of these people: primary doses of one platform 21-40 days apart, some
    stopped part way, a booster after 3-9 months, a second booster 6-9 months later; dates fall within
    ``since_days`` before today, so that the last weeks' counts differ."""
    rng = random.Random(seed)
    today = clock.today()
    touched = []
    for pid in person_ids:
        person = session.get(Person, pid)
        if rng.random() < 0.2:
            continue
        platform = rng.choice(list(SERIES))
        day = max(
            today - dt.timedelta(days=rng.randint(0, since_days)), person.birth_date + dt.timedelta(days=1100)
        )
        planned = SERIES[platform] - (1 if rng.random() < 0.15 and SERIES[platform] > 1 else 0)
        kinds = [DoseKind.primary] * planned
        if planned == SERIES[platform] and rng.random() < 0.7:
            kinds.append(DoseKind.booster)
            if rng.random() < 0.5:
                kinds.append(DoseKind.second_booster)
        number = 0
        for kind in kinds:
            if day > today:
                break
            number += 1
            session.add(
                Dose(
                    person_id=pid, jpath=person.jpath, product="X", platform=platform, dose_number=number,
                    kind=kind,
                    given_on=day, site="S", lot="L1", source="test",
                )
            )  # fmt: skip
            day += dt.timedelta(
                days=rng.randint(21, 40) if kind == DoseKind.primary else rng.randint(95, 280)
            )
        if number:
            touched.append(pid)
    session.flush()
    return touched


def direct_count(session) -> Counter[tuple[str, dt.date, str, str]]:  # type: ignore[no-untyped-def]
    """(jurisdiction path, day, band, measure or "denominator") → people, from people and doses only."""
    days = days_counted(clock.today())
    paths = list(session.scalars(select(Jurisdiction.path)))
    doses: dict[int, list[Dose]] = {}
    for d in session.scalars(select(Dose)):
        doses.setdefault(d.person_id, []).append(d)
    counts: Counter[tuple[str, dt.date, str, str]] = Counter()
    for person in session.scalars(select(Person)):
        own = sorted(doses.get(person.id, []), key=lambda d: d.given_on)
        primaries = [d for d in own if d.kind == DoseKind.primary]
        for day in days:
            band = band_of(person.birth_date, day)
            if band is None:
                continue
            given = [d for d in own if d.given_on <= day]
            reached = {
                "denominator": True,
                "at_least_one": bool(given),
                "primary_complete": bool(primaries)
                and sum(d.given_on <= day for d in primaries) >= SERIES[primaries[0].platform],
                "booster": any(d.kind == DoseKind.booster for d in given),
                "second_booster": any(d.kind == DoseKind.second_booster for d in given),
            }
            bands = [band, "all", *(["60+"] if band in ELDERLY_BANDS else [])]
            for path in paths:
                if person.jpath.startswith(path):
                    for b in bands:
                        for what, yes in reached.items():
                            counts[(path, day, b, what)] += int(yes)
    return counts


def stored(session) -> Counter[tuple[str, dt.date, str, str]]:  # type: ignore[no-untyped-def]
    counts: Counter[tuple[str, dt.date, str, str]] = Counter()
    for row in session.scalars(select(CoverageCount)):
        counts[(row.jpath, row.as_of, row.band, row.measure)] += row.numerator
        # Each measure's row repeats the denominator: keep it once, and check the repeats agree.
        key = (row.jpath, row.as_of, row.band, "denominator")
        assert counts.setdefault(key, row.denominator) == row.denominator, key
    return +counts


def test_coverage_equals_a_direct_count_over_people_and_doses(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        ids = add_people(session, world, 400, seed=1)
        add_doses(session, ids, seed=2)
        status.evaluate(session)
        written = coverage.refresh(session)
        expected = +direct_count(session)
        got = stored(session)
        assert got == expected
        assert written == len(session.scalars(select(CoverageCount.id)).all())
        province = session.scalar(select(Jurisdiction.path).where(Jurisdiction.code == "330000"))
        today = clock.today()
        # Every registry person aged 3 or over is in the province's denominator once.
        aged = sum(1 for p in session.scalars(select(Person)) if band_of(p.birth_date, today) is not None)
        assert got[(province, today, "all", "denominator")] == aged
        assert (
            got[(province, today, "all", "at_least_one")]
            > got[(province, today, "all", "primary_complete")]
            > 0
        )


@pytest.mark.parametrize("recount_above", [20_000, 0], ids=["moved", "recounted"])
def test_doses_recorded_after_a_count_keep_the_stored_figures_equal_to_a_count(  # type: ignore[no-untyped-def]
    app, world: World, monkeypatch, recount_above: int
) -> None:
    monkeypatch.setattr(coverage, "RECOUNT_ABOVE", recount_above)
    with app.state.db.unit_of_work() as session:
        ids = add_people(session, world, 150, seed=3)
        first = ids[:100]
        add_doses(session, first, seed=4)
        coverage.refresh(session)
        # New doses for people counted unvaccinated, some given weeks ago (a late import).
        touched = add_doses(session, ids[100:], seed=5, since_days=60)
        assert touched
        status.on_doses_recorded(session, DosesRecorded(person_ids=tuple(touched)))
        assert stored(session) == +direct_count(session)


def test_a_resident_registered_after_a_count_enters_the_denominators(app, world: World) -> None:  # type: ignore[no-untyped-def]
    from fangkong.core.events import PersonRegistered

    with app.state.db.unit_of_work() as session:
        coverage.refresh(session)
        (pid,) = add_people(session, world, 1, seed=7)
        person = session.get(Person, pid)
        person.birth_date = dt.date(1940, 1, 1)
        session.flush()
        status.on_person_registered(
            session, PersonRegistered(person_id=pid, jurisdiction_id=person.jurisdiction_id)
        )
        assert stored(session) == +direct_count(session)
