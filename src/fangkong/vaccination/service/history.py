"""A dose history drawn at the shares of late 2022, for the demo region and for drill sandboxes.

Coverage by age is drawn to land near the national figures of late November 2022, as the State Council's
joint prevention and control mechanism gave them on 2022-11-29 (issue 16 quotes two of them): of people
aged 60 and over, 86.42 % had a full primary series; of people aged 80 and over, 76.6 % had at least one
dose and 65.8 % a full series. The other bands' shares are the platform's demo choices (below, each on its
own line), picked so the 60+ total lands near 86 %. Dates are set back from today: most primary series
some two years ago, boosters half a year or more after them, and a recent push among the oldest (the
elderly plan of 2022-11-29, protocols.md §8 vax.elderly_plan), so the weekly trend moves.

:func:`draw` is pure (NumPy, an explicit seed); :func:`give_to_residents` writes a drawn history for the
residents under one place and evaluates their statuses (a drill's sandbox starts where the region is).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.bulk import write_rows
from fangkong.core.models import Person
from fangkong.vaccination.models import Dose, DoseKind, Platform

# Per age band (3-17, 18-59, 60-69, 70-79, 80+): share with at least one dose; of those, share who
# completed the primary series; of those, share boosted; of those, share with a second booster.
AT_LEAST_ONE = (0.965, 0.960, 0.955, 0.925, 0.766)  # 80+: 76.6 % (2022-11-29); others: demo choices
COMPLETE_GIVEN_ONE = (0.975, 0.975, 0.965, 0.935, 0.859)  # 80+: 65.8 % / 76.6 % (2022-11-29)
BOOSTED_GIVEN_COMPLETE = (0.0, 0.80, 0.78, 0.70, 0.55)  # no booster under 18 (protocols.md vax.cn10)
SECOND_GIVEN_BOOSTED = (0.0, 0.0, 0.06, 0.05, 0.03)  # ≥60 only (vax.second_booster)
BAND_LOWER_AGES = (3, 18, 60, 70, 80)

# Of the oldest vaccinated, the share whose first dose came in the recent push (demo choice), and its
# length in days.
RECENT_PUSH_SHARE_80 = 0.10
RECENT_PUSH_SHARE_60 = 0.03
RECENT_PUSH_DAYS = 70

# Products as the 2022 Chinese programme used them (name, platform, doses in its primary series, share of
# first doses). Primary series: inactivated 2 doses, adenovirus type-5 vector 1, recombinant protein 3.
PRODUCTS = (
    ("新冠病毒灭活疫苗（Vero细胞）北京生物", Platform.inactivated, 2, 0.45),
    ("新冠病毒灭活疫苗（Vero细胞）科兴", Platform.inactivated, 2, 0.40),
    ("重组新冠病毒疫苗（5型腺病毒载体）", Platform.vector, 1, 0.05),
    ("重组新冠病毒蛋白疫苗（CHO细胞）", Platform.protein, 3, 0.10),
)
# Boosters: homologous inactivated, or sequential with the vector or protein vaccine.
BOOSTERS = (
    (0, 0.55),
    (1, 0.25),
    (2, 0.10),
    (3, 0.10),
)
LOTS_PER_PRODUCT = 24


def band_of_age(age: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0..4 for the five bands, -1 under 3."""
    return np.searchsorted(np.array(BAND_LOWER_AGES), age, side="right") - 1


def lot_name(product: int, k: int) -> str:
    return f"2021{product + 1:02d}{k:03d}"


@dataclass
class Rows:
    person: list[int]
    jpath: list[str]
    product: list[str]
    platform: list[str]
    number: list[int]
    kind: list[str]
    given: list[dt.date]
    lot: list[str]
    product_index: list[int]

    def add(
        self, p: int, j: str, product: int, number: int, kind: DoseKind, given: dt.date, lot: str
    ) -> None:
        name, platform, _, _ = PRODUCTS[product]
        self.person.append(p)
        self.jpath.append(j)
        self.product.append(name)
        self.platform.append(platform.value)
        self.number.append(number)
        self.kind.append(kind.value)
        self.given.append(given)
        self.lot.append(lot)
        self.product_index.append(product)


def draw(
    ids: npt.NDArray[np.int64],
    paths: list[str],
    ages: npt.NDArray[np.int64],
    today: dt.date,
    seed: int,
) -> Rows:
    """Each person's doses (none for most under 3 and some of every band), by the shares above."""
    rng = np.random.default_rng(seed)
    n = ids.shape[0]
    band = band_of_age(ages)
    rows = Rows([], [], [], [], [], [], [], [], [])
    eligible = band >= 0
    b = np.where(eligible, band, 0)
    one = eligible & (rng.random(n) < np.take(AT_LEAST_ONE, b))
    complete = one & (rng.random(n) < np.take(COMPLETE_GIVEN_ONE, b))
    boosted = complete & (rng.random(n) < np.take(BOOSTED_GIVEN_COMPLETE, b))
    second = boosted & (rng.random(n) < np.take(SECOND_GIVEN_BOOSTED, b))
    weights = np.array([p[3] for p in PRODUCTS])
    product: npt.NDArray[np.int64] = rng.choice(len(PRODUCTS), size=(n,), p=weights / weights.sum())
    booster_product: npt.NDArray[np.int64] = rng.choice(
        [i for i, _ in BOOSTERS],
        size=(n,),
        p=np.array([w for _, w in BOOSTERS]) / sum(w for _, w in BOOSTERS),
    )
    # Days before today of the first dose: most in the mass campaign two years back; a share of the
    # oldest in the recent push.
    first_back: npt.NDArray[np.int64] = rng.integers(560, 820, size=(n,))
    push_share = np.where(band == 4, RECENT_PUSH_SHARE_80, np.where(band >= 2, RECENT_PUSH_SHARE_60, 0.0))
    pushed = one & ~boosted & (rng.random(n) < push_share)
    first_back = np.where(pushed, rng.integers(22, RECENT_PUSH_DAYS, size=(n,)), first_back)
    gaps: npt.NDArray[np.int64] = rng.integers(21, 57, size=(n, 2))
    booster_after: npt.NDArray[np.int64] = rng.integers(180, 330, size=(n,))
    second_after: npt.NDArray[np.int64] = rng.integers(185, 240, size=(n,))
    lot_pick: npt.NDArray[np.int64] = rng.integers(0, LOTS_PER_PRODUCT, size=(n, 5))
    for i in np.flatnonzero(one):
        pid, path = int(ids[i]), paths[i]
        prod = int(product[i])
        series = PRODUCTS[prod][2]
        day = today - dt.timedelta(days=int(first_back[i]))
        planned = series if complete[i] else max(1, series - 1)
        number = 0
        for k in range(planned):
            if day >= today:
                break
            number += 1
            rows.add(pid, path, prod, number, DoseKind.primary, day, lot_name(prod, int(lot_pick[i, k % 5])))
            day += dt.timedelta(days=int(gaps[i, k % 2]))
        if not (complete[i] and number == series):
            continue
        boost_day = rows.given[-1] + dt.timedelta(days=int(booster_after[i]))
        if not boosted[i] or boost_day >= today:
            continue
        bp = int(booster_product[i])
        number += 1
        rows.add(pid, path, bp, number, DoseKind.booster, boost_day, lot_name(bp, int(lot_pick[i, 3])))
        second_day = boost_day + dt.timedelta(days=int(second_after[i]))
        if second[i] and second_day < today:
            number += 1
            rows.add(
                pid, path, bp, number, DoseKind.second_booster, second_day, lot_name(bp, int(lot_pick[i, 4]))
            )
    return rows


def ages_on(births: list[dt.date], today: dt.date) -> npt.NDArray[np.int64]:
    days = np.datetime64(today, "D") - np.array(births, dtype="datetime64[D]")
    return (days.astype(np.int64) / 365.2425).astype(np.int64)


def give_to_residents(session: Session, jpath: str, seed: int, site: str) -> int:
    """Draw and write a dose history for the registry people under ``jpath`` who have no dose yet, and
    evaluate their statuses; returns the doses written."""
    from fangkong.vaccination.service import status

    today = clock.today()
    people = session.execute(
        select(Person.id, Person.jpath, Person.birth_date)
        .where(Person.jpath >= jpath, Person.jpath < jpath + "~", ~Person.id.in_(select(Dose.person_id)))
        .order_by(Person.id)
    ).all()
    if not people:
        return 0
    ids = np.array([p[0] for p in people], dtype=np.int64)
    rows = draw(ids, [str(p[1]) for p in people], ages_on([p[2] for p in people], today), today, seed)
    now = clock.utcnow()
    write_rows(
        session,
        Dose.__table__,  # type: ignore[arg-type]
        ("person_id", "jpath", "product", "platform", "dose_number", "kind", "given_on", "site", "lot",
         "source", "created_at"),
        [
            (p, j, prod, plat, num, kind, given, site, lot, "drill", now)
            for p, j, prod, plat, num, kind, given, lot in zip(
                rows.person, rows.jpath, rows.product, rows.platform, rows.number, rows.kind, rows.given,
                rows.lot, strict=True,
            )
        ],
    )  # fmt: skip
    status.evaluate(session, [int(i) for i in ids])
    return len(rows.person)
