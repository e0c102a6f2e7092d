"""Benchmark: Rt (Cori et al., EpiEstim method) for many jurisdictions at once.

Generates synthetic daily incidence for N jurisdictions x T days, estimates Rt on sliding windows with
``fangkong.analytics.rt.estimate_r`` (one vectorised call), and compares with a baseline that calls
the same kernel once per jurisdiction, and with a per-window loop written the way EpiEstim computes it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
from scipy import stats

from fangkong.analytics.rt import QUANTILE_LEVELS, discretised_serial_interval, estimate_r

# Serial interval used for the benchmark, days (EpiEstim's Flu2009 example: mean 2.6, sd 1.5).
SI_MEAN = 2.6
SI_SD = 1.5


def synthetic_incidence(rng: np.random.Generator, jurisdictions: int, days: int) -> np.ndarray:
    size = rng.gamma(2.0, 20.0, size=(jurisdictions, 1))
    wave = np.exp(np.sin(np.arange(days) / 40.0))[None, :]
    return rng.poisson(size * wave).astype(np.float64)


def loop_baseline(incidence: np.ndarray, window: int) -> np.ndarray:
    days = incidence.shape[1]
    w = discretised_serial_interval(SI_MEAN, SI_SD, days)
    means = []
    for series in incidence:
        lam = np.array([np.dot(series[t - 1 :: -1][:t], w[1 : t + 1]) for t in range(1, days)])
        lam = np.concatenate([[np.nan], lam])
        row = []
        for start in range(2, days - window + 2):
            end = start + window - 1
            shape = 1.0 + series[start - 1 : end].sum()
            scale = 1.0 / (0.2 + lam[start - 1 : end].sum())
            row.append(stats.gamma.ppf(QUANTILE_LEVELS, shape, scale=scale))
        means.append(row)
    return np.array(means)


def timed(fn: Callable[[], object], repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jurisdictions", type=int, default=3000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--window", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--baseline-sample", type=int, default=30, help="jurisdictions timed in the loop baseline"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(2013)
    incidence = synthetic_incidence(rng, args.jurisdictions, args.days)

    vectorised = timed(
        lambda: estimate_r(incidence, mean_si=SI_MEAN, std_si=SI_SD, window=args.window), args.repeats
    )
    per_series = timed(
        lambda: [estimate_r(row, mean_si=SI_MEAN, std_si=SI_SD, window=args.window) for row in incidence], 1
    )
    sample = incidence[: args.baseline_sample]
    loop = timed(lambda: loop_baseline(sample, args.window), 1) * args.jurisdictions / sample.shape[0]

    print(f"Rt for {args.jurisdictions} jurisdictions x {args.days} days, window {args.window}")
    print(f"{'variant':<44}{'seconds':>10}")
    print(f"{'one vectorised call (fangkong)':<44}{vectorised:>10.3f}")
    print(f"{'same kernel, one call per jurisdiction':<44}{per_series:>10.3f}")
    print(f"{'per-window loop as EpiEstim (extrapolated)':<44}{loop:>10.1f}")
    for metric, baseline, value in (
        ("rt_seconds", "one call per jurisdiction", per_series),
        ("rt_seconds", "per-window loop as EpiEstim", loop),
    ):
        print(
            json.dumps(
                {
                    "bench": "rt",
                    "metric": metric,
                    "value": round(vectorised, 4),
                    "unit": "s",
                    "baseline": baseline,
                    "baseline_value": round(value, 3),
                    "ratio": round(value / vectorised, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
