"""Names of the dashboard's pre-aggregated figures: the flows counted per local day (``DailyCount``)
and the levels kept per jurisdiction (``Gauge``).

Each counter row holds a jurisdiction's whole subtree (a change is added where it happened and at every
jurisdiction above it), so the dashboard reads a node and its children as a few rows. The names are
stored in the database: renaming one orphans its rows until the next recount.
"""

from __future__ import annotations

# Flows, per local day and jurisdiction (response_daily_counts.metric).
CASES_REPORTED = "cases_reported"  # confirmed + asymptomatic cases, by local report day
CASES_FOUND_UNDER_MANAGEMENT = "cases_found_managed"  # of them, already managed contacts when found
PEOPLE_PLACED = "people_placed"  # placements under management (a management plan asked for)
PEOPLE_RELEASED = "people_released"  # releases from management (the source no longer asks for it)
QUARANTINE_CHECKED_IN = "quarantine_checked_in"  # check-ins at a quarantine site, by the person's place
TESTS_POSITIVE = "tests_positive"  # people who tested positive (an ordered test or a pool member)
TESTS_DONE = "tests_done"  # plan tests sampled that day (kept by the nightly recount only)
ALERTS_RAISED = "alerts_raised"  # alerts the detector raised

DAILY_METRICS = (
    CASES_REPORTED,
    CASES_FOUND_UNDER_MANAGEMENT,
    PEOPLE_PLACED,
    PEOPLE_RELEASED,
    QUARANTINE_CHECKED_IN,
    TESTS_POSITIVE,
    TESTS_DONE,
    ALERTS_RAISED,
)

# The flows the nightly recount can rebuild from the source capabilities' reads. Placements and releases
# and check-ins are counted from the events alone: no capability offers a dated read of them (a stay's
# placement is not its check-in) to recount from.
RECOUNTED_DAILY = (
    CASES_REPORTED,
    CASES_FOUND_UNDER_MANAGEMENT,
    TESTS_POSITIVE,
    TESTS_DONE,
    ALERTS_RAISED,
)

# Levels, per jurisdiction (response_gauges.metric): people under each measure of the protocol, one gauge
# per protocol person-category id (``under:close_contact``, ``under:arrival`` ...).
UNDER_MEASURE_PREFIX = "under:"


def under_measure(category: str) -> str:
    """The gauge name of the people under one protocol category's measure."""
    return UNDER_MEASURE_PREFIX + category


def measure_of(metric: str) -> str | None:
    """The protocol category of an ``under:`` gauge name; None for any other name."""
    return metric[len(UNDER_MEASURE_PREFIX) :] if metric.startswith(UNDER_MEASURE_PREFIX) else None
