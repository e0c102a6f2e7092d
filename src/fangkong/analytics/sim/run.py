"""Running the simulator: one arm (:func:`simulate`), or several on common random numbers (:func:`compare`).

A day runs in this order: risk-area rules (on yesterday's diagnoses), vaccination, the pass over
everyone (illness, results, quarantine plans, routine tests, census), a testing round if one is due,
contact tracing of today's diagnoses (within capacity, the rest wait), then transmission.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fangkong.analytics.sim import model, operations
from fangkong.analytics.sim.interventions import (
    AreaLockdown,
    CompiledStrategy,
    Strategy,
    TestingRounds,
    Vaccination,
    compile_strategy,
)
from fangkong.analytics.sim.parameters import Parameters
from fangkong.analytics.sim.population import Population
from fangkong.analytics.sim.results import SimResult
from fangkong.analytics.sim.state import (
    C_INFECTED,
    DAILY_FIGURES,
    F_AREAS_LOCKED,
    F_TRACING_BACKLOG,
    F_VACCINE_DOSES,
    K_QUARANTINE_DAYS,
    K_TESTS,
    K_TIMES_QUARANTINED,
    NEVER,
    O_DIAGNOSED,
    O_QUARANTINE_ENTRY,
    AgentState,
)


def simulate(
    population: Population,
    params: Parameters,
    strategy: Strategy,
    days: int,
    rng: np.random.Generator,
) -> SimResult:
    """Run one strategy for ``days`` days; deterministic given the generator's state."""
    if days < 0 or days >= NEVER - 100:
        raise ValueError(f"days must be between 0 and {NEVER - 101}, got {days}")
    compiled = compile_strategy(strategy)
    seed = int(rng.integers(0, 2**62))
    state = AgentState.create(population, params, rng)
    n = population.size
    bands = _bands_matrix(params)
    durations = params.duration_table()
    vaccine = np.asarray(
        [
            params.vaccine_infection_reduction,
            params.vaccine_symptom_reduction,
            params.vaccine_severe_reduction,
        ]
    )
    protection = int(params.vaccine_days_to_protection)
    layer_beta = np.asarray(params.layer_beta, dtype=np.float64)
    indptrs = tuple(layer.indptr for layer in population.layers)
    indices = tuple(layer.indices for layer in population.layers)

    n_seeds = min(params.initial_infections, n)
    seeds = np.sort(rng.choice(n, size=n_seeds, replace=False)).astype(np.int64)
    model.seed_infections(
        seeds, seed, state.vaccinated_day, protection, state.stage, state.course, state.dies, state.band,
        bands, durations, vaccine,
    )  # fmt: skip
    vaccination_order = _vaccination_order(population, strategy.vaccination, rng)
    vaccination_position = 0

    lockdown = _LockdownBook(population, strategy.lockdown)
    infectious = np.empty(n, dtype=np.int32)
    weights = np.empty(n, dtype=np.float64)
    susceptibility = np.empty(n, dtype=np.float32)
    diagnosed = np.empty(n, dtype=np.int32)
    pool = np.empty(max(1, strategy.rounds.pool_size if strategy.rounds else 1), dtype=np.int32)
    backlog = np.empty(0, dtype=np.int32)
    daily = np.zeros((days, len(DAILY_FIGURES)), dtype=np.int64)
    round_number = 0

    started = time.perf_counter()
    for t in range(days):
        counts = daily[t]
        lockdown.update(t)
        counts[F_AREAS_LOCKED] = lockdown.n_locked
        if strategy.vaccination is not None and t >= strategy.vaccination.first_day:
            vaccination_position, given = operations.vaccinate(
                t, vaccination_order, vaccination_position, strategy.vaccination.doses_per_day, state.stage,
                state.ops, state.vaccinated_day,
            )  # fmt: skip
            counts[F_VACCINE_DOSES] = given
        n_infectious, n_diagnosed = _day_pass(
            t, seed, state, population, lockdown.locked, params, compiled, counts, infectious, weights,
            diagnosed, susceptibility,
        )  # fmt: skip
        lockdown.record(diagnosed[:n_diagnosed])
        if _round_due(strategy.rounds, t):
            rounds = strategy.rounds
            assert rounds is not None
            scope = lockdown.locked if rounds.scope == "locked" else np.ones(lockdown.locked.shape, np.bool_)
            operations.testing_round(
                t, seed, round_number, rounds.coverage, rounds.pool_size, rounds.sensitivity,
                rounds.result_delay_days, rounds.retest_delay_days, scope, population.area, state.stage,
                state.ops, state.result_positive, state.quarantine_stage, state.counters, counts, pool,
            )  # fmt: skip
            round_number += 1
        if compiled.tracing_on:
            backlog = np.concatenate([backlog, diagnosed[:n_diagnosed]])
            take = backlog.size if compiled.trace_capacity < 0 else min(backlog.size, compiled.trace_capacity)
            operations.trace_contacts(
                t, seed, backlog[:take], indptrs, indices, compiled.trace_prob, compiled.trace_delay,
                state.stage, state.ops, state.quarantine_stage, state.counters, compiled.quarantine_total,
                compiled.stage_of_day, compiled.stage_place, counts,
            )  # fmt: skip
            backlog = backlog[take:]
            counts[F_TRACING_BACKLOG] = backlog.size
        model.transmit(
            t, seed, n_infectious, infectious, weights, indptrs, indices, params.beta, layer_beta,
            state.stage, state.course, state.dies, state.band, bands, durations, vaccine, protection,
            susceptibility, state.vaccinated_day, state.ops, state.quarantine_stage, population.area,
            lockdown.locked, compiled.isolation_factors, compiled.stage_factors, compiled.lockdown_factors,
            compiled.tracing_on, lockdown.n_locked > 0, counts,
        )  # fmt: skip
    seconds = time.perf_counter() - started

    _close_quarantine_books(state, days)
    return SimResult(
        strategy=strategy.name,
        days=days,
        population_size=n,
        daily={name: daily[:, k].copy() for k, name in enumerate(DAILY_FIGURES)},
        seed_infections=n_seeds,
        run_seconds=seconds,
        agents=_agent_counters(state),
    )


def _day_pass(
    t: int,
    seed: int,
    state: AgentState,
    population: Population,
    locked: NDArray[np.bool_],
    params: Parameters,
    c: CompiledStrategy,
    counts: NDArray[np.int64],
    infectious: NDArray[np.int32],
    weights: NDArray[np.float64],
    diagnosed: NDArray[np.int32],
    susceptibility: NDArray[np.float32],
) -> tuple[int, int]:
    viral = np.asarray([params.high_load_share, params.high_load_ratio, params.high_load_cap_days])
    result: tuple[int, int] = model.day_pass(
        t, seed, state.stage, state.course, state.dies, state.rel_trans, state.ops, state.result_positive,
        state.quarantine_stage, state.counters, population.area, locked, viral, params.asymptomatic_factor,
        c.testing_on, c.symptomatic_prob, c.asymptomatic_prob, c.quarantined_symptomatic_prob, c.test_delay,
        c.sensitivity, c.quarantine_total, c.stage_of_day, c.next_test_day, c.stage_place,
        c.quarantine_test_prob, c.quarantine_symptomatic_test_prob, c.release_requires_negative, counts,
        infectious, weights, diagnosed, state.rel_sus, state.vaccinated_day,
        params.vaccine_days_to_protection, params.vaccine_infection_reduction, susceptibility,
    )  # fmt: skip
    return result


def _bands_matrix(params: Parameters) -> NDArray[np.float64]:
    t = params.band_tables()
    return np.stack(
        [
            t.susceptibility,
            t.symptomatic,
            t.severe_given_symptomatic,
            t.critical_given_severe,
            t.death_given_critical,
        ]
    )


def _round_due(rounds: TestingRounds | None, t: int) -> bool:
    if rounds is None or t < rounds.first_day:
        return False
    if rounds.last_day is not None and t > rounds.last_day:
        return False
    if rounds.every_days <= 0 or rounds.pool_size <= 0:
        raise ValueError("rounds.every_days and rounds.pool_size must be positive")
    return (t - rounds.first_day) % rounds.every_days == 0


def _vaccination_order(
    population: Population, vaccination: Vaccination | None, rng: np.random.Generator
) -> NDArray[np.int32]:
    if vaccination is None:
        return np.empty(0, dtype=np.int32)
    parts = []
    for low, high in vaccination.priority_ages:
        group = np.flatnonzero((population.age >= low) & (population.age < high) & ~population.vaccinated)
        parts.append(rng.permutation(group))
    return np.concatenate(parts).astype(np.int32) if parts else np.empty(0, dtype=np.int32)


class _LockdownBook:
    """Per-area case counts over the rule's window, and which areas are locked."""

    def __init__(self, population: Population, rule: AreaLockdown | None) -> None:
        self.rule = rule
        self.area = population.area
        n_areas = population.n_areas
        self.locked = np.zeros(n_areas, dtype=np.bool_)
        window = rule.window_days if rule else 1
        if rule is not None and (window <= 0 or rule.case_threshold <= 0 or rule.lift_after_clean_days <= 0):
            raise ValueError(
                "lockdown window_days, case_threshold and lift_after_clean_days must be positive"
            )
        self.window = np.zeros((window, n_areas), dtype=np.int32)
        self.clean_days = np.zeros(n_areas, dtype=np.int32)
        self.today = np.zeros(n_areas, dtype=np.int32)
        self.slot = 0

    @property
    def n_locked(self) -> int:
        return int(self.locked.sum())

    def record(self, cases: NDArray[np.int32]) -> None:
        if self.rule is not None:
            self.today = np.bincount(self.area[cases], minlength=self.locked.size).astype(np.int32)

    def update(self, t: int) -> None:
        rule = self.rule
        if rule is None or t == 0:
            return
        # Yesterday's cases enter the window; rules see cases up to yesterday.
        self.slot = (self.slot + 1) % self.window.shape[0]
        self.window[self.slot] = self.today
        recent = self.window.sum(axis=0)
        had_case = self.today > 0
        self.clean_days = np.where(had_case, 0, self.clean_days + 1)
        lift = self.locked & (self.clean_days >= rule.lift_after_clean_days)
        self.locked &= ~lift
        newly = ~self.locked & (recent >= rule.case_threshold) & had_case
        self.locked |= newly
        self.clean_days[newly] = 0
        self.today = np.zeros_like(self.today)


def _close_quarantine_books(state: AgentState, days: int) -> None:
    inside = np.flatnonzero(state.quarantine_stage >= 0)
    state.counters[inside, K_QUARANTINE_DAYS] += days - state.ops[inside, O_QUARANTINE_ENTRY].astype(np.int32)


def _agent_counters(state: AgentState) -> dict[str, NDArray[np.int32]]:
    infected = state.course[:, C_INFECTED].astype(np.int32)
    diagnosed_day = state.ops[:, O_DIAGNOSED].astype(np.int32)
    vaccinated = state.vaccinated_day.astype(np.int32)
    return {
        "vaccinated_day": np.where(vaccinated == NEVER, -1, vaccinated).astype(np.int32),
        "quarantine_days": state.counters[:, K_QUARANTINE_DAYS].copy(),
        "times_quarantined": state.counters[:, K_TIMES_QUARANTINED].copy(),
        "tests": state.counters[:, K_TESTS].copy(),
        "infected_day": np.where(infected == NEVER, -1, infected).astype(np.int32),
        "diagnosed_day": np.where(diagnosed_day == NEVER, -1, diagnosed_day).astype(np.int32),
    }


@dataclass(frozen=True)
class _Job:
    name: str
    strategy: Strategy
    seed: int


_WORKER_POPULATION: dict[str, Any] = {}


def _init_worker(population: Population, params: Parameters, days: int) -> None:
    _WORKER_POPULATION.update(population=population, params=params, days=days)


def _run_job(job: _Job) -> tuple[str, int, SimResult]:
    pop = _WORKER_POPULATION["population"]
    result = simulate(pop, _WORKER_POPULATION["params"], job.strategy, _WORKER_POPULATION["days"],
                      np.random.default_rng(job.seed))  # fmt: skip
    return job.name, job.seed, result


def compare(
    strategies: Mapping[str, Strategy] | Sequence[Strategy],
    population: Population,
    params: Parameters,
    days: int,
    seeds: Sequence[int] = (0,),
    *,
    workers: int = 1,
    scheduler: str | None = None,
) -> dict[str, list[SimResult]]:
    """Run every strategy with every seed; arm results share seeds (common random numbers).

    Runs in this process (``workers=1``), in ``workers`` processes, or on a Dask cluster when
    ``scheduler`` (its address) is given. Returns, per arm name, one result per seed in ``seeds`` order.
    """
    arms = dict(strategies) if isinstance(strategies, Mapping) else {s.name: s for s in strategies}
    if len(arms) == 0:
        raise ValueError("compare needs at least one strategy")
    if len(set(seeds)) != len(seeds):
        raise ValueError("compare needs distinct seeds")
    jobs = [_Job(name, strategy, int(seed)) for name, strategy in arms.items() for seed in seeds]
    if scheduler is not None:
        outcomes = _run_on_dask(jobs, population, params, days, scheduler)
    elif workers > 1:
        with ProcessPoolExecutor(
            max_workers=min(workers, os.cpu_count() or 1, len(jobs)),
            initializer=_init_worker,
            initargs=(population, params, days),
        ) as pool:
            outcomes = list(pool.map(_run_job, jobs))
    else:
        outcomes = [
            (
                job.name,
                job.seed,
                simulate(population, params, job.strategy, days, np.random.default_rng(job.seed)),
            )
            for job in jobs
        ]
    by_arm: dict[str, dict[int, SimResult]] = {name: {} for name in arms}
    for name, seed, result in outcomes:
        by_arm[name][seed] = result
    return {name: [by_arm[name][int(seed)] for seed in seeds] for name in arms}


def _run_on_dask(
    jobs: list[_Job], population: Population, params: Parameters, days: int, scheduler: str
) -> list[tuple[str, int, SimResult]]:
    # Imported as an untyped module: dask is optional and only partly annotated.
    distributed: Any = importlib.import_module("dask.distributed")

    with distributed.Client(scheduler) as client:
        shared = client.scatter(population, broadcast=True)
        futures = [client.submit(_simulate_job, shared, params, days, job, pure=False) for job in jobs]
        results: list[tuple[str, int, SimResult]] = client.gather(futures)
    return results


def _simulate_job(
    population: Population, params: Parameters, days: int, job: _Job
) -> tuple[str, int, SimResult]:
    return (
        job.name,
        job.seed,
        simulate(population, params, job.strategy, days, np.random.default_rng(job.seed)),
    )
