"""Benchmark: farringtonFlexible over many weekly series at once (``farrington_flexible_many``).

Generates S synthetic weekly series of Y years (negative binomial around a yearly cycle, levels from
sparse to busy), judges every week R's default range allows (b = 4: weeks 212..260 of 5 years, i.e.
the last 49 weeks, as in Noufaily et al. 2013) with the vignette's Noufaily or Farrington settings, and
compares with R ``surveillance``'s ``farringtonFlexible`` on the same counts. R runs sequentially on the
first ``--r-series`` series and its time is scaled linearly to S series; without ``Rscript`` and the
``surveillance`` package the baseline is left out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from fangkong.analytics.detection.farrington import farrington_flexible_many

SETTINGS: dict[str, dict[str, object]] = {
    # R surveillance vignette "monitoringCounts", con.noufaily and con.farrington
    "noufaily": {
        "noPeriods": 10,
        "b": 4,
        "w": 3,
        "weightsThreshold": 2.58,
        "pastWeeksNotIncluded": 26,
        "pThresholdTrend": 1.0,
        "thresholdMethod": "nbPlugin",
    },
    "farrington": {
        "noPeriods": 1,
        "b": 4,
        "w": 3,
        "weightsThreshold": 1.0,
        "pastWeeksNotIncluded": 3,
        "pThresholdTrend": 0.05,
        "thresholdMethod": "delta",
    },
}
FIRST_MONDAY = np.datetime64("2015-01-05")

R_SCRIPT = r"""
suppressPackageStartupMessages(library(surveillance))
a <- commandArgs(TRUE)
y <- as.matrix(read.csv(a[1], header = FALSE))
dates <- as.Date(a[2]) + 7 * (seq_len(nrow(y)) - 1)
s <- sts(observed = y, epoch = dates)
con <- list(noPeriods = as.integer(a[3]), b = as.integer(a[4]), w = as.integer(a[5]),
            weightsThreshold = as.numeric(a[6]), pastWeeksNotIncluded = as.integer(a[7]),
            pThresholdTrend = as.numeric(a[8]), thresholdMethod = a[9], glmWarnings = FALSE)
tm <- system.time(r <- suppressWarnings(farringtonFlexible(s, con)))
cat(tm[["elapsed"]], sum(alarms(r), na.rm = TRUE), as.character(packageVersion("surveillance")), "\n")
"""


def synthetic_counts(rng: np.random.Generator, series: int, weeks: int) -> np.ndarray:
    t = np.arange(weeks)
    cycle = np.exp(0.6 * np.cos(2 * np.pi * t / 52) + 0.3 * np.sin(2 * np.pi * t / 52))
    level = np.exp(rng.uniform(np.log(0.3), np.log(50.0), size=(series, 1)))
    mean = level * cycle[None, :]
    size = 2.0
    return rng.negative_binomial(size, size / (size + mean)).astype(np.float64)


def time_r(counts: np.ndarray, settings: dict[str, object]) -> tuple[float, str] | None:
    """Seconds R takes on these series (None if R or surveillance is missing)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "counts.csv"
        script = Path(tmp) / "run.R"
        np.savetxt(data, counts.T, fmt="%d", delimiter=",")
        script.write_text(R_SCRIPT)
        order = ("noPeriods", "b", "w", "weightsThreshold", "pastWeeksNotIncluded", "pThresholdTrend")
        args = [str(settings[k]) for k in order] + [str(settings["thresholdMethod"])]
        done = subprocess.run(
            [rscript, str(script), str(data), str(FIRST_MONDAY), *args],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        return None
    elapsed, _alarms, version = done.stdout.split()
    return float(elapsed), version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=3000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--settings", choices=sorted(SETTINGS), default="noufaily")
    parser.add_argument("--r-series", type=int, default=30, help="series R runs on (0: skip R)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2013)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    weeks = 52 * args.years
    counts = synthetic_counts(rng, args.series, weeks)
    dates = FIRST_MONDAY + 7 * np.arange(weeks)
    settings = SETTINGS[args.settings]

    farrington_flexible_many(counts[:2], dates=dates, **settings)  # compile or load the numba cache
    walls, cpus = [], []
    for _ in range(args.repeat):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        batch = farrington_flexible_many(counts, dates=dates, **settings)
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
    wall, cpu = min(walls), min(cpus)
    judged = int(batch.judged.sum())

    r_wall = None
    version = ""
    if args.r_series > 0:
        timed = time_r(counts[: args.r_series], settings)
        if timed is not None:
            r_elapsed, version = timed
            r_wall = r_elapsed * args.series / args.r_series

    print(f"farringtonFlexible ({args.settings} settings), {args.series} series x {weeks} weeks")
    print(f"{'what':<44}{'value':>14}")
    print(f"{'time points judged':<44}{judged:>14d}")
    print(f"{'alarms':<44}{int(batch.alarm.sum()):>14d}")
    print(f"{'fangkong wall time, best of ' + str(args.repeat) + ' (s)':<44}{wall:>14.2f}")
    print(f"{'fangkong CPU time, all threads (s)':<44}{cpu:>14.2f}")
    print(f"{'fangkong microseconds per judged point':<44}{1e6 * wall / max(judged, 1):>14.1f}")
    if r_wall is not None:
        label = f"R surveillance {version}, scaled from {args.r_series} series (s)"
        print(f"{label:<44}{r_wall:>14.1f}")
        print(f"{'speed-up (R / fangkong, wall)':<44}{r_wall / wall:>14.1f}")
    figure: dict[str, object] = {
        "bench": "detection",
        "metric": f"farrington_flexible_{args.settings}_{args.series}x{weeks}_seconds",
        "value": round(wall, 3),
        "unit": "s",
    }
    if r_wall is not None:
        figure.update(
            baseline=(
                f"R surveillance {version} farringtonFlexible, {args.r_series} series scaled to {args.series}"
            ),
            baseline_value=round(r_wall, 1),
            ratio=round(r_wall / wall, 1),
        )
    print(json.dumps(figure))


if __name__ == "__main__":
    main()
