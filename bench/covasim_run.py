"""Run covasim 3.1.9 with the baseline configuration and print one JSON line with its figures.

Runs inside the benchmark's own virtualenv (``bench/out/covasim-venv``), started by
``bench/simulate.py``; it imports nothing from fangkong. The configuration is the one in
``reference/sim/covasim_baseline.md``: hybrid population, ``pop_infected = max(10, pop_size // 10000)``,
``rand_seed = 1``, covasim defaults otherwise; the ``tt`` arm adds ``test_prob`` and
``contact_tracing`` with the baseline's probabilities and delays. Only ``sim.run()`` is timed, as in
the baseline.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--arm", choices=["none", "tt"], default="tt")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import covasim as cv  # type: ignore[import-not-found, unused-ignore]

    interventions = []
    if args.arm == "tt":
        interventions = [
            cv.test_prob(
                symp_prob=0.1, asymp_prob=0.001, symp_quar_prob=0.5, asymp_quar_prob=0.1, test_delay=1
            ),
            cv.contact_tracing(
                trace_probs={"h": 1.0, "s": 0.5, "w": 0.5, "c": 0.1},
                trace_time={"h": 0, "s": 2, "w": 2, "c": 3},
            ),
        ]
    pars = {
        "pop_size": args.size,
        "pop_type": "hybrid",
        "pop_infected": max(10, args.size // 10000),
        "n_days": args.days,
        "rand_seed": args.seed,
        "verbose": 0,
    }
    started = time.perf_counter()
    sim = cv.Sim(pars, interventions=interventions)
    sim.initialize()
    init_seconds = time.perf_counter() - started
    started = time.perf_counter()
    cpu_started = time.process_time()
    sim.run()
    run_seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    results = sim.results
    figures = {
        "simulator": f"covasim {cv.__version__}",
        "arm": args.arm,
        "size": args.size,
        "days": args.days,
        "init_seconds": init_seconds,
        "run_seconds": run_seconds,
        "cpu_seconds": cpu_seconds,
        "agent_days_per_s": args.size * args.days / run_seconds,
        "cum_infections": float(results["cum_infections"][-1]),
        "cum_tests": float(results["cum_tests"][-1]),
        "cum_quarantined": float(results["cum_quarantined"][-1]),
        "cum_diagnoses": float(results["cum_diagnoses"][-1]),
        "cum_deaths": float(results["cum_deaths"][-1]),
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
    }
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
