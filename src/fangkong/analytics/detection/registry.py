"""The temporal detectors by the names analysts use on the command line, and a typed way to run them.

``DETECTORS`` maps each method name to its function. ``run_detector`` takes parameters as they come
from a command line (strings) or from code (numbers) and converts them to the types the function
declares, refusing unknown names and unreadable values with :class:`DetectorParameterError`.

Command-line forms: numbers as usual; booleans ``true/false/yes/no/1/0``; ``none`` for "not given";
``range`` as ``start:stop`` (0-based, stop excluded, so R's ``209:290`` is ``208:290``) or a
comma-separated list of 0-based indices; value lists (``mu0``) comma-separated.

``farrington`` and ``farrington_flexible`` live in ``farrington.py`` (another module's work) and are
imported on first use, so this registry works while that module is absent.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args, get_origin

import numpy as np

from fangkong.analytics.detection._common import RangeSpec
from fangkong.analytics.detection.base import DetectionResult, DetectorParameterError
from fangkong.analytics.detection.bayes import bayes
from fangkong.analytics.detection.cdc import cdc
from fangkong.analytics.detection.cusum import cusum
from fangkong.analytics.detection.ears import ears_c1, ears_c2, ears_c3
from fangkong.analytics.detection.ewma import ewma
from fangkong.analytics.detection.fixed import fixed
from fangkong.analytics.detection.glrnb import glrnb
from fangkong.analytics.detection.mpm import mpm
from fangkong.analytics.detection.rki import rki

DetectorFunction = Callable[..., DetectionResult]
ParamValue = str | float | int

_LAZY: dict[str, tuple[str, str]] = {
    "farrington": ("fangkong.analytics.detection.farrington", "farrington"),
    "farrington_flexible": ("fangkong.analytics.detection.farrington", "farrington_flexible"),
}


def _load_lazy(name: str) -> DetectorFunction:
    module_name, attribute = _LAZY[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DetectorParameterError(f"method: {name} is not available ({exc})") from exc
    function = getattr(module, attribute, None)
    if function is None:
        raise DetectorParameterError(f"method: {name} is not available ({module_name} has no {attribute})")
    return typing.cast(DetectorFunction, function)


def _lazy(name: str) -> DetectorFunction:
    """A stand-in that imports the real detector when first called."""

    def run(observed: object, /, **params: object) -> DetectionResult:
        return _load_lazy(name)(observed, **params)

    run.__name__ = name
    run.__qualname__ = name
    run.__doc__ = f"{name}: imported from {_LAZY[name][0]} when called."
    return run


DETECTORS: dict[str, DetectorFunction] = {
    "fixed": fixed,
    "mpm": mpm,
    "ears_c1": ears_c1,
    "ears_c2": ears_c2,
    "ears_c3": ears_c3,
    "cusum": cusum,
    "bayes": bayes,
    "rki": rki,
    "cdc": cdc,
    "farrington": _lazy("farrington"),
    "farrington_flexible": _lazy("farrington_flexible"),
    "glrnb": glrnb,
    "ewma": ewma,
}
"""Method name -> detector function ``f(observed, **params) -> DetectionResult``."""

METHOD_NAMES: tuple[str, ...] = tuple(DETECTORS)
"""Every temporal method name, in the order they are offered to users."""

_TRUE = frozenset({"true", "yes", "1", "t", "y"})
_FALSE = frozenset({"false", "no", "0", "f", "n"})
_NONE = frozenset({"none", "null", ""})


def parse_range(text: str, n: int | None = None) -> RangeSpec:
    """``"start:stop"`` (0-based, stop excluded; an empty stop is the series end) or ``"i,j,k"``."""
    text = text.strip()
    if ":" in text:
        start_text, _, stop_text = text.partition(":")
        start = int(start_text) if start_text.strip() else 0
        if not stop_text.strip():
            return slice(start, None) if n is None else range(start, n)
        return range(start, int(stop_text))
    return [int(part) for part in text.split(",") if part.strip()]


def _convert(name: str, raw: object, hint: Any, n: int | None = None) -> object:
    """``raw`` converted to the annotated type ``hint``; raises ValueError/TypeError when it does not fit."""
    if hint is RangeSpec or name == "range":
        return parse_range(raw, n) if isinstance(raw, str) else raw
    origin = get_origin(hint)
    if origin is Literal:
        choices = get_args(hint)
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(map(str, choices))}")
        return raw
    if origin in (typing.Union, types.UnionType):
        members = get_args(hint)
        if type(None) in members and isinstance(raw, str) and raw.strip().lower() in _NONE:
            return None
        if float in members and isinstance(raw, str) and "," in raw:
            # A list of numbers (mu0 = one in-control mean per time point) given on the command line.
            return np.asarray([float(part) for part in raw.split(",") if part.strip()])
        errors = []
        for member in members:
            if member is type(None):
                continue
            try:
                return _convert(name, raw, member, n)
            except (ValueError, TypeError) as exc:
                errors.append(str(exc))
        raise ValueError("; ".join(errors) or "no type fits")
    if hint is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("must be true or false")
    if hint is int:
        if isinstance(raw, bool):
            raise TypeError("must be an integer")
        if isinstance(raw, int | np.integer):
            return int(raw)
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        return int(str(raw).strip())
    if hint is float:
        if isinstance(raw, bool):
            raise TypeError("must be a number")
        if isinstance(raw, str):
            return float(raw.strip())
        if isinstance(raw, int | float | np.integer | np.floating):
            return float(raw)
        raise TypeError("must be a number")
    if hint is str:
        if not isinstance(raw, str):
            raise TypeError("must be text")
        return raw
    if isinstance(raw, str):
        raise TypeError("must be a number or a comma-separated list of numbers")
    return raw


def _guess(raw: object) -> object:
    """Best-effort typing for functions that declare no parameter types (``**params``)."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered in _NONE:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def convert_params(
    name: str, function: DetectorFunction, params: Mapping[str, object], n: int | None = None
) -> dict[str, object]:
    """Parameters converted to the types ``function`` declares; unknown names are refused.

    ``n`` (the series length) lets an open-ended ``range`` such as ``"100:"`` become a ``range``.
    """
    signature = inspect.signature(function)
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    try:
        hints = typing.get_type_hints(function)
    except (NameError, TypeError):
        hints = {}
    known = [
        p.name
        for p in signature.parameters.values()
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        and p.name != "observed"
    ]
    converted: dict[str, object] = {}
    for key, raw in params.items():
        if key not in known:
            if accepts_any:
                converted[key] = _convert(key, raw, RangeSpec, n) if key == "range" else _guess(raw)
                continue
            raise DetectorParameterError.of(
                "{key}: unknown parameter of {method}; known: {known}",
                key=key,
                method=name,
                known=", ".join(known),
            )
        hint = hints.get(key, signature.parameters[key].annotation)
        if hint is inspect.Parameter.empty:
            converted[key] = _guess(raw)
            continue
        try:
            converted[key] = _convert(key, raw, hint, n)
        except (ValueError, TypeError) as exc:
            raise DetectorParameterError(
                f"{key}: cannot use {raw!r} ({exc})", "{key}: cannot use “{value}”", key=key, value=raw
            ) from exc
    return converted


def run_detector(
    name: str, observed: object, params: Mapping[str, ParamValue | object] | None = None
) -> DetectionResult:
    """Run the detector called ``name`` with ``params`` converted from text where needed."""
    if name not in METHOD_NAMES:
        raise DetectorParameterError(f"method: unknown method {name!r}; known: {', '.join(METHOD_NAMES)}")
    function = DETECTORS[name]
    n = len(observed) if isinstance(observed, list | tuple | np.ndarray) else None
    return function(observed, **convert_params(name, function, params or {}, n))


def accepts_parameter(name: str, parameter: str) -> bool:
    """Whether the method takes ``parameter`` (declared, or through ``**params``)."""
    signature = inspect.signature(DETECTORS[name])
    if parameter in signature.parameters:
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
