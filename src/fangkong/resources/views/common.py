"""What the resources pages share: who may see and do what (the permissions as dependencies), the labels
of skills, team types, supplies and readiness (message ids the templates translate), the page number,
and the code of the reader's own jurisdiction that forms offer by default.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Query

from fangkong.core.auth import Principal
from fangkong.core.deps import Require, SessionDep
from fangkong.core.models import Jurisdiction
from fangkong.core.permissions import Permission
from fangkong.resources import rules
from fangkong.resources.models import Skill, SupplyKind, TeamKind

Reader = Annotated[Principal, Depends(Require(Permission.resources_read))]
Manager = Annotated[Principal, Depends(Require(Permission.resources_manage))]
Keeper = Annotated[Principal, Depends(Require(Permission.supplies_manage))]
Text = Annotated[str, Form(max_length=200)]
PageNo = Annotated[int, Query(ge=1, le=100_000)]

SKILL_LABELS = {
    Skill.field_investigation: "Field investigation",
    Skill.sampling: "Sampling",
    Skill.laboratory_testing: "Laboratory testing",
    Skill.disinfection: "Disinfection",
    Skill.data_entry: "Data entry",
    Skill.transport: "Transport",
    Skill.clinical: "Clinical care",
}
TEAM_LABELS = {
    TeamKind.investigation: "Investigation and tracing",
    TeamKind.sampling: "Sampling",
    TeamKind.testing: "Testing",
    TeamKind.disinfection: "Disinfection",
    TeamKind.transfer: "Transfer",
}
SUPPLY_LABELS = {
    SupplyKind.ppe: "Protective suits",
    SupplyKind.swab: "Swabs",
    SupplyKind.tube: "Sampling tubes",
    SupplyKind.reagent: "PCR reagents",
    SupplyKind.antigen_test: "Antigen tests",
    SupplyKind.disinfectant: "Disinfectant",
    SupplyKind.medicine: "Medicines",
}
READINESS_LABELS = {
    rules.ReadinessState.ready: "Ready",
    rules.ReadinessState.partly_ready: "Partly ready",
    rules.ReadinessState.not_ready: "Not ready",
}
LABELS = {
    "skills": SKILL_LABELS,
    "teams": TEAM_LABELS,
    "supplies": SUPPLY_LABELS,
    "readiness": READINESS_LABELS,
}


def my_code(session: SessionDep, principal: Principal) -> str:
    """The code of the reader's own jurisdiction ("" if it is gone)."""
    node = session.get(Jurisdiction, principal.jurisdiction_id)
    return node.code if node is not None else ""
