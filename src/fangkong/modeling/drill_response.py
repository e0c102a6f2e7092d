"""The drill's measures read from the response task clocks, in drill hours.

* ``response_2_4_24``: for every case the drill reported, the three promises of "2+4+24" (team on site
  within 2 h, core facts within 4 h, contacts identified within 24 h; Shanghai's case-handling rule,
  the task templates' defaults): points = share of the promises kept. A task done after its allowance,
  or still open past it, is a promise missed; one still inside it is left out; a cancelled one too.
* ``alert_response`` (when the response capability is there): hours from an alert to the end of its
  verification task; points = share verified within the task's allowance.

The allowance of a task is its own (due - opened, on the platform's clock, as its template said when it
opened); the time taken is measured on the drill clock, so a sped-up drill is judged in drill hours.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.i18n import Message, stored
from fangkong.modeling.drill_clock import Mark, drill_hours_at
from fangkong.modeling.models import Drill


def _judge(
    session: Session,
    principal: Principal,
    drill: Drill,
    marks: list[Mark],
    hours: float,
    codes: Sequence[str],
) -> tuple[dict[str, tuple[int, int]], list[float]]:
    """Per code (kept, judged), and the hours taken by the tasks done."""
    from fangkong.response.service.compliance import task_clocks

    tally: dict[str, tuple[int, int]] = dict.fromkeys(codes, (0, 0))
    taken: list[float] = []
    for clock in task_clocks(session, principal, codes):
        if clock.cancelled:
            continue
        opened = drill_hours_at(marks, drill.speed, clock.opened_at)
        allowed = clock.allowed.total_seconds() / 3600
        kept, judged = tally[clock.code]
        if clock.done_at is not None:
            took = max(0.0, drill_hours_at(marks, drill.speed, clock.done_at) - opened)
            taken.append(took)
            tally[clock.code] = (kept + (took <= allowed + 1e-9), judged + 1)
        elif hours - opened > allowed:
            tally[clock.code] = (kept, judged + 1)
    return tally, taken


def two_four_twenty_four(
    session: Session, principal: Principal, drill: Drill, marks: list[Mark], hours: float
) -> tuple[str, str, float | None, float | None, str, int]:
    """(status, target, value, points, detail, judged) of the "2+4+24" measure."""
    from fangkong.response.service.compliance import TWO_FOUR_TWENTY_FOUR

    tally, _taken = _judge(session, principal, drill, marks, hours, TWO_FOUR_TWENTY_FOUR)
    kept = sum(k for k, _j in tally.values())
    judged = sum(j for _k, j in tally.values())
    target = "2 h / 4 h / 24 h"
    if judged == 0:
        return "no_data", target, None, None, "no case task has been done or passed its deadline yet", 0
    share = 100.0 * kept / judged
    on_site, facts, contacts = (tally[c] for c in TWO_FOUR_TWENTY_FOUR)
    detail = stored(
        Message(
            "team on site {a} of {b}, core facts {c} of {d}, contacts identified {e} of {f} in time",
            a=on_site[0], b=on_site[1], c=facts[0], d=facts[1], e=contacts[0], f=contacts[1],
        )
    )  # fmt: skip
    return "ok", target, share, share, detail, judged


def alert_verification(
    session: Session, principal: Principal, drill: Drill, marks: list[Mark], hours: float
) -> tuple[str, float | None, float | None, str, int]:
    """(status, median hours, points, detail, judged) of alert response from the verification tasks."""
    from fangkong.response.service.compliance import ALERT_VERIFICATION

    tally, taken = _judge(session, principal, drill, marks, hours, ALERT_VERIFICATION)
    kept, judged = tally[ALERT_VERIFICATION[0]]
    if judged == 0:
        return "no_data", None, None, "no alert has been verified or passed its deadline yet", 0
    detail = stored(
        Message(
            "{on_time} of {judged} alerts verified in time (median of verified)", on_time=kept, judged=judged
        )
    )
    return "ok", statistics.median(taken) if taken else None, 100.0 * kept / judged, detail, judged


def team_reached_scene(session: Session, principal: Principal, case_id: int) -> bool:
    """The autopilot's team reports from the scene as the investigation starts: its "team on site" task
    is done now (a drill whose investigations come late misses the 2 h, as a real team would)."""
    from fangkong.response.service import compliance, tasks

    task_id = compliance.open_task_of(session, "team_on_site", "case", case_id)
    if task_id is None:
        return False
    tasks.complete(session, principal, task_id, "drill autopilot: the team reached the scene", ip="drill")
    return True
