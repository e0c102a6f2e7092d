"""Benchmark: switching a county from the 9th edition to the "20 measures" re-plans everyone under management.

Builds a county with ``--people`` residents (through the real CSV import) on a fresh SQLite database,
puts each under management (close contacts, contacts of close contacts, inbound travellers, arrivals
from high-risk areas, with clock dates spread over two weeks), then times the administrator's switch
(`protocol.service.switch_protocol`, committed) and prints what changed per category.
Target (issue 3): 100,000 people in under 10 s on SQLite.

    python bench/replan.py [--people 100000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select

from fangkong.core import audit, jurisdictions
from fangkong.core.db import Database
from fangkong.core.demo.population import write_people_csv
from fangkong.core.demo.region import demo_region_spec
from fangkong.core.migrate import upgrade
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.national import rows_of
from fangkong.core.people_import import import_people_csv
from fangkong.core.people_rules import Keys
from fangkong.protocol import service
from fangkong.protocol.loader import load_builtin
from fangkong.protocol.models import ManagementPlanRecord
from fangkong.protocol.plan import PlanFacts, compute_plan

TARGET_SECONDS = 10.0
# category, its share of the people under management, and which fact its clock counts from
MIX = [
    ("close_contact", 0.6, "last_exposure"),
    ("contact_of_contact", 0.25, "last_exposure"),
    ("inbound_traveller", 0.1, "arrival"),
    ("high_risk_area_arrival", 0.05, "area_departure"),
]


def build(db: Database, people: int, county_index: int) -> Jurisdiction:
    region = demo_region_spec()
    county = region.counties[county_index]
    with db.unit_of_work() as session:
        jurisdictions.import_tree(session, audit.SYSTEM, rows_of(region.all_divisions()))
    communities = [c.code for c in region.communities if c.code.startswith(county.code)]
    keys = Keys(*(base64.urlsafe_b64encode(os.urandom(32)).decode() for _ in range(2)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "people.csv"
        write_people_csv(path, people, seed=5, community_codes=communities)
        with db.unit_of_work() as session:
            import_people_csv(session, keys, audit.SYSTEM, "/", path)
    protocol = load_builtin("cn-9")
    rng = np.random.default_rng(9)
    base = dt.date(2022, 11, 1)
    with db.unit_of_work() as session:
        rows = session.execute(select(Person.id, Person.jpath)).all()
        categories = rng.choice(len(MIX), size=len(rows), p=[m[1] for m in MIX])
        offsets = rng.integers(0, 14, size=len(rows))
        records = []
        for (person_id, jpath), c, offset in zip(rows, categories, offsets, strict=True):
            name, _share, clock = MIX[c]
            day = base + dt.timedelta(days=int(offset))
            plan = compute_plan(protocol, name, PlanFacts(**{clock: day}))
            records.append(
                {
                    "person_id": person_id,
                    "jpath": jpath,
                    "source": f"bench:{person_id}",
                    "category": name,
                    "protocol_id": "cn-9",
                    clock: day,
                    "clock_date": plan.clock_date,
                    "start_date": plan.start_date,
                    "end_date": plan.end_date,
                    "state": "active",
                }
            )
        for name, _share, _clock in MIX:
            batch = [r for r in records if r["category"] == name]
            for r in batch:
                for other in ("last_exposure", "arrival", "area_departure", "diagnosis"):
                    r.setdefault(other, None)
                r.setdefault("linked_person_id", None)
                r["updated_at"] = dt.datetime.now(dt.UTC)
            session.execute(insert(ManagementPlanRecord), batch)
        node = session.scalar(select(Jurisdiction).where(Jurisdiction.code == county.code))
        assert node is not None
        session.expunge(node)
    return node


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'replan.db'}"
        upgrade(url)
        db = Database(url)
        started = time.perf_counter()
        county = build(db, args.people, county_index=2)
        print(
            f"built {args.people:,} people under management in {county.name} "
            f"in {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        with db.unit_of_work() as session:
            report = service.switch_protocol(session, audit.SYSTEM, county, "cn-9-20")
        seconds = time.perf_counter() - started
        db.dispose()
    print(
        f"\nswitch {report.old_protocol} -> {report.new_protocol} in {county.name}: "
        f"{report.replanned:,} re-planned, {report.changed:,} changed, "
        f"{seconds:.2f} s (target < {TARGET_SECONDS:.0f} s)\n"
    )
    print(f"{'category':<24}{'people':>8}  change")
    for category, change, n in report.summary:
        print(f"{category:<24}{n:>8}  {change or 'no change'}")
    if report.changes:
        person_id, text = report.changes[0]
        print(f"\ne.g. person {person_id}: {text}")
    print(
        json.dumps(
            {
                "bench": "replan",
                "metric": "replan_seconds",
                "value": round(seconds, 3),
                "unit": "s",
                "people": report.replanned,
                "baseline": "issue target",
                "baseline_value": TARGET_SECONDS,
                "ratio": round(seconds / TARGET_SECONDS, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
