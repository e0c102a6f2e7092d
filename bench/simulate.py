"""Benchmark: fangkong's agent-based simulator against covasim 3.1.9, side by side in one run.

Both simulators get the same population size, days and intervention (``reference/sim/covasim_baseline.md``):
a hybrid population (households, schools, workplaces, community), ``max(10, size // 10000)`` seed
infections, 100 days, and in the ``tt`` arm symptomatic testing (0.1 a day; 0.001 without symptoms;
results after 1 day) with contact tracing (household 1.0 / school 0.5 / work 0.5 / community 0.1,
after 0 / 2 / 2 / 3 days) and 14 days of home quarantine. Covasim runs in its own virtualenv
(``bench/out/covasim-venv``, created on first use) through ``bench/covasim_run.py``; fangkong runs in
this process after covasim has finished, so the two never share the cores. Only the run is timed on
both sides (population building and numba compilation are reported apart).

``--mem10m`` runs fangkong alone with 10,000,000 people for 120 days (tt arm) and reports the peak
resident memory of this process.

Ends with one JSON line per figure: ``agent_days_per_s`` (fangkong, tt arm, with covasim's figure from
the same run as baseline and ``ratio`` = fangkong / covasim) and, with ``--mem10m``,
``peak_memory_gb_10m`` against the 10 GB target.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
VENV = BENCH / "out" / "covasim-venv"
COVASIM_VERSION = "3.1.9"
# Covasim 3.1.9 figures from reference/sim/covasim_baseline.md (agent-days per second, this machine kind).
REFERENCE_COVASIM_RATE = {"none": 2.37e6, "tt": 0.59e6}


def covasim_python() -> Path:
    """The covasim virtualenv's interpreter, creating the virtualenv if it is missing."""
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} and installing covasim=={COVASIM_VERSION} ...", flush=True)
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"covasim=={COVASIM_VERSION}"], check=True)
    return python


def run_covasim(size: int, days: int, arm: str, seed: int) -> dict[str, Any]:
    python = covasim_python()
    command = [str(python), str(BENCH / "covasim_run.py"), "--size", str(size), "--days", str(days)]
    command += ["--arm", arm, "--seed", str(seed)]
    print(f"running covasim {arm} ({size:,} agents, {days} days) ...", flush=True)
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    last = [line for line in done.stdout.splitlines() if line.startswith("{")][-1]
    figures: dict[str, Any] = json.loads(last)
    return figures


def fangkong_strategy(arm: str) -> Any:
    from fangkong.analytics import sim

    if arm == "none":
        return sim.Strategy(name="none")
    # Covasim's quarantine lasts quar_period = 14 days from the case's diagnosis and releases on day 14;
    # a 13-day plan (released on day 14) spends the same days in quarantine. Covasim tests quarantined
    # people once, the day after they start (0.1, or 0.5 with symptoms): one test on plan day 1, taken
    # on entry by contacts reached later.
    quarantine = sim.Quarantine(
        stages=(
            sim.QuarantineStage(
                days=13, place="home", reduction=0.8, household_reduction=0.4, test_days=(1,)
            ),
        ),
        test_prob=0.1,
        symptomatic_test_prob=0.5,
        release_requires_negative=False,
    )
    return sim.Strategy(
        name="tt",
        testing=sim.Testing(
            symptomatic_daily_prob=0.1,
            asymptomatic_daily_prob=0.001,
            quarantined_symptomatic_daily_prob=0.1,
            result_delay_days=1,
            sensitivity=1.0,
        ),
        isolation=sim.CaseIsolation(place="home", layer_factors=sim.LayerValues(0.3, 0.1, 0.1, 0.1)),
        tracing=sim.ContactTracing(
            trace_prob=sim.LayerValues(1.0, 0.5, 0.5, 0.1),
            trace_delay_days=(0, 2, 2, 3),
            quarantine=quarantine,
        ),
    )


def build_population(size: int, seed: int) -> Any:
    from fangkong.analytics import sim
    from fangkong.analytics.sim.parameters import COVASIM_AGE_BAND_LOWER, COVASIM_AGE_SHARES, COVASIM_MAX_AGE
    from fangkong.analytics.sim.population import COVASIM_HOUSEHOLD_SIZE_SHARES

    # Covasim's hybrid layout: random school and work graphs, community contacts from everyone.
    settings = sim.ContactSettings(
        school_structure="random", work_structure="random", community_local_share=0.0
    )
    return sim.make_population(
        size,
        COVASIM_AGE_BAND_LOWER,
        COVASIM_AGE_SHARES,
        np.random.default_rng(seed),
        max_age=COVASIM_MAX_AGE,
        household_size_shares=COVASIM_HOUSEHOLD_SIZE_SHARES,
        settings=settings,
    )


def warm_up() -> float:
    """Compile (or load from cache) the numba kernels on a small run; returns the seconds it took."""
    from fangkong.analytics import sim

    started = time.perf_counter()
    pop = build_population(5_000, 0)
    for arm in ("none", "tt"):
        sim.simulate(
            pop, sim.Parameters(initial_infections=10), fangkong_strategy(arm), 10, np.random.default_rng(0)
        )
    return time.perf_counter() - started


def run_fangkong(size: int, days: int, arms: list[str], seed: int) -> list[dict[str, Any]]:
    from fangkong.analytics import sim

    compile_seconds = warm_up()
    started = time.perf_counter()
    pop = build_population(size, seed)
    build_seconds = time.perf_counter() - started
    params = sim.Parameters(initial_infections=max(10, size // 10000))
    rows = []
    for arm in arms:
        print(f"running fangkong {arm} ({size:,} agents, {days} days) ...", flush=True)
        cpu_started = time.process_time()
        result = sim.simulate(pop, params, fangkong_strategy(arm), days, np.random.default_rng(seed))
        cpu_seconds = time.process_time() - cpu_started
        totals = result.totals
        rows.append(
            {
                "simulator": "fangkong",
                "arm": arm,
                "size": size,
                "days": days,
                "init_seconds": build_seconds,
                "compile_seconds": compile_seconds,
                "run_seconds": result.run_seconds,
                "cpu_seconds": cpu_seconds,
                "agent_days_per_s": result.agent_days_per_second,
                "cum_infections": totals["infections"],
                "cum_tests": totals["tests"],
                "cum_quarantined": totals["people_quarantined"],
                "cum_diagnoses": totals["diagnoses"],
                "cum_deaths": totals["deaths"],
                "peak_rss_gb": peak_rss_gb(),
                "population_gb": pop.nbytes / 1e9,
            }
        )
    return rows


def peak_rss_gb() -> float:
    """Peak resident set of this process in GB of 10**9 bytes (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def print_table(rows: list[dict[str, Any]]) -> None:
    head = f"{'simulator':<16} {'arm':<5} {'agents':>11} {'days':>5} {'init s':>8} {'run s':>8} {'cpu s':>8} "
    head += f"{'agent-days/s':>13} {'infections':>11} {'tests':>9} {'quarantined':>12} {'diagnoses':>10} "
    head += f"{'peak GB':>8}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['simulator']:<16} {r['arm']:<5} {r['size']:>11,} {r['days']:>5} {r['init_seconds']:>8.1f} "
            f"{r['run_seconds']:>8.2f} {r['cpu_seconds']:>8.2f} {r['agent_days_per_s']:>13,.0f} "
            f"{r['cum_infections']:>11,.0f} "
            f"{r['cum_tests']:>9,.0f} {r['cum_quarantined']:>12,.0f} {r['cum_diagnoses']:>10,.0f} "
            f"{r['peak_rss_gb']:>8.2f}"
        )


def memory_run(size: int, days: int, seed: int) -> None:
    from fangkong.analytics import sim

    compile_seconds = warm_up()
    started = time.perf_counter()
    pop = build_population(size, seed)
    build_seconds = time.perf_counter() - started
    params = sim.Parameters(initial_infections=max(10, size // 10000))
    result = sim.simulate(pop, params, fangkong_strategy("tt"), days, np.random.default_rng(seed))
    peak = peak_rss_gb()
    totals = result.totals
    print(f"fangkong tt, {size:,} agents x {days} days")
    print(f"  compile/warm-up     {compile_seconds:8.1f} s")
    print(f"  population build    {build_seconds:8.1f} s   ({pop.nbytes / 1e9:.2f} GB of arrays)")
    rate = result.agent_days_per_second
    print(f"  run                 {result.run_seconds:8.1f} s   ({rate:,.0f} agent-days/s)")
    print(f"  infections          {totals['infections']:>12,}")
    print(f"  tests               {totals['tests']:>12,}")
    print(f"  people quarantined  {totals['people_quarantined']:>12,}")
    print(f"  peak memory (RSS)   {peak:8.2f} GB")
    line = {
        "bench": "simulate",
        "metric": "peak_memory_gb_10m",
        "value": round(peak, 3),
        "unit": "GB",
        "baseline": f"target for {size:,} agents x {days} days",
        "baseline_value": 10.0,
        "ratio": round(peak / 10.0, 3),
    }
    print(json.dumps(line))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000, help="agents (default 1,000,000)")
    parser.add_argument("--days", type=int, default=100, help="days (default 100)")
    parser.add_argument("--arm", choices=["none", "tt", "both"], default="tt")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-covasim", action="store_true", help="skip covasim; compare with the reference figures"
    )
    parser.add_argument(
        "--mem10m", action="store_true", help="fangkong only: 10,000,000 agents x 120 days, peak RSS"
    )
    parser.add_argument("--mem-size", type=int, default=10_000_000, help=argparse.SUPPRESS)
    parser.add_argument("--mem-days", type=int, default=120, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.mem10m:
        memory_run(args.mem_size, args.mem_days, args.seed)
        return
    arms = ["none", "tt"] if args.arm == "both" else [args.arm]
    covasim_rows = (
        [] if args.no_covasim else [run_covasim(args.size, args.days, arm, args.seed) for arm in arms]
    )
    fangkong_rows = run_fangkong(args.size, args.days, arms, args.seed)
    print()
    print_table(covasim_rows + fangkong_rows)
    print()
    lines = []
    for row in fangkong_rows:
        arm = row["arm"]
        measured = [r for r in covasim_rows if r["arm"] == arm]
        if measured:
            base_value = measured[0]["agent_days_per_s"]
            base_name = f"covasim {COVASIM_VERSION} {arm} arm, same run"
        else:
            base_value = REFERENCE_COVASIM_RATE[arm]
            base_name = f"covasim {COVASIM_VERSION} {arm} arm, reference/sim/covasim_baseline.md (1M agents)"
        metric = "agent_days_per_s" if arm == "tt" else "agent_days_per_s_none"
        lines.append(
            {
                "bench": "simulate",
                "metric": metric,
                "value": round(row["agent_days_per_s"]),
                "unit": "agent-days/s",
                "baseline": base_name,
                "baseline_value": round(base_value),
                "ratio": round(row["agent_days_per_s"] / base_value, 2),
            }
        )
    for line in lines:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
