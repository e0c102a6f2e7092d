"""``fangkong demo``: the demo region (``core.demo_loader``), then each capability's part of it.

The registry comes first (places, residents, one account per role); then each capability seeds what
makes its pages alive on first run, through its own use cases; last, the response part plays a recent
outbreak in the demo county, so the command centre logs in to a county in the middle of one. A
database that already has people is left alone with ``--if-empty``.
"""

from __future__ import annotations

import time

from rich.console import Console
from sqlalchemy import func, select

from fangkong.core.config import get_settings
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.demo_loader import DemoLogin, load_demo
from fangkong.core.models import Person


def build_demo(db: Database, *, people: int, seed: int, if_empty: bool, console: Console) -> list[DemoLogin]:
    with db.unit_of_work() as session:
        existing = session.scalar(select(func.count()).select_from(Person)) or 0
    logins = load_demo(db, people=people, seed=seed, if_empty=if_empty, console=console)
    if existing and if_empty:
        return logins
    from fangkong.core.demo.region import demo_region_spec
    from fangkong.core.demo_loader import demo_county
    from fangkong.quarantine import demo as quarantine_demo

    settings = get_settings()
    vault = Vault(settings.encryption_key, settings.hash_key)
    region = demo_region_spec()
    from fangkong.response.service import templates as response_templates

    with db.unit_of_work() as session:
        # Before anything happens: the task templates every event below opens its work from.
        response_templates.seed_templates(session)
    started = time.perf_counter()
    with db.unit_of_work() as session:
        part = quarantine_demo.seed(
            session, vault, [c.code for c in region.counties], demo_county(region).code
        )
    console.print(
        f"quarantine: {part.sites} sites with {part.rooms:,} rooms in three tiers; {part.placed} contacts "
        f"placed, {part.checked_in} checked in ({time.perf_counter() - started:.1f} s)"
    )
    from fangkong.resources import demo as resources_demo

    started = time.perf_counter()
    with db.unit_of_work() as session:
        # Before testing: its round's sampling sites open only with the county's certified samplers.
        staffing = resources_demo.seed(
            session, [c.code for c in region.counties], demo_county(region).code, vault
        )
    console.print(
        f"resources: {staffing.staff:,} staff in {staffing.teams} teams, {staffing.deployed} deployed in "
        f"support, {staffing.shifts:,} shifts on this week's roster, {staffing.posted} posted to open "
        f"quarantine sites; {staffing.stores} stores, "
        f"{staffing.alerts} reorder alerts "
        f"({time.perf_counter() - started:.1f} s)"
    )
    from fangkong.testing import demo as testing_demo

    started = time.perf_counter()
    with db.unit_of_work() as session:
        tests = testing_demo.seed(session, settings.hash_key, demo_county(region).code)
    console.print(
        f"testing: round {tests.round_id} under way, {tests.scanned:,} of {tests.expected:,} residents "
        f"scanned, {tests.tubes_reported:,} tubes reported; {tests.orders_sampled} ordered tests sampled "
        f"({time.perf_counter() - started:.1f} s)"
    )
    from fangkong.areas import demo as areas_demo

    started = time.perf_counter()
    other = next(c for c in region.counties if c.code != demo_county(region).code)
    with db.unit_of_work() as session:
        areas = areas_demo.seed(session, vault, demo_county(region).code, other.code)
    console.print(
        f"risk areas: {areas.designated} designated; {areas.arrivals} arrivals registered; "
        f"{areas.requests} doorstep requests ({time.perf_counter() - started:.1f} s)"
    )
    from fangkong.vaccination import demo as vaccination_demo
    from fangkong.wiring import build_bus

    started = time.perf_counter()
    with db.unit_of_work() as session:
        vax = vaccination_demo.seed(session, build_bus(), demo_county(region).code)
    console.print(
        f"vaccination: {vax.doses:,} doses for {vax.people:,} residents; {vax.statuses:,} statuses and "
        f"{vax.coverage_rows:,} coverage counts; {vax.attempts} outreach calls, {vax.adverse_events} "
        f"adverse-event cards ({time.perf_counter() - started:.1f} s)"
    )
    from fangkong.response import demo as response_demo

    started = time.perf_counter()
    with db.unit_of_work() as session:
        outbreak = response_demo.seed(session, vault, build_bus(), demo_county(region).code)
    console.print(
        f"response: an outbreak of {outbreak.cases} cases over nine days in the demo county; "
        f"{outbreak.tasks} tasks open ({outbreak.late} late), {outbreak.alerts} alerts, "
        f"{outbreak.closures} daily closures ({time.perf_counter() - started:.1f} s)"
    )
    from fangkong.privacy import demo as privacy_demo

    started = time.perf_counter()
    with db.unit_of_work() as session:
        kept = privacy_demo.seed(session, vault, build_bus(), demo_county(region).code)
    console.print(
        f"personal data: {kept.emergencies} emergency open, {kept.duplicates} residents entered twice "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return logins
