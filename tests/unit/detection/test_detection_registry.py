"""The method registry: names, lazy Farrington import, and typed conversion of text parameters."""

from __future__ import annotations

import numpy as np
import pytest

from fangkong.analytics.detection import registry
from fangkong.analytics.detection.base import DetectorParameterError
from fangkong.analytics.detection.cusum import cusum
from fangkong.analytics.detection.ears import ears_c3
from fangkong.analytics.detection.glrnb import glrnb
from fangkong.analytics.detection.registry import DETECTORS, METHOD_NAMES, run_detector

CLI_NAMES = {
    "fixed",
    "mpm",
    "ears_c1",
    "ears_c2",
    "ears_c3",
    "cusum",
    "bayes",
    "rki",
    "cdc",
    "farrington",
    "farrington_flexible",
    "glrnb",
    "ewma",
}


def _series(n: int = 260, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).poisson(4.0, n).astype(float)


def test_every_cli_method_name_is_registered() -> None:
    assert set(METHOD_NAMES) == CLI_NAMES
    assert set(DETECTORS) == CLI_NAMES
    assert "stscan" not in DETECTORS


def test_text_parameters_are_converted_to_the_declared_types() -> None:
    y = _series()
    from_text = run_detector("cusum", y, {"k": "0.5", "h": "4", "trans": "rossi", "range": "200:260"})
    direct = cusum(y, k=0.5, h=4.0, trans="rossi", range=range(200, 260))
    np.testing.assert_array_equal(from_text.threshold, direct.threshold)
    np.testing.assert_array_equal(from_text.alarm, direct.alarm)
    assert from_text.params["k"] == 0.5


def test_open_ended_and_listed_ranges() -> None:
    y = _series()
    assert np.flatnonzero(run_detector("ears_c1", y, {"range": "250:"}).judged).tolist() == list(
        range(250, 260)
    )
    assert np.flatnonzero(run_detector("ears_c1", y, {"range": "10,20,30"}).judged).tolist() == [10, 20, 30]


def test_booleans_none_literals_and_lists() -> None:
    y = _series()
    result = run_detector("bayes", y, {"preset": "bayes2", "actY": "no", "b": "1"})
    assert result.params["actY"] is False
    textbook = run_detector("ears_c3", y, {"rule": "textbook"})
    np.testing.assert_array_equal(textbook.alarm, ears_c3(y, rule="textbook").alarm)
    mu0 = ",".join(["4.0"] * 260)
    listed = run_detector("glrnb", y, {"mu0": mu0, "alpha": "0"})
    np.testing.assert_array_equal(listed.score, glrnb(y, mu0=np.full(260, 4.0), alpha=0.0).score)
    cusum_glm = run_detector("cusum", y, {"m": "glm"})
    assert cusum_glm.params["m"] == "glm"
    numeric_m = run_detector("cusum", y, {"m": "4"})
    assert numeric_m.params["m"] == 4.0


@pytest.mark.parametrize(
    ("method", "params", "named"),
    [
        ("cusum", {"kk": "1"}, "kk"),
        ("cusum", {"k": "one"}, "k"),
        ("cusum", {"trans": "logit"}, "trans"),
        ("ears_c1", {"baseline": "7.5"}, "baseline"),
        ("bayes", {"actY": "maybe"}, "actY"),
        ("rki", {"range": "a:b"}, "range"),
        ("ears_c1", {"alpha": "1.5"}, "alpha"),
    ],
)
def test_bad_parameters_are_named(method: str, params: dict[str, str], named: str) -> None:
    with pytest.raises(DetectorParameterError, match=rf"^{named}: "):
        run_detector(method, _series(), params)


def test_unknown_method_is_refused() -> None:
    with pytest.raises(DetectorParameterError, match="unknown method 'c4'"):
        run_detector("c4", _series(), {})


def test_farrington_is_imported_only_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        registry._LAZY, "farrington", ("fangkong.analytics.detection.no_such_module", "farrington")
    )
    with pytest.raises(DetectorParameterError, match="farrington is not available"):
        run_detector("farrington", _series(), {})
    # The rest of the registry is unaffected.
    assert run_detector("ears_c1", _series(), {}).judged.any()


def test_accepts_parameter() -> None:
    assert registry.accepts_parameter("bayes", "freq")
    assert not registry.accepts_parameter("ears_c1", "freq")
