"""The testing part of the demo region: a laboratory, a regional round under way, and ordered tests.

In the demo county a laboratory is registered and a campaign covers the township of the demo outbreak;
its first round opened this morning with sampling sites sized by the rule. Most residents have been
scanned into 10-in-1 tubes (some not yet: the coverage page has people to chase), the lab has reported
most tubes negative and one positive (its members recalled), and the rest await results. The demo
contacts' plans have test orders; those due today are sampled. Everything goes through the testing use
cases, so the round dashboard, the worklists and the recall list are alive on first run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.demo_loader import demo_principal
from fangkong.core.models import Jurisdiction, Level, Person
from fangkong.core.scope import under
from fangkong.testing.models import TestResult
from fangkong.testing.rules.codes import ScanCodes
from fangkong.testing.service import labs, orders, results, rounds, scanning, site_staffing
from fangkong.wiring import build_bus

# Share of the round's residents scanned by the time the demo opens (modelling choice).
SAMPLED_SHARE = 0.85
# Share of the scanned tubes the lab has reported (the rest are on the bench).
REPORTED_SHARE = 0.8
# Scans per handheld upload.
BATCH = 500


@dataclass(frozen=True)
class DemoTesting:
    round_id: int
    expected: int
    scanned: int
    tubes_reported: int
    orders_sampled: int


def seed(session: Session, hash_key: str, county_code: str) -> DemoTesting:
    county = session.scalar(select(Jurisdiction).where(Jurisdiction.code == county_code))
    assert county is not None
    coordinator = demo_principal(session, "testing")
    labs.create_laboratory(
        session,
        coordinator,
        name=f"{county.name}疾控中心实验室",
        jurisdiction_code=county.code,
        tests_per_hour=400,
        ip="demo",
    )
    township = session.scalar(
        select(Jurisdiction)
        .where(Jurisdiction.parent_id == county.id, Jurisdiction.level == Level.township)
        .order_by(Jurisdiction.code)
        .limit(1)
    )
    assert township is not None
    campaign = rounds.create_campaign(
        session,
        coordinator,
        name=f"{township.name}区域核酸检测",
        areas=[township.id],
        pool_size=10,
        reason="demo: cases reported in the township",
    )
    started = clock.from_local(dt.datetime.combine(clock.today(), dt.time(7, 0)))
    opened = rounds.open_round(session, coordinator, campaign.id, starts_at=min(started, clock.utcnow()))
    sites = rounds.set_up_sites(session, coordinator, opened.id)
    # The county's certified samplers stand at the sites (their pages name who samples there).
    site_staffing.fill_from_roster(session, coordinator, [site.id for site in sites], ip="demo")
    people = list(
        session.scalars(
            select(Person.id)
            .where(under(Person.jpath, township.path))
            .order_by(Person.household_id, Person.id)
        )
    )
    codes = ScanCodes(hash_key)
    scanned = people[: int(len(people) * SAMPLED_SHARE)]
    now = clock.utcnow()
    scans = [
        scanning.Scan(
            device_id=f"demo-{index // 1000:02d}",
            device_seq=index,
            round_id=opened.id,
            barcode=f"DEMO{opened.id:03d}{index // 10:06d}",
            person_code=codes.code_for(person_id),
            scanned_at=now - dt.timedelta(minutes=(len(scanned) - index) // 20),
        )
        for index, person_id in enumerate(scanned)
    ]
    recorded = 0
    for start in range(0, len(scans), BATCH):
        report = scanning.bind(session, coordinator, scans[start : start + BATCH], codes=codes)
        recorded += report.recorded
    barcodes = sorted({s.barcode for s in scans})
    reported = barcodes[: int(len(barcodes) * REPORTED_SHARE)]
    bus = build_bus()
    for index, barcode in enumerate(reported):
        positive = index == len(reported) // 2
        results.apply_result(
            session,
            results.ResultLine(
                row=index + 1,
                barcode=barcode,
                result=TestResult.positive if positive else TestResult.negative,
                ct_values={"ORF1ab": 31.5, "N": 30.2} if positive else {},
                tested_at=now,
                version=None,
            ),
            origin="demo lab",
            bus=bus,
        )
    sampled = _sample_orders_due_today(session, coordinator)
    return DemoTesting(opened.id, len(people), recorded, len(reported), sampled)


def _sample_orders_due_today(session: Session, coordinator: Principal) -> int:
    orders.sync_orders(session, coordinator.jpath)
    due = orders.worklist(session, coordinator, clock.today(), size=200)
    sampled = 0
    for order in due.items:
        if order.state.value == "open":
            orders.record_sample(session, coordinator, order.id, f"DEMO-O{order.id:07d}")
            sampled += 1
    return sampled
