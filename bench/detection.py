"""Benchmark: every temporal detector over every county and channel, and farringtonFlexible on weekly series.

Data generated here: 3,000 counties x 5 channels = 15,000 daily series of 3 years (negative binomial,
yearly and weekly seasonality) and 3,000 weekly series of 5 years. Four workloads:

1. **History**: each daily detector (fixed, mpm, EARS C1/C2/C3, CUSUM, Bayes, RKI, CDC, GLR-NB, EWMA)
   judges every day of every series it has the history for (its default range), as an analyst does
   when a series is first loaded or re-examined.
2. **Daily run**: each of these detectors judges the latest day of every series, as the scheduled run
   does each morning; the sum over detectors is ``daily_run_seconds``.
3. **farringtonFlexible** with the Noufaily settings of the R vignette (b = 4, w = 3, noPeriods = 10,
   pastWeeksNotIncluded = 26, nbPlugin), every week it can judge (the last ~49), through the batched
   ``farrington_flexible_many``. Farrington is weekly by design, so it is not in parts 1 and 2.
4. **Weekly run**: every detector (the daily ones with ``freq = 52``, and farringtonFlexible) judges
   the latest week of every weekly series, as a scheduled weekly job does.

Each detector runs over all series in one call of ``batch.detect_batch`` (``farrington_flexible_many``
for Farrington), as the platform's run does; parameters are converted once per detector and numba
kernels are compiled before timing. Baseline: R ``surveillance`` (``earsC``, ``algo.cusum``,
``algo.bayes``, ``algo.rki``, ``algo.glrnb``, ``algo.cdc`` on weekly data, ``farringtonFlexible``) run
in the same process tree on the first ``--r-sample`` series with the same parameters and the same
judged points (building the ``sts`` objects is not timed), then scaled to the full set; R's alarms on
the sample are compared with ours. fixed, mpm and EWMA have no R ``surveillance`` counterpart, and R's
``algo.cdc`` refuses daily data (it is compared in the weekly run). Without R the bench prints
"R not installed" and reports fangkong's times alone.

Ends with one JSON line per figure: ``daily_run_seconds`` and ``speedup_vs_r`` (R time scaled to the
full set / fangkong time on the full set) per detector, per workload and overall.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fangkong.analytics.detection.batch import detect_batch
from fangkong.analytics.detection.registry import DETECTORS, convert_params

DAYS_PER_YEAR = 365
WEEKS_PER_YEAR = 52

# name -> (parameters as fangkong detect takes them, the R call with the same settings or None).
# In the R calls, RANGE is the 1-based judged points, S the sts object and D the disProg object.
DAILY: dict[str, tuple[dict[str, object], str | None]] = {
    "fixed": ({"threshold": 1}, None),
    # Two years back: three years of data leave two full years of history for the moving percentile.
    "mpm": ({"b": 2, "freq": DAYS_PER_YEAR}, None),
    "ears_c1": ({}, 'earsC(S, control = list(method = "C1", range = RANGE, baseline = 7, alpha = 0.001))'),
    "ears_c2": ({}, 'earsC(S, control = list(method = "C2", range = RANGE, baseline = 7, alpha = 0.001))'),
    "ears_c3": ({}, 'earsC(S, control = list(method = "C3", range = RANGE, baseline = 7, alpha = 0.025))'),
    "cusum": (
        {"freq": DAYS_PER_YEAR},
        'algo.cusum(D, control = list(range = RANGE, k = 1.04, h = 2.26, trans = "standard"))',
    ),
    "bayes": (
        {"preset": "bayes1", "freq": DAYS_PER_YEAR},
        "algo.bayes(D, control = list(range = RANGE, b = 0, w = 6, actY = TRUE, alpha = 0.05))",
    ),
    "rki": (
        {"preset": "rki3", "freq": DAYS_PER_YEAR},
        "algo.rki(D, control = list(range = RANGE, b = 2, w = 4, actY = FALSE))",
    ),
    "cdc": ({"b": 2, "freq": DAYS_PER_YEAR}, None),
    "glrnb": (
        {"freq": DAYS_PER_YEAR},
        'algo.glrnb(D, control = list(range = RANGE, c.ARL = 5, alpha = 0, ret = "value"))',
    ),
    "ewma": ({}, None),
}

# R's algo.cdc refuses daily data; on weekly data it is compared (same b as fangkong's daily setting).
CDC_WEEKLY_R = "algo.cdc(D, control = list(range = RANGE, b = 2, m = 1, alpha = 0.025))"


def weekly_params(name: str) -> dict[str, object]:
    """The daily settings with a year of 52 weeks."""
    params = dict(DAILY[name][0])
    if "freq" in params:
        params["freq"] = WEEKS_PER_YEAR
    return params


FLEXIBLE_PARAMS: dict[str, object] = {
    "b": 4,
    "w": 3,
    "noPeriods": 10,
    "pastWeeksNotIncluded": 26,
    "weightsThreshold": 2.58,
    "pThresholdTrend": 1.0,
    "thresholdMethod": "nbPlugin",
    "freq": WEEKS_PER_YEAR,
}
FLEXIBLE_R = (
    "farringtonFlexible(S, control = list(b = 4, w = 3, noPeriods = 10, pastWeeksNotIncluded = 26, "
    'weightsThreshold = 2.58, pThresholdTrend = 1, thresholdMethod = "nbPlugin", range = RANGE))'
)

# Each line of the calls file: name <TAB> judged points (1-based, comma-separated) <TAB> R expression.
# R's earsC C3 fails on a one-point range ("number of items to replace"), so a C3 call judging one
# point also judges the point before it; only the requested points' alarms are reported. An alarm R
# leaves undefined (NA, e.g. C3 on a flat stretch with zero spread) counts as no alarm.
R_SCRIPT = r"""
suppressMessages(library(surveillance))
args <- commandArgs(TRUE)
Y <- as.matrix(read.csv(args[1], header = FALSE))
freq <- as.integer(args[2])
calls <- strsplit(readLines(args[3]), "\t")
objects <- lapply(seq_len(nrow(Y)), function(i) {
  S <- sts(observed = as.vector(Y[i, ]), frequency = freq, start = c(2001, 1))
  list(D = sts2disProg(S), S = S)
})
for (call in calls) {
  name <- call[1]
  wanted <- as.integer(strsplit(call[2], ",")[[1]])
  RANGE <- if (length(wanted) == 1 && grepl("C3", call[3])) c(wanted - 1L, wanted) else wanted
  expr <- parse(text = call[3])[[1]]
  alarms <- character(0)
  one_pass <- function(keep) for (o in objects) {
    D <- o$D; S <- o$S
    r <- suppressMessages(suppressWarnings(eval(expr)))
    if (keep) {
      a <- tail(if (inherits(r, "sts")) as.vector(alarms(r)) else as.vector(r$alarm), length(wanted))
      a[is.na(a)] <- FALSE
      alarms <<- c(alarms, paste(as.integer(a), collapse = ""))
    }
  }
  elapsed <- system.time(one_pass(TRUE))[["elapsed"]]
  # R's clock ticks in milliseconds: repeat short passes until they last half a second.
  if (elapsed < 0.5) {
    reps <- ceiling(0.5 / max(elapsed, 0.001))
    elapsed <- system.time(for (k in seq_len(reps)) one_pass(FALSE))[["elapsed"]] / reps
  }
  cat(name, elapsed, paste(alarms, collapse = ","), "\n")
}
"""


@dataclass
class Timing:
    workload: str
    name: str
    seconds: float
    series: int
    judged: np.ndarray
    alarms: np.ndarray
    r_seconds: float | None = None
    r_series: int = 0
    agree: str = ""

    @property
    def r_scaled(self) -> float | None:
        if self.r_seconds is None or not self.r_series:
            return None
        return self.r_seconds * self.series / self.r_series

    @property
    def ratio(self) -> float | None:
        scaled = self.r_scaled
        return None if scaled is None or self.seconds <= 0 else scaled / self.seconds


def daily_counts(rng: np.random.Generator, series: int, days: int) -> np.ndarray:
    """Daily counts: a mean per series, yearly and weekly seasonality, variance 1.5 x the mean."""
    level = np.exp(rng.normal(1.0, 1.0, size=(series, 1)))
    t = np.arange(days)
    season = (1.0 + 0.35 * np.cos(2 * np.pi * t / DAYS_PER_YEAR)) * (1.0 + 0.15 * np.cos(2 * np.pi * t / 7))
    mu = level * season[None, :]
    size = mu / 0.5
    return rng.negative_binomial(size, size / (size + mu)).astype(np.float64)


def weekly_counts(rng: np.random.Generator, series: int, weeks: int) -> np.ndarray:
    level = np.exp(rng.normal(2.0, 1.0, size=(series, 1)))
    t = np.arange(weeks)
    mu = level * np.exp(0.5 * np.cos(2 * np.pi * t / WEEKS_PER_YEAR))[None, :]
    size = mu / 0.5
    return rng.negative_binomial(size, size / (size + mu)).astype(np.float64)


def time_detector(
    workload: str, name: str, counts: np.ndarray, latest_only: bool, params: dict[str, object] | None = None
) -> Timing:
    given = DAILY[name][0] if params is None else params
    n = counts.shape[1]
    converted = convert_params(name, DETECTORS[name], given, n)
    extra = {"range": np.array([n - 1], dtype=np.int64)} if latest_only else {}
    detect_batch(name, counts[:2], **converted, **extra)  # compiles numba kernels before the clock starts
    start = time.perf_counter()
    batch = detect_batch(name, counts, **converted, **extra)
    seconds = time.perf_counter() - start
    judged = batch.index[batch.judged.any(axis=0)]
    alarms = batch.alarm[:, np.isin(batch.index, judged)]
    return Timing(workload, name, seconds, counts.shape[0], judged, alarms)


def time_flexible(counts: np.ndarray, workload: str = "weekly", latest_only: bool = False) -> Timing:
    from fangkong.analytics.detection.farrington import farrington_flexible_many

    extra = {"range": np.array([counts.shape[1] - 1], dtype=np.int64)} if latest_only else {}
    farrington_flexible_many(counts[:2], **FLEXIBLE_PARAMS, **extra)
    start = time.perf_counter()
    batch = farrington_flexible_many(counts, **FLEXIBLE_PARAMS, **extra)
    seconds = time.perf_counter() - start
    judged = np.flatnonzero(batch.judged.any(axis=0))
    return Timing(workload, "farrington_flexible", seconds, counts.shape[0], judged, batch.alarm[:, judged])


def r_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "quit(status = !requireNamespace('surveillance', quietly = TRUE))"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def run_r(
    sample: np.ndarray, freq: int, calls: list[tuple[str, np.ndarray, str]]
) -> dict[str, tuple[float, list[str]]]:
    """Time each R call over the sample series; name -> (seconds, alarm strings per series)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.savetxt(folder / "y.csv", sample, fmt="%d", delimiter=",")
        lines = [
            f"{name}\t{','.join(str(int(i) + 1) for i in judged)}\t{expr}" for name, judged, expr in calls
        ]
        (folder / "calls.txt").write_text("\n".join(lines) + "\n")
        (folder / "bench.R").write_text(R_SCRIPT)
        done = subprocess.run(
            ["Rscript", str(folder / "bench.R"), str(folder / "y.csv"), str(freq), str(folder / "calls.txt")],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"Rscript failed: {done.stderr.strip()[-800:]}")
    out: dict[str, tuple[float, list[str]]] = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            out[parts[0]] = (float(parts[1]), parts[2].split(",") if len(parts) > 2 else [])
    return out


def agreement(ours: np.ndarray, theirs: list[str]) -> str:
    """Judged points where R and fangkong give the same alarm, out of all compared."""
    if len(theirs) != ours.shape[0] or any(len(row) != ours.shape[1] for row in theirs):
        return "shape differs"
    r = np.array([[c == "1" for c in row] for row in theirs], dtype=np.bool_).reshape(ours.shape)
    return f"{int((r == ours).sum())}/{r.size}"


def attach_r(timings: list[Timing], sample: np.ndarray, freq: int, exprs: dict[str, str]) -> None:
    calls = [(t.name, t.judged, exprs[t.name]) for t in timings if t.name in exprs]
    found = run_r(sample, freq, calls)
    for t in timings:
        if t.name in found:
            t.r_seconds, t.r_series = found[t.name][0], sample.shape[0]
            t.agree = agreement(t.alarms[: sample.shape[0]], found[t.name][1])


def print_table(title: str, timings: list[Timing]) -> None:
    print(f"\n{title}")
    print(
        f"{'detector':<22}{'fangkong s':>11}{'ms/series':>10}{'R s (scaled)':>14}{'R/fangkong':>12}"
        f"{'alarms agree':>16}"
    )
    for t in timings:
        scaled = "-" if t.r_scaled is None else f"{t.r_scaled:,.1f}"
        ratio = "-" if t.ratio is None else f"{t.ratio:,.1f}x"
        print(
            f"{t.name:<22}{t.seconds:>11.2f}{1000 * t.seconds / t.series:>10.3f}{scaled:>14}{ratio:>12}"
            f"{t.agree or '-':>16}"
        )


def totals(timings: list[Timing]) -> tuple[float, float, float]:
    """(fangkong seconds, fangkong seconds on the detectors R has, R seconds scaled on those)."""
    with_r = [t for t in timings if t.r_scaled is not None]
    return (
        sum(t.seconds for t in timings),
        sum(t.seconds for t in with_r),
        sum(t.r_scaled or 0.0 for t in with_r),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counties", type=int, default=3000)
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--years", type=int, default=3, help="years of daily data")
    parser.add_argument("--weekly-series", type=int, default=3000)
    parser.add_argument("--weekly-years", type=int, default=5)
    parser.add_argument("--r-sample", type=int, default=30, help="series timed in R (scaled to the full set)")
    parser.add_argument("--methods", default=",".join(DAILY), help="daily detectors to time")
    parser.add_argument("--skip-history", action="store_true", help="time only the daily run and Farrington")
    parser.add_argument("--seed", type=int, default=2008)
    parser.add_argument("--no-r", action="store_true", help="skip the R baseline")
    args = parser.parse_args()
    names = [m for m in args.methods.split(",") if m]
    rng = np.random.default_rng(args.seed)
    daily = daily_counts(rng, args.counties * args.channels, args.years * DAYS_PER_YEAR)
    weekly = weekly_counts(rng, args.weekly_series, args.weekly_years * WEEKS_PER_YEAR)

    history = (
        [] if args.skip_history else [time_detector("history", m, daily, latest_only=False) for m in names]
    )
    run = [time_detector("daily run", m, daily, latest_only=True) for m in names]
    flexible = time_flexible(weekly)
    weekly_run = [
        time_detector("weekly run", m, weekly, latest_only=True, params=weekly_params(m)) for m in names
    ]
    weekly_run.append(time_flexible(weekly, "weekly run", latest_only=True))

    have_r = not args.no_r and r_available()
    if not have_r:
        print("R not installed (Rscript with the surveillance package): fangkong times only")
    else:
        exprs = {name: expr for name, (_, expr) in DAILY.items() if expr}
        sample = daily[: min(args.r_sample, daily.shape[0])]
        attach_r(history, sample, DAYS_PER_YEAR, exprs)
        attach_r(run, sample, DAYS_PER_YEAR, exprs)
        attach_r(
            [flexible],
            weekly[: min(args.r_sample, weekly.shape[0])],
            WEEKS_PER_YEAR,
            {"farrington_flexible": FLEXIBLE_R},
        )
        attach_r(
            weekly_run,
            weekly[: min(args.r_sample, weekly.shape[0])],
            WEEKS_PER_YEAR,
            {**exprs, "cdc": CDC_WEEKLY_R, "farrington_flexible": FLEXIBLE_R},
        )

    series = daily.shape[0]
    size = (
        f"{series:,} daily series ({args.counties:,} counties x {args.channels} channels) x "
        f"{daily.shape[1]} days"
    )
    if history:
        print_table(f"1. History: {size}, every day each detector can judge", history)
    print_table(f"2. Daily run: {size}, the latest day", run)
    print_table(
        f"3. farringtonFlexible (Noufaily settings): {flexible.series:,} weekly series x "
        f"{weekly.shape[1]} weeks, "
        f"{flexible.judged.size} weeks judged each",
        [flexible],
    )
    print_table(
        f"4. Weekly run: {weekly.shape[0]:,} weekly series x {weekly.shape[1]} weeks, the latest week",
        weekly_run,
    )
    run_total, run_ours_r, run_r_total = totals(run)
    print(f"\ndaily run, all detectors: {run_total:.1f} s (target: under 60 s)")
    all_ours = all_r = 0.0
    groups = (
        ("history", history),
        ("daily run", run),
        ("farringtonFlexible", [flexible]),
        ("weekly run", weekly_run),
    )
    for label, group in groups:
        _, ours, theirs = totals(group)
        all_ours, all_r = all_ours + ours, all_r + theirs
        if ours:
            print(
                f"{label}: detectors R has take {ours:.1f} s here, {theirs:,.0f} s in R (scaled): "
                f"{theirs / ours:,.1f}x"
            )
    if all_ours:
        print(f"all workloads: {all_r / all_ours:,.1f}x faster than R (target: 20x)")

    def rounded(value: float | None, digits: int = 2) -> float | None:
        return None if value is None else round(value, digits)

    r_note = (
        f"R surveillance on {args.r_sample} series, scaled to the full set" if have_r else "R not installed"
    )
    lines: list[dict[str, object]] = [
        {
            "bench": "detection",
            "metric": "daily_run_seconds",
            "value": round(run_total, 3),
            "unit": "s",
            "baseline": f"{r_note} (detectors R has)",
            "baseline_value": rounded(run_r_total, 1) if have_r else None,
            "ratio": rounded(run_r_total / run_ours_r) if have_r and run_ours_r else None,
            "series": series,
        },
        {
            "bench": "detection",
            "metric": "speedup_vs_r",
            "workload": "all",
            "value": rounded(all_r / all_ours) if have_r and all_ours else None,
            "unit": "x",
            "baseline": r_note,
            "baseline_value": rounded(all_r, 1) if have_r else None,
            "ratio": rounded(all_r / all_ours) if have_r and all_ours else None,
        },
    ]
    for t in [*history, *run, flexible, *weekly_run]:
        lines.append(
            {
                "bench": "detection",
                "metric": "speedup_vs_r",
                "workload": t.workload,
                "method": t.name,
                "value": rounded(t.ratio),
                "unit": "x",
                "seconds": round(t.seconds, 3),
                "series": t.series,
                "baseline": r_note if t.r_scaled is not None else "no R counterpart",
                "baseline_value": rounded(t.r_scaled),
                "ratio": rounded(t.ratio),
                "alarms_agree": t.agree or None,
            }
        )
    for line in lines:
        print(json.dumps(line, ensure_ascii=False))


if __name__ == "__main__":
    main()
