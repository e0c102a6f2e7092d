"""The compiled quasi-Poisson IRLS against statsmodels' GLM on the same dense design."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from fangkong.analytics.detection.glm import GLM_MAX_ITERATIONS, fit_poisson_glm


def _dense_design(time: np.ndarray | None, level: np.ndarray, n_levels: int) -> np.ndarray:
    columns = [(level == j).astype(float) for j in range(n_levels)]
    if time is not None:
        columns.append(time)
    return np.column_stack(columns)


def _problem(seed: int, n: int = 60, n_levels: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    level = rng.integers(0, n_levels, n)
    level[:n_levels] = np.arange(n_levels)
    time = np.arange(n, dtype=float) - n
    offset = np.log(rng.uniform(50, 150, n))
    weights = rng.uniform(0.2, 2.0, n)
    mu = np.exp(-3.0 + 0.4 * level + 0.01 * time + offset)
    counts = rng.negative_binomial(3, 3 / (3 + mu)).astype(float)
    return {"counts": counts, "time": time, "level": level, "offset": offset, "weights": weights}


@pytest.mark.parametrize("with_trend", [True, False])
def test_matches_statsmodels_with_levels_weights_and_offset(with_trend: bool) -> None:
    p = _problem(11)
    time = p["time"] if with_trend else None
    fit = fit_poisson_glm(p["counts"], time, p["level"], p["weights"], p["offset"])
    x = _dense_design(time, p["level"], 3)
    ref = sm.GLM(
        p["counts"], x, family=sm.families.Poisson(), offset=p["offset"], var_weights=p["weights"]
    ).fit(scale="X2", tol=1e-12)
    assert fit.converged
    np.testing.assert_allclose(fit.fitted, ref.fittedvalues, rtol=1e-6)
    np.testing.assert_allclose(fit.intercepts, ref.params[:3], rtol=1e-6, atol=1e-8)
    assert fit.dispersion == pytest.approx(ref.scale, rel=1e-5)
    assert fit.df_residual == ref.df_resid
    hat = ref.get_influence().hat_matrix_diag
    np.testing.assert_allclose(fit.hat, hat, rtol=1e-5)
    x0 = np.array([0.0, 1.0, 0.0] + ([-5.0] if with_trend else []))
    eta, var = fit.predict_link(1, -5.0, offset=0.3)
    assert eta == pytest.approx(float(x0 @ ref.params) + 0.3, rel=1e-6)
    assert var * ref.scale == pytest.approx(float(x0 @ ref.cov_params() @ x0), rel=1e-5)
    if with_trend:
        assert fit.slope == pytest.approx(ref.params[3], rel=1e-6)
        assert fit.slope_t_value() == pytest.approx(ref.tvalues[3], rel=1e-5)
    else:
        assert np.isnan(fit.slope_t_value())


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(12, 80),
    n_levels=st.integers(1, 4),
)
def test_fitted_means_solve_the_score_equations(seed: int, n: int, n_levels: int) -> None:
    # At the Poisson MLE, observed and fitted totals agree in every level and time moments agree overall.
    p = _problem(seed, n, n_levels)
    fit = fit_poisson_glm(p["counts"], p["time"], p["level"], p["weights"])
    if not fit.converged or p["counts"].sum() == 0:
        return
    resid = p["weights"] * (p["counts"] - fit.fitted)
    scale = p["weights"] * (p["counts"] + fit.fitted) + 1.0
    for j in range(n_levels):
        in_level = p["level"] == j
        assert abs(resid[in_level].sum()) <= 1e-4 * scale[in_level].sum()
    assert abs((resid * p["time"]).sum()) <= 1e-4 * (scale * np.abs(p["time"])).sum()


@pytest.mark.parametrize(
    ("n", "r_iterations", "r_converged"),
    # R 4.2.2: glm.fit(cbind(1, 1:n), rep(0, n), family = poisson()) -> $iter, $converged
    [(10, 22, True), (35, 24, True), (200, 25, True), (1000, 25, False)],
)
def test_all_zero_counts_take_as_many_iterations_as_r(n: int, r_iterations: int, r_converged: bool) -> None:
    fit = fit_poisson_glm(np.zeros(n), np.arange(1.0, n + 1.0))
    assert fit.iterations == r_iterations
    assert fit.converged is r_converged
    assert fit.iterations <= GLM_MAX_ITERATIONS


def test_converges_in_few_iterations_on_ordinary_counts() -> None:
    p = _problem(3)
    fit = fit_poisson_glm(p["counts"], p["time"], p["level"])
    assert fit.converged
    assert fit.iterations < 10


def test_rejects_negative_counts_and_bad_shapes() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        fit_poisson_glm(np.array([1.0, -1.0, 2.0]))
    with pytest.raises(ValueError, match="time"):
        fit_poisson_glm(np.array([1.0, 2.0, 3.0]), np.arange(2.0))
