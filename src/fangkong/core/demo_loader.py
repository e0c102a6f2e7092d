"""``fangkong demo``: load the demo region into a database through the ordinary use cases.

The region's tree goes through ``jurisdictions.import_tree`` and its residents through the same CSV
import users run, so the demo exercises the real paths. Demo accounts share one printed password and
exist only outside production.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import func, select

from fangkong.core import audit, jurisdictions, users
from fangkong.core.config import ConfigurationError, get_settings
from fangkong.core.db import Database
from fangkong.core.models import Person, Role, User
from fangkong.core.national import rows_of
from fangkong.core.people_import import import_people_csv
from fangkong.core.people_rules import Keys
from fangkong.core.tables import print_table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from fangkong.core.auth import Principal
    from fangkong.core.demo.region import DemoRegion
    from fangkong.core.divisions import Division

DEMO_PASSWORD = "fangkong-demo-2022"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    jurisdiction: str


def _logins(province: str, city: str, county: str) -> list[tuple[str, Role, str]]:
    """One account per role, placed where that role works in practice."""
    return [
        ("admin", Role.administrator, province),
        ("command", Role.command_centre, city),
        ("analyst", Role.surveillance_analyst, city),
        ("investigator", Role.investigator, county),
        ("quarantine", Role.quarantine_manager, county),
        ("testing", Role.testing_coordinator, county),
        ("lab", Role.laboratory, county),
        ("community", Role.community_worker, county),
        ("viewer", Role.viewer, province),
    ]


def demo_principal(session: Session, username: str) -> Principal:
    """A demo account acting, for the capabilities' parts of the demo (which go through use cases)."""
    from fangkong.core.auth import principal_for

    user = session.scalar(select(User).where(User.username == username))
    assert user is not None, f"demo user {username} missing"
    return principal_for(session, user, "demo")


def demo_county(region: DemoRegion) -> Division:
    """The county where the demo accounts of the county roles work (and the demo outbreak happens)."""
    return region.counties[-1 if len(region.counties) < 3 else 2]


def load_demo(db: Database, *, people: int, seed: int, if_empty: bool, console: Console) -> list[DemoLogin]:
    settings = get_settings()
    if settings.env == "production":
        raise ConfigurationError("the demo region is not loaded in production")
    from fangkong.core.demo.population import write_people_csv
    from fangkong.core.demo.region import demo_region_spec

    with db.unit_of_work() as session:
        existing = session.scalar(select(func.count()).select_from(Person)) or 0
    if existing and if_empty:
        console.print(f"database already has {existing:,} people: demo not loaded")
        return _print_logins(db, console)
    started = time.perf_counter()
    region = demo_region_spec()
    with db.unit_of_work() as session:
        created = jurisdictions.import_tree(
            session, audit.SYSTEM, rows_of(region.all_divisions()), skip_existing=True
        )
    console.print(
        f"region: {region.province.name}, {len(region.cities)} cities, {len(region.counties)} counties, "
        f"{len(region.townships)} townships, {len(region.communities)} communities ({created} new)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "demo_people.csv"
        write_people_csv(csv_path, people, seed=seed, community_codes=[c.code for c in region.communities])
        with (
            db.unit_of_work() as session,
            Progress(TextColumn("residents"), BarColumn(), MofNCompleteColumn(), console=console) as progress,
        ):
            task = progress.add_task("import", total=people)
            report = import_people_csv(
                session,
                Keys(settings.encryption_key, settings.hash_key),
                audit.SYSTEM,
                "/",
                csv_path,
                progress=lambda n: progress.advance(task, n),
            )
    console.print(f"residents: {report.created:,} people in {report.households_created:,} households")
    county = demo_county(region)
    with db.unit_of_work() as session:
        for username, role, code in _logins(region.province.code, region.cities[0].code, county.code):
            if session.scalar(select(User.id).where(User.username == username)) is None:
                users.create_user(
                    session,
                    audit.SYSTEM,
                    "/",
                    username=username,
                    display_name=f"demo {role.value}",
                    role=role.value,
                    jurisdiction_code=code,
                    password=DEMO_PASSWORD,
                )
    console.print(f"demo region loaded in {time.perf_counter() - started:.1f} s")
    return _print_logins(db, console)


def _print_logins(db: Database, console: Console) -> list[DemoLogin]:
    from fangkong.core.models import Jurisdiction

    logins: list[DemoLogin] = []
    table = Table(title=f"demo logins (password: {DEMO_PASSWORD})")
    for column in ("username", "role", "jurisdiction"):
        table.add_column(column)
    with db.unit_of_work() as session:
        rows = session.execute(
            select(User.username, User.role, Jurisdiction.name)
            .join(Jurisdiction, Jurisdiction.id == User.jurisdiction_id)
            .where(User.display_name.startswith("demo "))
            .order_by(User.id)
        ).all()
    for username, role, place in rows:
        logins.append(DemoLogin(username, Role(role), place))
        table.add_row(username, Role(role).value, place)
    print_table(console, table)
    return logins
