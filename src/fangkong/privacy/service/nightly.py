"""The nightly job: the retention rules, then the emergencies whose confirmation period has passed.

Run by the platform's scheduler as ``fangkong privacy nightly`` (cron or a systemd timer, after
midnight, beside ``fangkong response recount``); each part in its own unit of work, so a failure in one
leaves the other done.
"""

from __future__ import annotations

from dataclasses import dataclass

from fangkong.core import audit
from fangkong.core.db import Database
from fangkong.privacy.service import emergency, retention


@dataclass
class NightlyReport:
    retention: retention.RunReport
    purges: list[emergency.PurgeReport]


def run_nightly(db: Database, actor: audit.Actor = audit.SYSTEM, *, dry_run: bool = False) -> NightlyReport:
    with db.unit_of_work() as session:
        report = retention.run(session, actor, dry_run=dry_run)
    purges: list[emergency.PurgeReport] = []
    if not dry_run:
        with db.unit_of_work() as session:
            purges = emergency.purge_due(session, actor)
    return NightlyReport(report, purges)
