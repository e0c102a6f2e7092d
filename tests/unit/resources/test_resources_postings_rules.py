"""Pure rules of postings and of a quarantine site's minimum staff: who may take a post, when two periods
overlap, and what a site of a given size needs before it opens."""

from __future__ import annotations

import datetime as dt

from fangkong.quarantine.rules.staffing import minimum_staff, minimum_total, staffing_gaps
from fangkong.resources.models import PostingRole, Skill
from fangkong.resources.rules.postings import current, overlaps, posting_problem

T0 = dt.datetime(2022, 7, 1, 8, tzinfo=dt.UTC)


def _at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def test_one_medical_worker_per_fifty_beds_and_at_least_one_of_each_post() -> None:
    assert minimum_staff(0) == {"lead": 1, "medical": 1, "security": 1, "cleaning": 1}
    assert minimum_staff(50) == {"lead": 1, "medical": 1, "security": 1, "cleaning": 1}
    assert minimum_staff(51) == {"lead": 1, "medical": 2, "security": 1, "cleaning": 1}
    assert minimum_staff(250) == {"lead": 1, "medical": 5, "security": 3, "cleaning": 3}
    assert minimum_total(250) == 12


def test_gaps_name_only_the_posts_short() -> None:
    gaps = staffing_gaps(120, {"lead": 1, "medical": 1, "security": 2, "cleaning": 2})
    assert [(g.role, g.needed, g.posted, g.missing) for g in gaps] == [("medical", 3, 1, 2)]
    assert staffing_gaps(120, {"lead": 1, "medical": 3, "security": 2, "cleaning": 2}) == []


def test_periods_overlap_when_they_share_an_instant_and_open_ends_run_on() -> None:
    assert overlaps(_at(0), None, _at(100), _at(101))
    assert overlaps(_at(0), _at(10), _at(5), None)
    assert not overlaps(_at(0), _at(10), _at(10), None)  # one ends as the other begins
    assert not overlaps(_at(0), _at(0), _at(0), None)  # a posting ended before it began holds nothing
    assert current(_at(0), None, _at(5)) and not current(_at(0), _at(5), _at(5))


def test_who_may_take_a_post() -> None:
    assert posting_problem(PostingRole.lead, True, False, set()) is None
    assert posting_problem(PostingRole.lead, False, False, set()) == "{name} is marked not available"
    away = posting_problem(PostingRole.security, True, True, set())
    assert away == "{name} is deployed elsewhere in support"
    assert posting_problem(PostingRole.medical, True, False, {Skill.sampling}) is not None
    assert posting_problem(PostingRole.medical, True, False, {Skill.clinical}) is None
    assert posting_problem(PostingRole.sampler, True, False, {Skill.sampling}) is None
