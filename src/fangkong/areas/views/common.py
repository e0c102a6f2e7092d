"""What the staff pages share: who may see and do what (the permissions as dependencies, and as flags
for the templates), the page number, the colours of the risk levels.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from fangkong.core.auth import Principal
from fangkong.core.deps import Require
from fangkong.core.permissions import Permission

Reader = Annotated[Principal, Depends(Require(Permission.areas_read))]
Proposer = Annotated[Principal, Depends(Require(Permission.areas_propose))]
Approver = Annotated[Principal, Depends(Require(Permission.areas_approve))]
ArrivalsManager = Annotated[Principal, Depends(Require(Permission.arrivals_manage))]
Checkpoint = Annotated[Principal, Depends(Require(Permission.checkpoint_lookup))]
Doorstep = Annotated[Principal, Depends(Require(Permission.doorstep_manage))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]

LEVEL_COLOURS = {"high": "#b42318", "medium": "#d97706", "low": "#2f855a"}


def _can(principal: Principal) -> dict[str, bool]:
    return {
        "can_propose": principal.can(Permission.areas_propose),
        "can_approve": principal.can(Permission.areas_approve),
        "can_doorstep": principal.can(Permission.doorstep_manage),
        "can_arrivals": principal.can(Permission.arrivals_manage),
        "can_checkpoint": principal.can(Permission.checkpoint_lookup),
    }
