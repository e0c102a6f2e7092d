"""The price list of the account (总账): what a unit of each resource costs, and where the number comes from.

Prices are in yuan (CNY, 2022 prices). Each line says its unit and its source; a line whose number is
this platform's assumption says so (``assumption=True``), and a line computed from other published
figures says how (``derived``). Staff time is priced as staff-hours: the hours each unit of work takes
are lines of their own (``hours_per``), so that every cost line of the account is one quantity times
one price.

A scenario may override any line by its key (``PriceList.with_overrides``); the account then shows the
value used and marks it as overridden.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message

# --- published figures the derived prices rest on ---------------------------------------------------
# Cap on a single-tube PCR test, CNY per person; NHSA and State Council joint-mechanism notice
# 关于进一步降低新冠病毒核酸检测和抗原检测价格的通知 (May 2022, in force by 2022-06-10): 单人单检
# ≤ 16 元/人份 (Xinhua, http://www.bluewhalekiteacademy.com/szb/pc/col/202205/26/content_167978.html).
PCR_SINGLE_CAP_CNY: Final[float] = 16.0
# Cap on a pooled PCR test, CNY per person sampled; same notice: 多人混检 ≤ 5 元/人份.
PCR_POOLED_CAP_CNY: Final[float] = 5.0
# Pool size the pooled cap is read against, people per tube; 10-in-1 mixed sampling (cn-9
# regional_testing.pool_sizes, protocols.md section 5).
CAP_POOL_SIZE: Final[int] = 10
# Gross domestic product per head, China 2022, CNY per year; NBS, Statistical Communiqué of the PRC on
# the 2022 National Economic and Social Development (2023-02-28): 人均国内生产总值 85698 元.
GDP_PER_CAPITA_2022_CNY: Final[float] = 85_698.0
# Mean annual wage in health and social work (urban non-private units), China 2022, CNY per year;
# NBS release of 2023-05-09 (卫生和社会工作 135222 元).
HEALTH_WORKER_WAGE_2022_CNY: Final[float] = 135_222.0
# Working hours in a year, hours; 250 working days of 8 hours (assumption, statutory 40-hour week).
WORKING_HOURS_PER_YEAR: Final[float] = 2_000.0
# Mean medical cost of a confirmed inpatient, CNY per patient; State Council Information Office white
# paper "Fighting COVID-19: China in Action" (2020-06-07): 确诊患者人均医疗费用约 2.3 万元.
INPATIENT_COST_CNY: Final[float] = 23_000.0
# Medical cost of a severe patient, CNY per patient; same white paper: 重症患者人均治疗费用超过 15 万元
# (a lower bound).
SEVERE_PATIENT_COST_CNY: Final[float] = 150_000.0
# Mean stay from severe illness to recovery, days; the simulator's severe_to_recovered (Covasim sev2rec,
# Verity et al. 2020 Lancet Infect Dis 20:669).
SEVERE_STAY_DAYS: Final[float] = 18.1
# Self-paid charge of centralised quarantine sites incl. meals, CNY per person-day; Yuyao (Ningbo,
# Zhejiang) 2022 standard 140-230 元/人/天, midpoint (local, secondary source:
# http://m.ddtbk.com/news/430371.html).
QUARANTINE_CHARGE_CNY: Final[float] = (140.0 + 230.0) / 2


@dataclass(frozen=True)
class PriceLine:
    """One price: ``value`` yuan (or hours, for ``hours_per`` lines) per ``unit``."""

    key: str
    label: str
    unit: str
    value: float
    source: str
    assumption: bool = False
    derived: bool = False
    overridden: bool = False

    @property
    def basis(self) -> str:
        """How much to trust the number, in one word."""
        if self.overridden:
            return "override"
        if self.assumption:
            return "assumption"
        return "derived" if self.derived else "published"


def _staff_hour() -> float:
    return HEALTH_WORKER_WAGE_2022_CNY / WORKING_HOURS_PER_YEAR


def _lab_per_tube() -> float:
    # single = sampling + one tube; pooled = sampling + tube / k per person: two equations, two unknowns.
    return (PCR_SINGLE_CAP_CNY - PCR_POOLED_CAP_CNY) / (1.0 - 1.0 / CAP_POOL_SIZE)


DEFAULT_LINES: Final[tuple[PriceLine, ...]] = (
    PriceLine(
        "sample_collection",
        "Sample collection",
        "CNY per sample",
        PCR_SINGLE_CAP_CNY - _lab_per_tube(),
        "Derived from the NHSA caps of May 2022 (single 16, 10-in-1 pooled 5 CNY per person): "
        "single = collection + tube, pooled = collection + tube/10",
        derived=True,
    ),
    PriceLine(
        "lab_tube",
        "Laboratory run of one PCR tube",
        "CNY per tube",
        _lab_per_tube(),
        "Derived from the NHSA caps of May 2022 (see sample collection)",
        derived=True,
    ),
    PriceLine(
        "quarantine_room_night",
        "Centralised quarantine room-night (room and meals)",
        "CNY per person-day",
        QUARANTINE_CHARGE_CNY,
        "Yuyao (Ningbo) 2022 self-pay standard for quarantine sites, 140-230 CNY per person-day incl. meals, "
        "midpoint (local practice, secondary source)",
    ),
    PriceLine(
        "isolation_bed_day",
        "Makeshift-hospital (方舱) bed-day for an isolated case",
        "CNY per person-day",
        2 * QUARANTINE_CHARGE_CNY,
        "Assumption: twice a quarantine room-night (care staff and medical supplies on site)",
        assumption=True,
    ),
    PriceLine(
        "hospital_bed_day",
        "Hospital bed-day, severe illness",
        "CNY per bed-day",
        INPATIENT_COST_CNY / SEVERE_STAY_DAYS,
        "Derived: mean cost of a confirmed inpatient, 23,000 CNY (State Council white paper, 2020-06-07), "
        "over the simulator's 18.1-day severe stay",
        derived=True,
    ),
    PriceLine(
        "icu_day",
        "Intensive-care day, critical illness",
        "CNY per ICU day",
        SEVERE_PATIENT_COST_CNY / SEVERE_STAY_DAYS,
        "Derived: cost of a severe patient, over 150,000 CNY (State Council white paper, 2020-06-07), "
        "over the 18.1-day stay; a lower bound",
        derived=True,
    ),
    PriceLine(
        "lost_output_day",
        "Lost output of a person-day of lockdown, quarantine or isolation",
        "CNY per person-day",
        GDP_PER_CAPITA_2022_CNY / 365.0,
        "GDP per head 2022, 85,698 CNY (NBS Statistical Communiqué, 2023-02-28), per calendar day",
    ),
    PriceLine(
        "staff_hour",
        "Staff hour (health and social work)",
        "CNY per staff-hour",
        _staff_hour(),
        "Mean wage in health and social work 2022, 135,222 CNY (NBS, 2023-05-09), over 2,000 working hours",
        derived=True,
    ),
    PriceLine(
        "vaccine_dose",
        "Vaccine dose, given",
        "CNY per dose",
        100.0,
        "Assumption: inactivated vaccine and its administration",
        assumption=True,
    ),
    PriceLine(
        "hours_per_contact_traced",
        "Staff time to trace and notify one contact",
        "staff-hours per contact",
        1.0,
        "Assumption: one investigator-hour per contact (call, classification, transfer)",
        assumption=True,
    ),
    PriceLine(
        "hours_per_quarantine_day",
        "Staff time at a quarantine site",
        "staff-hours per person-day",
        0.5,
        "Assumption: one staff member on duty per 16 people around the clock (24 h / 16 / 3 shifts ≈ 0.5 h)",
        assumption=True,
    ),
    PriceLine(
        "hours_per_home_quarantine_day",
        "Community staff time for home quarantine or monitoring",
        "staff-hours per person-day",
        0.25,
        "Assumption: daily health check, door visit and deliveries",
        assumption=True,
    ),
    PriceLine(
        "hours_per_lockdown_day",
        "Door-to-door services in a locked-down area",
        "staff-hours per person-day",
        0.1,
        "Assumption: deliveries and services for residents who may not leave home (上门服务)",
        assumption=True,
    ),
)

# Hospital beds per 1,000 people, China 2022; NHC, 2022 Statistical Bulletin on Health Development
# (2023-10-12): 每千人口医疗卫生机构床位数 6.92 张.
HOSPITAL_BEDS_PER_1000: Final[float] = 6.92
# Share of beds occupied by other patients, dimensionless; same bulletin: 医院病床使用率 71.0 %.
BED_OCCUPANCY: Final[float] = 0.71
# Critical-care beds per 100,000 people, China; Phua et al. 2020 Crit Care Med 48:654 (3.6 per 100,000,
# 2017 data); secondary, not checked against a Chinese bulletin here.
ICU_BEDS_PER_100K: Final[float] = 3.6


@dataclass(frozen=True)
class Capacity:
    """Beds the outbreak can use in a population, from the national ratios above."""

    hospital_beds: float
    icu_beds: float

    @classmethod
    def for_population(cls, people: int) -> Capacity:
        free_beds = HOSPITAL_BEDS_PER_1000 / 1000.0 * (1.0 - BED_OCCUPANCY)
        return cls(hospital_beds=people * free_beds, icu_beds=people * ICU_BEDS_PER_100K / 100_000.0)


@dataclass(frozen=True)
class PriceList:
    lines: tuple[PriceLine, ...] = DEFAULT_LINES

    def __getitem__(self, key: str) -> PriceLine:
        for line in self.lines:
            if line.key == key:
                return line
        raise KeyError(f"no price {key!r}")

    def value(self, key: str) -> float:
        return self[key].value

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(line.key for line in self.lines)

    def with_overrides(self, overrides: Mapping[str, float]) -> PriceList:
        """The list with some values replaced; unknown keys and negative or non-finite values are refused."""
        errors: list[RowError] = []
        for row, (key, value) in enumerate(overrides.items(), start=1):
            if key not in self.keys:
                errors.append(
                    RowError(row, key, Message("unknown price; use one of {keys}", keys=", ".join(self.keys)))
                )
            elif not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                errors.append(
                    RowError(row, key, Message("“{value}” is not a non-negative number", value=str(value)))
                )
        if errors:
            raise InvalidInput(errors)
        return PriceList(
            tuple(
                replace(line, value=float(overrides[line.key]), overridden=True)
                if line.key in overrides
                else line
                for line in self.lines
            )
        )


DEFAULT_PRICES: Final[PriceList] = PriceList()
