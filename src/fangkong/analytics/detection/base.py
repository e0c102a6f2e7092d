"""The one interface every temporal detector shares.

A detector takes a series of counts (oldest first) and its parameters, and returns one
:class:`DetectionResult` whose arrays are aligned with the *whole* input series. Time points the
detector does not judge (the baseline it needs has not accumulated yet, or they lie outside the
requested ``range``) carry ``NaN`` in the float arrays and ``False`` in ``alarm`` and ``judged``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DetectionResult:
    """What a detector says about each time point of a series.

    ``expected`` is the baseline prediction, ``threshold`` the upper bound an observation must pass to
    alarm, ``score`` the detector's own statistic (e.g. the C-statistic of EARS, the CUSUM sum, the
    Farrington score), ``pvalue`` where the method defines one, and ``judged`` marks the time points
    the method actually evaluated.
    """

    method: str
    observed: FloatArray
    expected: FloatArray
    threshold: FloatArray
    score: FloatArray
    alarm: BoolArray
    judged: BoolArray
    pvalue: FloatArray | None = None
    params: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.observed.shape[0]
        for name in ("expected", "threshold", "score", "alarm", "judged"):
            arr = getattr(self, name)
            if arr.shape != (n,):
                raise ValueError(f"{name} has shape {arr.shape}, expected ({n},)")
        if self.pvalue is not None and self.pvalue.shape != (n,):
            raise ValueError(f"pvalue has shape {self.pvalue.shape}, expected ({n},)")


class Detector(Protocol):
    """A detector function: ``detector(observed, **params) -> DetectionResult``.

    ``observed`` is a 1-d float array of counts. ``freq`` (52 for weekly, 365 for daily) is passed by
    callers that know the series' frequency; detectors that need it (Farrington, Bayes, RKI, CDC)
    take it as a keyword parameter named as in R ``surveillance``.
    """

    def __call__(self, observed: FloatArray, /, **params: object) -> DetectionResult: ...


class DetectorParameterError(ValueError):
    """A parameter is missing, of the wrong type or out of range; the message names it.

    Made with ``of(template, **values)``, it also keeps the message's English template (``{name}``
    placeholders) and its values apart, so a caller can word the same message in the user's language.
    """

    def __init__(self, message: str, template: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.template = template
        self.values = values

    @classmethod
    def of(cls, template: str, **values: object) -> DetectorParameterError:
        return cls(template.format(**values), template, **values)
