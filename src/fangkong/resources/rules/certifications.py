"""Certifications: how long one is valid, when it is due for renewal, the pass mark of an exam, and who
is eligible for a post of a skill today (no I/O).

Every number is a parameter on its own line with its source. Where no published figure exists the
number is a demo choice, said so; a deployment changes it here.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from fangkong.resources.models import Skill

# Days a certification stays valid after the exam: demo choice (yearly refresher, as most provincial
# sampler-training notices ask; no national figure).
CERTIFICATION_VALID_DAYS: Final[int] = 365
# A certification expiring within this many days is on the renewal worklist: demo choice (a month
# leaves time to book a session).
RENEWAL_WINDOW_DAYS: Final[int] = 30
# Exam score (out of 100) a course passes at unless the course says otherwise: demo choice.
PASS_SCORE: Final[int] = 80


def certification_valid(passed_on: dt.date, expires_on: dt.date, day: dt.date) -> bool:
    """Valid from the exam day to the expiry day, both included."""
    return passed_on <= day <= expires_on


def eligible(available: bool, deployed_away: bool, valid_skills: set[Skill], skill: Skill) -> bool:
    """Eligible for a post of ``skill``: available, not away on a deployment, and certified for it today
    ("no training, no post": every skill is posted only with a valid certification)."""
    return available and not deployed_away and skill in valid_skills


def renewal_due(expires_on: dt.date, day: dt.date, window: int = RENEWAL_WINDOW_DAYS) -> bool:
    """On the renewal worklist: expired already, or expiring within ``window`` days."""
    return expires_on <= day + dt.timedelta(days=window)
