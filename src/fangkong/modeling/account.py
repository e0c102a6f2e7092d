"""The account (总账): what each strategy costs and what it buys, and which strategies are worth their cost.

Pure: simulator results and a price list in, a table out. For every arm of a comparison, over the
seeds it ran with (the same seeds in every arm, so differences between arms come from the strategies):

* effects: infections, severe and critical cases, deaths, peak hospital and intensive-care demand
  against the beds the population has, each as a mean and a 90 % range over the seeds;
* what it buys: infections, severe cases and deaths averted against the reference arm (no measures),
  computed seed by seed (paired), then summarised;
* every cost line, each one quantity (mean over the seeds) times one price of the price list, and their
  sum;
* the efficient frontier on cost against the chosen effect: a strategy is *dominated* when another
  costs no more and averts no less (one of the two strictly), *extendedly dominated* when a mix of two
  other strategies would buy more for the same money (its incremental cost per unit averted exceeds
  the next strategy's), and on the frontier otherwise (Drummond et al., Methods for the Economic
  Evaluation of Health Care Programmes, 4th ed. 2015, ch. 4).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

import numpy as np

from fangkong.analytics.sim import SimResult
from fangkong.modeling.prices import Capacity, PriceList

Effect = Literal["infections", "severe", "deaths"]
EFFECTS: Final[tuple[Effect, ...]] = ("infections", "severe", "deaths")
FrontierStatus = Literal["frontier", "dominated", "extended_dominance", "reference"]
# Range reported around each mean, as (low, high) quantiles over the seeds; a 90 % range.
RANGE_QUANTILES: Final[tuple[float, float]] = (0.05, 0.95)

Quantities = dict[str, float]


def run_quantities(result: SimResult, isolation_place: str | None, lockdown_share: float = 1.0) -> Quantities:
    """What one run used, in the units the price list prices.

    The simulator counts every diagnosed person as isolated and every resident of a locked area as
    locked down; an arm that isolates no one has no isolation days, and an arm that locks one building
    of a compound (``lockdown_share``) has that share of the compound's person-days.
    """
    totals = result.totals
    daily = result.daily
    hospital = float(daily["hospital_demand"].sum()) if result.days else 0.0
    icu = float(daily["icu_demand"].sum()) if result.days else 0.0
    centralized = float(totals["centralized_quarantine_person_days"])
    home = float(totals["quarantine_person_days"]) - centralized
    isolation = float(totals["isolation_person_days"]) if isolation_place is not None else 0.0
    lockdown = float(totals["lockdown_person_days"]) * lockdown_share
    return {
        "samples": float(totals["tests"]),
        "tubes": float(totals["tubes"]),
        "centralized_quarantine_days": centralized,
        "home_quarantine_days": home,
        "facility_isolation_days": isolation if isolation_place == "centralized" else 0.0,
        "home_isolation_days": isolation if isolation_place == "home" else 0.0,
        "lockdown_days": lockdown,
        "contacts_traced": float(totals["contacts_traced"]),
        "hospital_bed_days": hospital - icu,
        "icu_days": icu,
        "vaccine_doses": float(totals["vaccine_doses"]),
        # A person locked down and quarantined on the same day counts twice (the totals do not say
        # who); the overlap is small because quarantine removes people from the areas' census only.
        "lost_output_days": lockdown + centralized + home + isolation,
    }


@dataclass(frozen=True)
class CostRule:
    """A cost line: a quantity of a run (possibly times staff-hours per unit) times a price."""

    key: str
    label: str
    group: str
    unit: str
    price_key: str
    quantity: Callable[[Quantities, PriceList], float]


def _q(name: str) -> Callable[[Quantities, PriceList], float]:
    return lambda q, _prices: q[name]


def _hours(name: str, per: str) -> Callable[[Quantities, PriceList], float]:
    return lambda q, prices: q[name] * prices.value(per)


COST_RULES: Final[tuple[CostRule, ...]] = (
    CostRule("sampling", "Sample collection", "Testing", "samples", "sample_collection", _q("samples")),
    CostRule("lab", "Laboratory tubes", "Testing", "tubes", "lab_tube", _q("tubes")),
    CostRule(
        "quarantine_rooms",
        "Quarantine room-nights",
        "Quarantine and isolation",
        "person-days",
        "quarantine_room_night",
        _q("centralized_quarantine_days"),
    ),
    CostRule(
        "isolation_beds",
        "Makeshift-hospital bed-days",
        "Quarantine and isolation",
        "person-days",
        "isolation_bed_day",
        _q("facility_isolation_days"),
    ),
    CostRule(
        "hospital", "Hospital bed-days", "Care", "bed-days", "hospital_bed_day", _q("hospital_bed_days")
    ),
    CostRule("icu", "Intensive-care days", "Care", "ICU days", "icu_day", _q("icu_days")),
    CostRule(
        "staff_tracing",
        "Staff: contact tracing",
        "Staff",
        "staff-hours",
        "staff_hour",
        _hours("contacts_traced", "hours_per_contact_traced"),
    ),
    CostRule(
        "staff_quarantine_sites",
        "Staff: quarantine sites",
        "Staff",
        "staff-hours",
        "staff_hour",
        _hours("centralized_quarantine_days", "hours_per_quarantine_day"),
    ),
    CostRule(
        "staff_home_quarantine",
        "Staff: home quarantine and isolation",
        "Staff",
        "staff-hours",
        "staff_hour",
        lambda q, prices: (
            (q["home_quarantine_days"] + q["home_isolation_days"])
            * prices.value("hours_per_home_quarantine_day")
        ),
    ),
    CostRule(
        "staff_lockdown",
        "Staff: services in locked-down areas",
        "Staff",
        "staff-hours",
        "staff_hour",
        _hours("lockdown_days", "hours_per_lockdown_day"),
    ),
    CostRule("vaccine", "Vaccine doses", "Vaccination", "doses", "vaccine_dose", _q("vaccine_doses")),
    CostRule(
        "lost_output",
        "Lost output (lockdown, quarantine, isolation)",
        "Lost output",
        "person-days",
        "lost_output_day",
        _q("lost_output_days"),
    ),
)


@dataclass(frozen=True)
class Summary:
    """Mean and 90 % range of one figure over the seeds of an arm."""

    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        arr = np.asarray(values, dtype=np.float64)
        if arr.size == 0:
            return cls(0.0, 0.0, 0.0)
        low, high = np.quantile(arr, RANGE_QUANTILES)
        return cls(float(arr.mean()), float(low), float(high))


@dataclass(frozen=True)
class CostLine:
    key: str
    label: str
    group: str
    unit: str
    quantity: float
    price_key: str
    price: float
    price_unit: str
    price_basis: str
    cost: float


@dataclass(frozen=True)
class ArmAccount:
    arm: str
    label: str
    runs: int
    infections: Summary
    severe: Summary
    critical: Summary
    deaths: Summary
    peak_hospital: Summary
    peak_icu: Summary
    hospital_capacity: float
    icu_capacity: float
    days_over_hospital_capacity: Summary
    averted: dict[str, Summary]
    cost_lines: list[CostLine]
    total_cost: Summary
    cost_per_averted: dict[str, float | None]
    status: FrontierStatus = "frontier"
    incremental_cost_per_averted: float | None = None
    notes: list[str] = field(default_factory=list)
    daily_infections: list[float] = field(default_factory=list)
    daily_hospital: list[float] = field(default_factory=list)

    @property
    def over_capacity(self) -> bool:
        return self.peak_hospital.mean > self.hospital_capacity


@dataclass(frozen=True)
class Account:
    population: int
    days: int
    seeds: list[int]
    reference: str
    effect: Effect
    arms: list[ArmAccount]
    prices: list[dict[str, Any]]

    def arm(self, name: str) -> ArmAccount:
        for entry in self.arms:
            if entry.arm == name:
                return entry
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ArmInput:
    """One arm as the account reads it: its results per seed and what it is."""

    arm: str
    label: str
    results: Sequence[SimResult]
    isolation_place: str | None = None
    notes: Sequence[str] = ()
    lockdown_share: float = 1.0


def build_account(
    arms: Sequence[ArmInput],
    prices: PriceList,
    *,
    population: int,
    seeds: Sequence[int],
    reference: str,
    effect: Effect = "infections",
) -> Account:
    """The comparison table of ``arms`` (results in ``seeds`` order in every arm) against ``reference``."""
    if effect not in EFFECTS:
        raise ValueError(f"effect must be one of {EFFECTS}, got {effect!r}")
    by_name = {a.arm: a for a in arms}
    if reference not in by_name:
        raise ValueError(f"the reference arm {reference!r} is not among the arms {list(by_name)}")
    for entry in arms:
        if len(entry.results) != len(seeds):
            raise ValueError(f"arm {entry.arm} has {len(entry.results)} runs for {len(seeds)} seeds")
    capacity = Capacity.for_population(population)
    ref_outcomes = _outcomes(by_name[reference].results)
    ref = by_name[reference]
    ref_costs = [_run_cost(r, ref.isolation_place, ref.lockdown_share, prices) for r in ref.results]
    accounts: list[ArmAccount] = []
    for entry in arms:
        outcomes = _outcomes(entry.results)
        quantities = [run_quantities(r, entry.isolation_place, entry.lockdown_share) for r in entry.results]
        costs = [_run_cost(r, entry.isolation_place, entry.lockdown_share, prices) for r in entry.results]
        averted: dict[str, Summary] = {
            name: Summary.of(list(np.asarray(ref_outcomes[name]) - np.asarray(outcomes[name])))
            for name in EFFECTS
        }
        extra_cost = float(np.mean(costs) - np.mean(ref_costs))
        per_averted: dict[str, float | None] = {
            name: (extra_cost / averted[name].mean if averted[name].mean > 0 else None) for name in EFFECTS
        }
        hospital = np.stack([r.daily["hospital_demand"] for r in entry.results]).astype(np.float64)
        accounts.append(
            ArmAccount(
                arm=entry.arm,
                label=entry.label,
                runs=len(entry.results),
                infections=Summary.of(outcomes["infections"]),
                severe=Summary.of(outcomes["severe"]),
                critical=Summary.of(outcomes["critical"]),
                deaths=Summary.of(outcomes["deaths"]),
                peak_hospital=Summary.of(outcomes["peak_hospital"]),
                peak_icu=Summary.of(outcomes["peak_icu"]),
                hospital_capacity=capacity.hospital_beds,
                icu_capacity=capacity.icu_beds,
                days_over_hospital_capacity=Summary.of(
                    list((hospital > capacity.hospital_beds).sum(axis=1).astype(np.float64))
                ),
                averted=averted,
                cost_lines=_cost_lines(quantities, prices),
                total_cost=Summary.of(costs),
                cost_per_averted=per_averted,
                notes=list(entry.notes),
                daily_infections=[float(x) for x in _mean_daily(entry.results, "new_infections")],
                daily_hospital=[float(x) for x in hospital.mean(axis=0)] if hospital.size else [],
            )
        )
    statuses, increments = efficient_frontier(
        [(a.arm, a.total_cost.mean, a.averted[effect].mean) for a in accounts], reference=reference
    )
    accounts = [_with_status(a, statuses[a.arm], increments.get(a.arm)) for a in accounts]
    return Account(
        population=population,
        days=arms[0].results[0].days if arms and arms[0].results else 0,
        seeds=[int(s) for s in seeds],
        reference=reference,
        effect=effect,
        arms=accounts,
        prices=[asdict(line) | {"basis": line.basis} for line in prices.lines],
    )


def _with_status(entry: ArmAccount, status: FrontierStatus, increment: float | None) -> ArmAccount:
    from dataclasses import replace

    return replace(entry, status=status, incremental_cost_per_averted=increment)


def _outcomes(results: Sequence[SimResult]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {
        "infections": [],
        "severe": [],
        "critical": [],
        "deaths": [],
        "peak_hospital": [],
        "peak_icu": [],
    }
    for result in results:
        totals = result.totals
        out["infections"].append(float(totals["infections"]))
        out["severe"].append(float(totals["severe"]))
        out["critical"].append(float(totals["critical"]))
        out["deaths"].append(float(totals["deaths"]))
        out["peak_hospital"].append(float(totals["peak_hospital_demand"]))
        out["peak_icu"].append(float(totals["peak_icu_demand"]))
    return out


def _run_cost(
    result: SimResult, isolation_place: str | None, lockdown_share: float, prices: PriceList
) -> float:
    quantities = run_quantities(result, isolation_place, lockdown_share)
    return float(sum(rule.quantity(quantities, prices) * prices.value(rule.price_key) for rule in COST_RULES))


def _cost_lines(quantities: Sequence[Quantities], prices: PriceList) -> list[CostLine]:
    lines: list[CostLine] = []
    for rule in COST_RULES:
        mean_quantity = float(np.mean([rule.quantity(q, prices) for q in quantities])) if quantities else 0.0
        price = prices[rule.price_key]
        lines.append(
            CostLine(
                key=rule.key,
                label=rule.label,
                group=rule.group,
                unit=rule.unit,
                quantity=mean_quantity,
                price_key=price.key,
                price=price.value,
                price_unit=price.unit,
                price_basis=price.basis,
                cost=mean_quantity * price.value,
            )
        )
    return lines


def _mean_daily(results: Sequence[SimResult], figure: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    if not results or results[0].days == 0:
        return np.zeros(0)
    return np.asarray(np.stack([r.daily[figure] for r in results]).mean(axis=0), dtype=np.float64)


def efficient_frontier(
    points: Sequence[tuple[str, float, float]], *, reference: str | None = None
) -> tuple[dict[str, FrontierStatus], dict[str, float]]:
    """Frontier status of each (name, cost, effect) point, and the incremental cost per unit of effect of
    each frontier point over the frontier point before it (cheaper, less effective)."""
    status: dict[str, FrontierStatus] = {}
    for name, cost, effect in points:
        dominated = any(
            other != name and c <= cost and e >= effect and (c < cost or e > effect) for other, c, e in points
        )
        status[name] = "dominated" if dominated else "frontier"
    candidates = sorted(
        [(name, cost, effect) for name, cost, effect in points if status[name] == "frontier"],
        key=lambda p: (p[2], p[1]),
    )
    changed = True
    while changed and len(candidates) > 2:
        changed = False
        ratios = _increments(candidates)
        for k in range(1, len(candidates) - 1):
            if ratios[k] is not None and ratios[k + 1] is not None and ratios[k] > ratios[k + 1]:  # type: ignore[operator]
                status[candidates[k][0]] = "extended_dominance"
                del candidates[k]
                changed = True
                break
    increments = {
        candidates[k][0]: ratio for k, ratio in enumerate(_increments(candidates)) if ratio is not None
    }
    if reference is not None and reference in status and status[reference] == "frontier":
        status[reference] = "reference"
    return status, increments


def _increments(frontier: Sequence[tuple[str, float, float]]) -> list[float | None]:
    """Incremental cost per unit of effect of each point over the one before it (None for the first)."""
    out: list[float | None] = [None]
    for before, after in itertools.pairwise(frontier):
        gain = after[2] - before[2]
        out.append((after[1] - before[1]) / gain if gain > 0 else None)
    return out


def arm_inputs(mappings: Mapping[str, Any], results: Mapping[str, Sequence[SimResult]]) -> list[ArmInput]:
    """Account inputs from arm mappings (``strategies.ArmMapping``) and their results, in mapping order."""
    return [
        ArmInput(
            arm=name,
            label=mapping.label,
            results=results[name],
            isolation_place=mapping.isolation_place,
            notes=tuple(mapping.notes),
            lockdown_share=mapping.lockdown_share,
        )
        for name, mapping in mappings.items()
    ]
