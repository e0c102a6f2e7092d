"""What other capabilities read of vaccination state: who is protected, for the simulator's population
(modelling builds its agents from the registry and marks the vaccinated ones from here)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.vaccination.models import StatusState, VaccinationStatus

# A complete primary series or more counts as vaccinated in the simulator (its one vaccination state).
PROTECTED = (StatusState.primary_complete, StatusState.boosted, StatusState.second_boosted)
_CHUNK = 5000


def protected(session: Session, person_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """For each person id, whether their status is a complete primary series or more."""
    ids = np.asarray(person_ids, dtype=np.int64)
    found: list[int] = []
    wanted = np.unique(ids).tolist()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.extend(
            session.scalars(
                select(VaccinationStatus.person_id).where(
                    VaccinationStatus.person_id.in_(chunk), VaccinationStatus.state.in_(PROTECTED)
                )
            )
        )
    mask: npt.NDArray[np.bool_] = np.isin(ids, np.array(found, dtype=np.int64))
    return mask
