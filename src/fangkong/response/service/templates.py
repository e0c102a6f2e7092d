"""The task templates: which lines of work each event opens, with their deadlines, owners and sources.

The defaults below are seeded once (:func:`seed_templates`, idempotent) and then belong to the
administrators, who edit deadlines, owners and titles (:func:`update_template`); editing a template
never rewrites tasks already open (a task copies what it needs when it opens).

``levels_up`` counts from a community (``opening.owner_of``): a case is registered where its person
lives (a community), so the county's work is two levels up; an event recorded at the county (an alert,
an assist request, a site, a case of an unidentified person) is owned there.

Every deadline names its source; where no national figure exists the default is said to be the
platform's, with the figure it follows.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.errors import Forbidden, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Role
from fangkong.core.permissions import Permission
from fangkong.response.models import Fulfilment, TaskTemplate, Trigger

# Bounds an edited template must keep.
MAX_MINUTES = 14 * 24 * 60  # two weeks: past any clock of the protocols
MAX_LEVELS_UP = 4  # community → province
MAX_TITLE = 100
MAX_SOURCE = 2000

_S21 = "protocols.md §7 epi.2_4_24 (Shanghai, 2022-05-31, S21): “2+4+24”"
_S22 = "protocols.md §7 epi.local_list (S22)"


@dataclass(frozen=True)
class TemplateDefault:
    code: str
    trigger: Trigger
    title_zh: str
    title_en: str
    minutes: int
    warn_minutes: int
    owner_role: str
    levels_up: int
    fulfilment: Fulfilment
    depends_on: str | None
    source: str


_T = Trigger
_F = Fulfilment
_R = Role

DEFAULT_TEMPLATES: tuple[TemplateDefault, ...] = (
    # ---- a confirmed case (or asymptomatic infection): seven lines of work in parallel
    TemplateDefault(
        "team_on_site",
        _T.case_confirmed,
        "流调队伍到场",
        "Team on site",
        120,
        30,
        _R.investigator.value,
        2,
        _F.manual,
        None,
        f"{_S21}: the investigation team on site within 2 h of the report",
    ),
    TemplateDefault(
        "core_facts",
        _T.case_confirmed,
        "核心信息流调",
        "Core facts",
        240,
        60,
        _R.investigator.value,
        2,
        _F.investigation,
        None,
        f"{_S21}: core information (exposures, places) within 4 h; closes when the first exposure "
        "or visit of the case is recorded",
    ),
    TemplateDefault(
        "contacts_identified",
        _T.case_confirmed,
        "密接判定",
        "Contacts identified",
        1440,
        120,
        _R.investigator.value,
        2,
        _F.contacts_identified,
        None,
        f"{_S21}: basic picture within 24 h; protocols.md §7 rep.case_investigation (S23): the "
        "individual investigation within 24 h of the report",
    ),
    TemplateDefault(
        "contacts_transferred",
        _T.case_confirmed,
        "密接转运隔离",
        "Contacts transferred",
        720,
        120,
        _R.quarantine_manager.value,
        2,
        _F.contacts_transferred,
        "contacts_identified",
        f"{_S22}: close contacts moved to quarantine within 8 h / 12 h (the 12 h figure); closes "
        "when every close contact of the case is isolated",
    ),
    TemplateDefault(
        "risk_area_proposed",
        _T.case_confirmed,
        "风险区域划定",
        "Risk area proposed",
        1440,
        120,
        _R.command_centre.value,
        2,
        _F.risk_area,
        None,
        "protocols.md §4 area.high.criteria (S3, S4): the case's residence becomes a high-risk area, "
        f"adjusted after the investigation; within the 24 h basic picture of {_S21}; closes when an "
        "area covering the case's place is designated",
    ),
    TemplateDefault(
        "environment_sampling",
        _T.case_confirmed,
        "环境采样与消杀",
        "Environment sampling and disinfection",
        1440,
        120,
        _R.investigator.value,
        2,
        _F.manual,
        None,
        "No national deadline found (protocols.md §12 open gaps); platform default: with the 24 h "
        f"basic picture of {_S21}",
    ),
    TemplateDefault(
        "regional_testing_decision",
        _T.case_confirmed,
        "区域核酸检测研判",
        "Regional testing decision",
        720,
        120,
        _R.command_centre.value,
        2,
        _F.manual,
        None,
        "protocols.md §5 rt.strategy.city / rt.exempt (S11, S12): the county decides whether to test "
        "a delimited area; §5 rt.deadline cn-rt-3 (S13, S14) gives 24 h to finish a round, so the "
        "platform asks for the decision within 12 h",
    ),
    # ---- the other triggers: one line of work each
    TemplateDefault(
        "verify_alert",
        _T.alert_raised,
        "预警核实",
        "Verify the alert",
        120,
        30,
        _R.surveillance_analyst.value,
        0,
        _F.alert_answered,
        None,
        "protocols.md §7 rep.direct_report (S23, S53): the CDC verifies within 2 h",
    ),
    TemplateDefault(
        "locate_assisted_contact",
        _T.assist_request,
        "协查人员落地管控",
        "Locate the assisted contacts",
        1440,
        120,
        _R.investigator.value,
        0,
        _F.manual,
        None,
        "protocols.md §7 rep.case_investigation (S23): 24 h for the investigation; the request's own "
        "deadline wins when it gives one",
    ),
    TemplateDefault(
        "recall_pool_members",
        _T.positive_pool,
        "混管阳性人员召回",
        "Recall the positive pool's members",
        720,
        120,
        _R.testing_coordinator.value,
        0,
        _F.pool_recalled,
        None,
        "protocols.md §5 rt.pool.positive (S18): members isolated and re-sampled one by one; no "
        f"national deadline, platform default 12 h as {_S22} gives for moving contacts",
    ),
    TemplateDefault(
        "open_site",
        _T.site_activated,
        "隔离点启用",
        "Open the quarantine site",
        1440,
        120,
        _R.quarantine_manager.value,
        0,
        _F.manual,
        None,
        "protocols.md §6 fac.tiered_activation is not found (U); the site's own hours to open win, "
        "24 h when it gives none",
    ),
    TemplateDefault(
        "follow_up_missed_tests",
        _T.test_overdue,
        "逾期核酸跟进",
        "Follow up missed tests",
        1440,
        120,
        _R.community_worker.value,
        0,
        _F.test_done,
        None,
        "The management plans' test days (protocols.md §3); platform default: a missed test is taken "
        "within a day; closes when the community has no overdue test left",
    ),
    TemplateDefault(
        "serve_doorstep_request",
        _T.doorstep_request,
        "上门服务需求",
        "Serve the doorstep request",
        120,
        30,
        _R.community_worker.value,
        0,
        _F.manual,
        None,
        "protocols.md §4 area.high.measures (S3, S4): “足不出户、上门服务”; the request's own deadline "
        "by its kind (areas doorstep services) wins when it gives one",
    ),
    TemplateDefault(
        "send_aefi_card",
        _T.aefi_reported,
        "疑似异常反应报告卡报送县级疾控",
        "Send the AEFI card to the county CDC",
        2880,
        240,
        _R.community_worker.value,
        0,
        _F.aefi_sent,
        None,
        "Issue 16 item 5, after China's national AEFI surveillance plan (全国疑似预防接种异常反应监测方案, "
        "2010): the card reaches the county CDC within 48 h, within 2 h for a death or a cluster (the "
        "event's own due time wins)",
    ),
)


def seed_templates(session: Session) -> int:
    """Insert the default templates whose codes are missing (one bulk insert); returns how many."""
    existing = set(session.scalars(select(TaskTemplate.code)))
    now = utcnow()
    rows = [
        {
            **{f.name: getattr(d, f.name) for f in fields(TemplateDefault)},
            "active": True,
            "position": i,
            "updated_at": now,
            "updated_by": "system",
        }
        for i, d in enumerate(DEFAULT_TEMPLATES)
        if d.code not in existing
    ]
    if rows:
        session.execute(insert(TaskTemplate), rows)
    return len(rows)


def list_templates(session: Session, trigger: Trigger | None = None) -> list[TaskTemplate]:
    """Every template (seeding the defaults first when there are none), by trigger and position."""
    if session.scalar(select(TaskTemplate.id).limit(1)) is None:
        seed_templates(session)
    query = select(TaskTemplate).order_by(TaskTemplate.trigger, TaskTemplate.position, TaskTemplate.id)
    if trigger is not None:
        query = query.where(TaskTemplate.trigger == trigger)
    return list(session.scalars(query))


def get_template(session: Session, code: str) -> TaskTemplate:
    template = session.scalar(select(TaskTemplate).where(TaskTemplate.code == code))
    if template is None:
        seed_templates(session)
        template = session.scalar(select(TaskTemplate).where(TaskTemplate.code == code))
    if template is None:
        raise NotFound(Message("no task template {code}", code=code[:60]))
    return template


@dataclass(frozen=True)
class TemplateUpdate:
    """What an administrator may change on a template (None: unchanged)."""

    title_zh: str | None = None
    title_en: str | None = None
    minutes: int | None = None
    warn_minutes: int | None = None
    owner_role: str | None = None
    levels_up: int | None = None
    source: str | None = None
    active: bool | None = None


def _validate(template: TaskTemplate, changes: TemplateUpdate) -> list[RowError]:
    errors: list[RowError] = []
    minutes = changes.minutes if changes.minutes is not None else template.minutes
    warn = changes.warn_minutes if changes.warn_minutes is not None else template.warn_minutes
    if not 1 <= minutes <= MAX_MINUTES:
        errors.append(
            RowError(1, "minutes", Message("must be between {low} and {high}", low=1, high=MAX_MINUTES))
        )
    if not 0 <= warn < max(minutes, 1):
        errors.append(RowError(1, "warn_minutes", Message("must be less than the deadline in minutes")))
    if changes.owner_role is not None and changes.owner_role not in {r.value for r in Role}:
        errors.append(
            RowError(
                1, "owner_role", Message("“{value}” is not one of the choices", value=changes.owner_role[:32])
            )
        )
    if changes.levels_up is not None and not 0 <= changes.levels_up <= MAX_LEVELS_UP:
        errors.append(
            RowError(1, "levels_up", Message("must be between {low} and {high}", low=0, high=MAX_LEVELS_UP))
        )
    for name, limit in (("title_zh", MAX_TITLE), ("title_en", MAX_TITLE), ("source", MAX_SOURCE)):
        value = getattr(changes, name)
        if value is not None and not value.strip():
            errors.append(RowError(1, name, Message("is required")))
        elif value is not None and len(value) > limit:
            errors.append(RowError(1, name, Message("is longer than {limit} characters", limit=limit)))
    return errors


def update_template(
    session: Session, principal: Principal, code: str, changes: TemplateUpdate, *, ip: str = ""
) -> TaskTemplate:
    """Change a template's deadline, warning, owner, titles, source or whether it is active (audited)."""
    if not principal.can(Permission.templates_manage):
        raise Forbidden(f"your role lacks the permission {Permission.templates_manage.value}")
    template = get_template(session, code)
    errors = _validate(template, changes)
    if errors:
        raise InvalidInput(errors)
    changed: dict[str, object] = {}
    for f in fields(TemplateUpdate):
        value = getattr(changes, f.name)
        if isinstance(value, str):
            value = value.strip()
        if value is not None and value != getattr(template, f.name):
            changed[f.name] = {"from": getattr(template, f.name), "to": value}
            setattr(template, f.name, value)
    if changed:
        template.updated_at = utcnow()
        template.updated_by = principal.username
        session.flush()
        audit.record(
            session,
            audit.Actor(principal.user_id, principal.username, ip or "local"),
            "response.template.update",
            "task_template",
            template.id,
            detail={"code": template.code, "changed": changed},
        )
    return template
