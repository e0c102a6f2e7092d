"""Ensembles: every arm with every seed, here, in local processes, or on a Dask cluster, with progress.

Arms share seeds (common random numbers: the simulator draws every decision from the run seed, so two
arms with one seed differ only by what they do). The same job function runs in each place: in this
process (``workers=1``), in a pool of ``workers`` processes started by forkserver (safe from a web
server's threads; the population is sent once per process), or on the Dask cluster at ``scheduler``
(``dask.distributed``, imported only then; the population is scattered once to every worker).
Per-person counters are dropped from the results that come back: the account needs the daily
figures only, and ten million people's counters would dwarf them.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from fangkong.analytics import sim

Progress = Callable[[int, int], None]
"""Called with (runs done, runs in all) after each run finishes."""


class EnsembleError(RuntimeError):
    """The ensemble cannot run as asked (e.g. Dask is missing); the message says what to do."""


@dataclass(frozen=True)
class Job:
    arm: str
    seed: int
    strategy: sim.Strategy


def jobs_for(arms: Mapping[str, sim.Strategy], seeds: Sequence[int]) -> list[Job]:
    if not arms:
        raise EnsembleError("choose at least one arm")
    if not seeds or len(set(seeds)) != len(seeds):
        raise EnsembleError("give one or more distinct seeds")
    return [Job(name, int(seed), strategy) for name, strategy in arms.items() for seed in seeds]


def run_job(
    population: sim.Population, params: sim.Parameters, days: int, job: Job
) -> tuple[Job, sim.SimResult]:
    """One run; the unit of work everywhere an ensemble runs."""
    result = sim.simulate(population, params, job.strategy, days, np.random.default_rng(job.seed))
    return job, replace(result, agents={})


_SHARED: dict[str, Any] = {}


def _init_worker(population: sim.Population, params: sim.Parameters, days: int) -> None:
    _SHARED.update(population=population, params=params, days=days)


def _run_shared(job: Job) -> tuple[Job, sim.SimResult]:
    return run_job(_SHARED["population"], _SHARED["params"], _SHARED["days"], job)


def run_ensemble(
    population: sim.Population,
    params: sim.Parameters,
    arms: Mapping[str, sim.Strategy],
    days: int,
    seeds: Sequence[int],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> dict[str, list[sim.SimResult]]:
    """Results per arm, one per seed in ``seeds`` order."""
    jobs = jobs_for(arms, seeds)
    if scheduler is not None:
        outcomes = _on_dask(jobs, population, params, days, scheduler, progress)
    elif workers > 1 and len(jobs) > 1:
        outcomes = _in_processes(jobs, population, params, days, workers, progress)
    else:
        outcomes = []
        for job in jobs:
            outcomes.append(run_job(population, params, days, job))
            if progress is not None:
                progress(len(outcomes), len(jobs))
    found = {(job.arm, job.seed): result for job, result in outcomes}
    return {name: [found[(name, int(seed))] for seed in seeds] for name in arms}


def _in_processes(
    jobs: list[Job],
    population: sim.Population,
    params: sim.Parameters,
    days: int,
    workers: int,
    progress: Progress | None,
) -> list[tuple[Job, sim.SimResult]]:
    context = multiprocessing.get_context("forkserver")
    outcomes: list[tuple[Job, sim.SimResult]] = []
    with ProcessPoolExecutor(
        max_workers=max(1, min(workers, os.cpu_count() or 1, len(jobs))),
        mp_context=context,
        initializer=_init_worker,
        initargs=(population, params, days),
    ) as pool:
        pending: set[Future[tuple[Job, sim.SimResult]]] = {pool.submit(_run_shared, job) for job in jobs}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                outcomes.append(future.result())
                if progress is not None:
                    progress(len(outcomes), len(jobs))
    return outcomes


def _on_dask(
    jobs: list[Job],
    population: sim.Population,
    params: sim.Parameters,
    days: int,
    scheduler: str,
    progress: Progress | None,
) -> list[tuple[Job, sim.SimResult]]:
    try:
        # Imported as an untyped module: dask is optional and only partly annotated.
        distributed: Any = importlib.import_module("dask.distributed")
    except ImportError:
        raise EnsembleError(
            "running on a Dask cluster needs dask.distributed, which is not installed here "
            "(pip install 'dask[distributed]'), or leave out --scheduler to run locally"
        ) from None
    outcomes: list[tuple[Job, sim.SimResult]] = []
    try:
        client = distributed.Client(scheduler, timeout="30s")
    except OSError as exc:
        raise EnsembleError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        shared = client.scatter(population, broadcast=True)
        futures = [client.submit(run_job, shared, params, days, job, pure=False) for job in jobs]
        for future in distributed.as_completed(futures):
            outcomes.append(future.result())
            if progress is not None:
                progress(len(outcomes), len(jobs))
    return outcomes
