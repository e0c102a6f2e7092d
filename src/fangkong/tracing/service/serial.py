"""The serial interval measured on the platform's own transmission chains.

Every recorded link (infector → infectee, any certainty) whose two cases have an onset date gives one
interval: the infectee's onset minus the infector's, in days. A link belongs to its infectee's
jurisdiction (``ChainLink.jpath``), so the reader sees the links of the cases in their scope; a date
window selects links by the infectee's onset. The numbers (summary, fitted distributions, the AIC choice,
the bootstrap interval, the distribution Rt takes) come from :mod:`fangkong.analytics.serial_interval`.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from fangkong.analytics.serial_interval import DEFAULT_BOOTSTRAP, SerialInterval, fit_serial_interval
from fangkong.core.auth import Principal
from fangkong.core.scope import under
from fangkong.tracing.models import Case, ChainLink

# Seed of the bootstrap, so that the same links give the same interval on every page and command.
BOOTSTRAP_SEED: Final[int] = 20200101


def transmission_intervals(
    session: Session,
    principal: Principal,
    since: dt.date | None = None,
    until: dt.date | None = None,
    *,
    cluster_id: int | None = None,
) -> list[int]:
    """Serial intervals (days) of the links in the reader's scope, infectee onset within the window."""
    infector = aliased(Case)
    infectee = aliased(Case)
    stmt = (
        select(infector.onset_date, infectee.onset_date)
        .select_from(ChainLink)
        .join(infector, infector.id == ChainLink.infector_case_id)
        .join(infectee, infectee.id == ChainLink.infectee_case_id)
        .where(
            under(ChainLink.jpath, principal.jpath),
            infector.onset_date.is_not(None),
            infectee.onset_date.is_not(None),
        )
        .order_by(ChainLink.id)
    )
    if since is not None:
        stmt = stmt.where(infectee.onset_date >= since)
    if until is not None:
        stmt = stmt.where(infectee.onset_date <= until)
    if cluster_id is not None:
        stmt = stmt.where(ChainLink.cluster_id == cluster_id)
    return [(b - a).days for a, b in session.execute(stmt) if a is not None and b is not None]


def serial_interval(
    session: Session,
    principal: Principal,
    since: dt.date | None = None,
    until: dt.date | None = None,
    *,
    cluster_id: int | None = None,
    bootstrap: int = DEFAULT_BOOTSTRAP,
) -> SerialInterval:
    """The pooled serial interval of the links in scope and window, with its fitted distribution."""
    intervals = transmission_intervals(session, principal, since, until, cluster_id=cluster_id)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    return fit_serial_interval(np.asarray(intervals, dtype=np.float64), rng, bootstrap=bootstrap)


def serial_interval_dict(result: SerialInterval) -> dict[str, object]:
    """The result as JSON-ready data (the CLI's ``--json``, the pages' charts)."""
    chosen = result.chosen_fit
    return {
        "pairs": result.pairs,
        "mean": result.mean,
        "sd": result.sd,
        "negative_share": result.negative_share,
        "distribution": None
        if chosen is None
        else {
            "family": chosen.family,
            "params": chosen.params,
            "mean": chosen.mean,
            "sd": chosen.sd,
            "mean_interval": result.mean_interval,
            "sd_interval": result.sd_interval,
            "level": result.level,
            "bootstrap": result.bootstrap,
        },
        "fits": [
            {
                "family": f.family,
                "params": f.params,
                "mean": f.mean,
                "sd": f.sd,
                "fitted_pairs": f.fitted_pairs,
                "aic": f.aic if f.aic != float("inf") else None,
            }
            for f in result.fits
        ],
        "si_distr": list(result.si_distr),
        "dropped_share": result.dropped_share,
    }
