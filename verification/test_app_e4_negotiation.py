"""App. E.4 / Eq. 4, 7: particle negotiated reasoning, on numpy and torch (float64).

Claims checked:

* with one agent owning every coordinate, a negotiation round is one SVGD step (Eq. 4 with
  ``C = everything`` degenerates to Eq. 12, the first step of the E.4 argument);
* with empty sets ``C_i = {}`` every agent's move is a function of its own coordinate: particles
  that share ``u_i`` keep sharing it through all rounds -- so a product measure stays a product;
* with ``bounds`` the particles never leave the box;
* a stationary configuration is left in place (the negotiation policy is then the identity map,
  the first condition of Eq. 2): a single particle at the mode of the target does not move;
* numpy and torch give the same negotiation to 1e-10;
* with the exact Eq. 5 conditional scores (a :class:`svnr_core.negotiation.ConditionalTarget`)
  and nested sets, agent 0 follows the *marginal* of its own action: its coordinate evolves
  exactly as one-dimensional SVGD on the marginal ``N(mu_0, T Sigma_00)``, whatever the other
  agents do (the first step of the E.4 argument); with ``C_i`` = all other agents the
  conditional path is the joint-score path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import torch
from array_api_compat import array_namespace
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from svnr_core.negotiation import negotiate
from svnr_core.stein import svgd_direction
from verification._backends import BACKENDS, to_backend, to_numpy

pytestmark = pytest.mark.props

FloatArray = NDArray[np.float64]


def gaussian_target(mean: FloatArray, precision: FloatArray) -> Any:
    """``log p(u) = -(u - mu)^T A (u - mu) / 2`` for numpy or torch ``u [..., M, D]``."""

    def target(u: Any) -> tuple[Any, Any]:
        xp = array_namespace(u)
        mu = xp.asarray(mean, dtype=u.dtype)
        a = xp.asarray(precision, dtype=u.dtype)
        g = -((u - mu) @ a)
        return 0.5 * xp.sum(g * (u - mu), axis=-1), g

    return target


@st.composite
def gaussian_problem(
    draw: st.DrawFn, *, max_d: int = 3
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(initial particles [M, D], mean, precision)`` with a well-conditioned SPD precision."""
    d = draw(st.integers(1, max_d))
    m = draw(st.integers(2, 10))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    b = rng.normal(size=(d, d))
    precision = b @ b.T / d + np.eye(d)  # eigenvalues in [1, 1 + |B|^2 / d]
    mean = rng.uniform(-3, 3, size=d)
    init = np.round(rng.normal(scale=3.0, size=(m, d)) * 1024) / 1024
    return init, mean, precision


@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=gaussian_problem(), eps=st.floats(0.001, 0.2))
def test_e4_single_agent_round_is_an_svgd_step(
    backend: str, problem: tuple[FloatArray, FloatArray, FloatArray], eps: float
) -> None:
    init, mean, precision = problem
    d = init.shape[1]
    target = gaussian_target(mean, precision)
    res = negotiate(
        to_backend(init, backend), target, rounds=1, agents=[list(range(d))], step_size=eps
    )
    _, score = target(init)
    expected = init + eps * svgd_direction(init, score)
    np.testing.assert_allclose(to_numpy(res.particles), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=gaussian_problem(), rounds=st.integers(1, 5), adaptive=st.booleans())
def test_e4_empty_sets_move_each_coordinate_by_a_map_of_itself(
    backend: str, problem: tuple[FloatArray, FloatArray, FloatArray], rounds: int, adaptive: bool
) -> None:
    init, mean, precision = problem
    init = init.copy()
    # particle 1 shares its first coordinate with particle 0
    init[1, 0] = init[0, 0]
    res = negotiate(
        to_backend(init, backend),
        gaussian_target(mean, precision),
        rounds=rounds,
        sets="empty",
        step_size=0.05,
        adaptive=adaptive,
    )
    out = to_numpy(res.particles)
    # Both rows see the same kernel row and the same u_0; only BLAS order may differ (~1e-15).
    np.testing.assert_allclose(out[1, 0], out[0, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@given(
    problem=gaussian_problem(),
    sets=st.sampled_from(["nested", "full", "empty"]),
    bound=st.floats(0.5, 4.0),
)
def test_e4_box_constraints_hold(
    backend: str,
    problem: tuple[FloatArray, FloatArray, FloatArray],
    sets: str,
    bound: float,
) -> None:
    init, mean, precision = problem
    res = negotiate(
        to_backend(init, backend),
        gaussian_target(mean * 3, precision),
        rounds=5,
        sets=sets,  # type: ignore[arg-type]
        step_size=0.5,
        bounds=(-bound, bound),
    )
    out = to_numpy(res.particles)
    assert np.all(out >= -bound)
    assert np.all(out <= bound)


@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=gaussian_problem(), sets=st.sampled_from(["nested", "full", "empty"]))
def test_e4_single_particle_at_the_mode_stays(
    backend: str, problem: tuple[FloatArray, FloatArray, FloatArray], sets: str
) -> None:
    _, mean, precision = problem
    res = negotiate(
        to_backend(mean[None, :].copy(), backend),
        gaussian_target(mean, precision),
        rounds=3,
        sets=sets,  # type: ignore[arg-type]
        tol=1e-12,
    )
    np.testing.assert_array_equal(to_numpy(res.particles), mean[None, :])
    assert res.agreed
    assert res.rounds == 1


@settings(max_examples=20)  # each example runs two negotiations of 5 rounds
@given(problem=gaussian_problem(), sets=st.sampled_from(["nested", "full", "empty"]))
def test_e4_numpy_and_torch_agree(
    problem: tuple[FloatArray, FloatArray, FloatArray], sets: str
) -> None:
    init, mean, precision = problem
    kwargs: dict[str, Any] = {"rounds": 5, "sets": sets, "step_size": 0.1, "adaptive": True}
    a = negotiate(init, gaussian_target(mean, precision), **kwargs)
    b = negotiate(torch.from_numpy(init.copy()), gaussian_target(mean, precision), **kwargs)
    np.testing.assert_allclose(to_numpy(b.particles), a.particles, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(b.trace.direction_norm, a.trace.direction_norm, rtol=1e-8)


class GaussianConditional:
    """Exact conditional scores of the tempered Gaussian ``N(mu, T A^-1)``: with ``S`` = the kept
    coordinates, the marginal of ``u_S`` is ``N(mu_S, T Sigma_SS)`` (``Sigma = A^-1``), so
    ``grad_{u_S} log p(u_S) = -(Sigma_SS)^-1 (u_S - mu_S) / T``."""

    def __init__(self, mean: FloatArray, precision: FloatArray) -> None:
        self.mean, self.precision = mean, precision
        self.cov = np.linalg.inv(precision)

    def joint(self, u: Any) -> tuple[Any, Any]:
        out: tuple[Any, Any] = gaussian_target(self.mean, self.precision)(u)
        return out

    def conditional_score(
        self, u: Any, update: Sequence[int], condition: Sequence[int], temperature: float
    ) -> Any:
        xp = array_namespace(u)
        keep = sorted({*update, *condition})
        prec = np.linalg.inv(self.cov[np.ix_(keep, keep)])
        cols = [keep.index(c) for c in update]
        us = xp.take(u, xp.asarray(keep), axis=-1) - xp.asarray(self.mean[keep], dtype=u.dtype)
        return -(us @ xp.asarray(prec[:, cols], dtype=u.dtype)) / temperature


@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=gaussian_problem(max_d=3), rounds=st.integers(1, 4), temperature=st.floats(0.5, 4))
def test_e4_nested_agent_0_follows_its_marginal(
    backend: str,
    problem: tuple[FloatArray, FloatArray, FloatArray],
    rounds: int,
    temperature: float,
) -> None:
    init, mean, precision = problem
    target = GaussianConditional(mean, precision)
    kw: dict[str, Any] = {"rounds": rounds, "step_size": 0.1, "temperature": temperature}
    res = negotiate(to_backend(init, backend), target, sets="nested", **kw)
    marginal = gaussian_target(mean[:1], np.array([[1.0 / target.cov[0, 0]]]))
    alone = negotiate(to_backend(init[:, :1], backend), marginal, agents=[[0]], **kw)
    # Same kernel row, same score, same step: only the order of floating additions may differ.
    np.testing.assert_allclose(
        to_numpy(res.particles)[:, 0], to_numpy(alone.particles)[:, 0], rtol=1e-10, atol=1e-10
    )


@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=gaussian_problem(), adaptive=st.booleans(), temperature=st.floats(0.5, 4))
def test_e4_full_sets_conditional_path_is_the_joint_path(
    backend: str,
    problem: tuple[FloatArray, FloatArray, FloatArray],
    adaptive: bool,
    temperature: float,
) -> None:
    init, mean, precision = problem
    kw: dict[str, Any] = {
        "rounds": 3,
        "sets": "full",
        "step_size": 0.1,
        "adaptive": adaptive,
        "temperature": temperature,
    }
    a = negotiate(to_backend(init, backend), GaussianConditional(mean, precision), **kw)
    b = negotiate(to_backend(init, backend), gaussian_target(mean, precision), **kw)
    # C_i = all others: nothing is marginalised, (Sigma_SS)^-1 = A up to inversion rounding.
    np.testing.assert_allclose(to_numpy(a.particles), to_numpy(b.particles), rtol=1e-9, atol=1e-9)
