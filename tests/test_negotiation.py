"""Example-based tests of svnr_core.negotiation (Eq. 4, 7; App. E.4) and the fixed-seed
convergence demonstrations on the differential games (paper Sec. 6, Fig. 3 and Fig. 5)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from svnr_core.negotiation import SetsSpec, negotiate, negotiation_sets
from svnr_core.stein import local_kernel_direction, svgd_direction
from verification.figures import max_of_three_experiment, two_modalities_experiment

MEAN = np.array([1.0, -2.0, 0.5])
PRECISION = np.array([[2.0, 0.8, 0.0], [0.8, 1.5, 0.3], [0.0, 0.3, 1.0]])


def gaussian(u: Any) -> tuple[Any, Any]:
    g = -((u - MEAN) @ PRECISION)
    return 0.5 * np.sum(g * (u - MEAN), axis=-1), g


def init(m: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=2.0, size=(m, 3))


# --------------------------------------------------------------------------- sets and checks


def test_negotiation_sets() -> None:
    assert negotiation_sets("nested", 3) == ((0,), (0, 1), (0, 1, 2))
    assert negotiation_sets("full", 3) == ((1, 2), (0, 2), (0, 1))
    assert negotiation_sets("empty", 2) == ((), ())
    assert negotiation_sets([[1], [], [0, 1]], 3) == ((1,), (), (0, 1))
    with pytest.raises(ValueError, match="one set per agent"):
        negotiation_sets([[1]], 3)
    with pytest.raises(ValueError, match=r"sets\[1\] holds agent 5"):
        negotiation_sets([[], [5], []], 3)
    with pytest.raises(ValueError, match=r"sets\[0\] repeats"):
        negotiation_sets([[1, 1], [], []], 3)
    with pytest.raises(ValueError, match="sets must be"):
        negotiation_sets("chain", 3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rounds": 0}, "rounds"),
        ({"step_size": 0.0}, "step_size"),
        ({"step_size": float("nan")}, "step_size"),
        ({"adagrad_decay": 1.0}, "adagrad_decay"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": lambda k: 0.0}, r"temperature\(0\)"),
        ({"bounds": (1.0, -1.0)}, "bounds"),
        ({"tol": -1.0}, "tol"),
        ({"agreement": "mmd"}, "agreement"),
        ({"bandwidth": "scott"}, "bandwidth"),
        ({"record_every": 0}, "record_every"),
        ({"order": [0, 0, 1]}, "order"),
        ({"agents": [[0], [1]]}, "partition"),
        ({"agents": [[0, 1], [1, 2]]}, "partition"),
        ({"agents": [[0], [], [1, 2]]}, r"agents\[1\]"),
        ({"sets": [[0], [1]]}, "one set per agent"),
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"rounds": 2}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        negotiate(init(), gaussian, **args)


def test_bad_target_is_rejected() -> None:
    with pytest.raises(ValueError, match="target must return shapes"):
        negotiate(init(), lambda u: (np.zeros(3), np.zeros_like(u)), rounds=1)
    with pytest.raises(ValueError, match="target returned NaN"):
        negotiate(init(), lambda u: (np.full(u.shape[:-1], np.nan), np.zeros_like(u)), rounds=1)
    with pytest.raises(ValueError, match="initial contains NaN"):
        negotiate(np.full((3, 3), np.nan), gaussian, rounds=1)


# --------------------------------------------------------------------------- semantics


def test_round_is_a_sequential_sweep_that_sees_earlier_moves() -> None:
    """Eq. 7: agent i moves with the coordinates that agents < i already moved this round."""
    u0 = init()
    eps = 0.1
    sets = [[0], [0, 1], [0, 1, 2]]
    res = negotiate(u0, gaussian, rounds=2, sets=sets, step_size=eps)
    u = u0.copy()
    for _ in range(2):
        for i in range(3):
            _, g = gaussian(u)
            u[:, i] += eps * local_kernel_direction(u, g, update=[i], condition=sets[i])[:, 0]
    np.testing.assert_allclose(res.particles, u, rtol=1e-13, atol=1e-13)


def test_order_changes_the_sweep() -> None:
    a = negotiate(init(), gaussian, rounds=1, order=[2, 1, 0], sets="full")
    u = init()
    for i in (2, 1, 0):
        _, g = gaussian(u)
        others = [j for j in range(3) if j != i]
        u[:, i] += 0.1 * local_kernel_direction(u, g, update=[i], condition=others)[:, 0]
    np.testing.assert_allclose(a.particles, u, rtol=1e-13, atol=1e-13)


def test_adaptive_step_is_the_svgd_reference_rule() -> None:
    """Liu & Wang: G = phi^2 first, then 0.9 G + 0.1 phi^2; step eps phi / (1e-6 + sqrt G)."""
    u = init()
    res = negotiate(u, gaussian, rounds=3, agents=[[0, 1, 2]], step_size=0.05, adaptive=True)
    hist = np.zeros_like(u)
    for k in range(3):
        phi = svgd_direction(u, gaussian(u)[1])
        hist = phi**2 if k == 0 else 0.9 * hist + 0.1 * phi**2
        u = u + 0.05 * phi / (1e-6 + np.sqrt(hist))
    np.testing.assert_allclose(res.particles, u, rtol=1e-12, atol=1e-12)


def test_step_size_schedule() -> None:
    u = init()
    res = negotiate(u, gaussian, rounds=3, agents=[[0, 1, 2]], step_size=lambda k: 0.05 * (k + 1))
    for k in range(3):
        u = u + 0.05 * (k + 1) * svgd_direction(u, gaussian(u)[1])
    np.testing.assert_allclose(res.particles, u, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"step_size\(1\)"):
        negotiate(init(), gaussian, rounds=3, step_size=lambda k: 0.1 if k == 0 else -1.0)


def test_temperature_divides_the_log_density() -> None:
    t = 4.0
    a = negotiate(init(), gaussian, rounds=2, temperature=t)

    def tempered(u: Any) -> tuple[Any, Any]:
        logp, grad = gaussian(u)
        return logp / t, grad / t

    b = negotiate(init(), tempered, rounds=2)
    np.testing.assert_allclose(a.particles, b.particles, rtol=1e-13, atol=1e-13)
    assert list(a.trace.temperature) == [t, t]


def test_block_agents_move_their_blocks() -> None:
    """MaMuJoCo-style agents owning several coordinates: agent 0 = (0, 2), agent 1 = (1,)."""
    u0 = init()
    res = negotiate(u0, gaussian, rounds=1, agents=[[0, 2], [1]], sets="full", step_size=0.1)
    u = u0.copy()
    _, g = gaussian(u)
    u[:, [0, 2]] += 0.1 * local_kernel_direction(u, g, update=[0, 2], condition=[1])
    _, g = gaussian(u)
    u[:, [1]] += 0.1 * local_kernel_direction(u, g, update=[1], condition=[0, 2])
    np.testing.assert_allclose(res.particles, u, rtol=1e-13, atol=1e-13)


def test_agreement_stops_early_and_trace_is_recorded() -> None:
    res = negotiate(
        init(m=30), gaussian, rounds=2000, step_size=0.2, tol=1e-3, record_every=50, sets="nested"
    )
    assert res.agreed
    assert res.rounds < 2000
    assert res.trace.direction_norm.shape == (res.rounds,)
    assert res.trace.direction_norm[-1] < 1e-3
    assert np.all(res.trace.direction_norm[:-1] >= 1e-3)
    assert res.trace.ksd.shape == res.trace.mean_log_density.shape == (res.rounds,)
    assert res.trace.snapshots[0][0] == 0
    np.testing.assert_array_equal(res.trace.snapshots[0][1], init(m=30))
    assert [k for k, _ in res.trace.snapshots[1:]] == list(range(50, res.rounds + 1, 50))
    # the negotiation increased the log-density of the particles on average
    assert res.trace.mean_log_density[-1] > gaussian(init(m=30))[0].mean()


def test_ksd_agreement_criterion() -> None:
    far = init(m=40) + 6.0  # start well away from the target
    res = negotiate(
        far, gaussian, rounds=3000, step_size=0.2, tol=5e-3, agreement="ksd", sets="full"
    )
    assert res.agreed
    assert res.rounds > 10
    assert res.trace.ksd[0] > 5e-3
    assert res.trace.ksd[-1] < 5e-3


def test_batched_negotiation_matches_single_sets() -> None:
    u = np.stack([init(seed=1), init(seed=2)])
    res = negotiate(u, gaussian, rounds=3, step_size=0.1)
    for b in range(2):
        one = negotiate(u[b], gaussian, rounds=3, step_size=0.1)
        np.testing.assert_allclose(res.particles[b], one.particles, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- demonstrations


@pytest.mark.parametrize("sets", ["nested", "full", "empty"])
def test_gaussian_target_nested_and_full_recover_the_joint_empty_gives_mean_field(
    sets: SetsSpec,
) -> None:
    """Correlated 3-D Gaussian ``N(MEAN, PRECISION^-1)``, M = 200, 600 rounds, seed 0.

    Nested and full sets recover the joint covariance (App. E.4, Thm C.1).  Empty sets move each
    coordinate by a map of itself, so the independent initial particles stay independent: they
    converge to the mean-field solution ``q_i = N(mu_i, 1 / A_ii)`` (the reverse-KL projection
    of the target onto product measures), with zero correlations.
    """
    rng = np.random.default_rng(0)
    res = negotiate(2.0 * rng.standard_normal((200, 3)), gaussian, rounds=600, sets=sets,
                    step_size=0.5)  # fmt: skip
    u = res.particles
    cov = np.cov(u.T)
    # An i.i.d. sample of 200 estimates these O(1) covariances with sd ~ 0.1; deterministic
    # SVGD particles with the median bandwidth shrink variances by a few percent.  0.15 allows
    # that and still separates the two answers, which differ by 0.5 to 1.
    np.testing.assert_allclose(u.mean(axis=0), MEAN, atol=0.1)
    target = np.linalg.inv(PRECISION) if sets != "empty" else np.diag(1.0 / np.diag(PRECISION))
    np.testing.assert_allclose(cov, target, atol=0.15)


def test_two_modalities_nested_captures_both_optima_empty_does_not() -> None:
    """Two Modalities, alpha = 1, M = 100, seed 0 (Sec. 6 (1.1), Fig. 3).

    Exact target (grid): 0.83 of the mass on the wide optimum (-5, -5, 3), 0.17 on (7, 7, -3).
    """
    nested = two_modalities_experiment("nested", seed=0, n_particles=100)
    empty = two_modalities_experiment("empty", seed=0, n_particles=100)
    p = nested.exact_mass_first
    # Both optima are held, with the exact split up to 4 binomial standard errors of M = 100
    # independent draws (4 * sqrt(p (1 - p) / 100) = 0.15).
    assert nested.mass_second >= 0.05
    assert abs(nested.mass_first - p) <= 4.0 * math.sqrt(p * (1 - p) / 100), nested
    # Empty sets move each coordinate by a map of itself (mean-field, mode-seeking): the
    # particles collapse onto one optimum and lose the other.
    assert empty.mass_second <= 0.02, empty
    # Joint MMD^2 to exact samples: nested is closer than empty sets and than the product of the
    # exact marginals (which puts >20% of its mass on mixed corners worth < 0).
    assert nested.mmd2 < empty.mmd2 < nested.product_mmd2
    assert nested.product_low_reward_mass > 0.2


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_modalities_nested_m200(seed: int) -> None:
    nested = two_modalities_experiment("nested", seed=seed, n_particles=200)
    empty = two_modalities_experiment("empty", seed=seed, n_particles=200)
    p = nested.exact_mass_first
    assert abs(nested.mass_first - p) <= 4.0 * math.sqrt(p * (1 - p) / 200), nested
    assert empty.mass_second <= 0.02, empty
    assert nested.mmd2 < empty.mmd2


def test_max_of_three_annealed_s2_3_ends_at_global_optimum() -> None:
    """Max of Three, s2 = 3, alpha 100 -> 0.05 over 3000 rounds, M = 64, seed 0, started at
    N((-5, -5, 3), 0.25 I): most particles end in the basin of (7, 7, -4), at its optimum
    (best reward > 9.9 of 10) with a mean reward far above the local optimum's 0.  (The
    adaptive step keeps particles jittering by about the step 0.5, so "within distance 1" holds
    for a part of them only: 0.56 for this seed.)"""
    out = max_of_three_experiment(3.0, seed=0)
    assert out.frac_global_basin > 0.5, out
    assert out.best_reward > 9.9, out
    assert out.mean_reward > 5.0, out


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Known limitation: for s2 = 1.5 and 2 the particles that stay in the local basin once "
        "alpha is small are not moved across; a Stein direction sees the target only through its "
        "score, which is blind to the weights of separated modes.  Only 16-44% of the particles "
        "end in the basin of (7, 7, -4) (report of issue 4)."
    ),
)
@pytest.mark.parametrize("s2", [1.5, 2.0])
def test_max_of_three_annealed_narrow_basins_end_at_global_optimum(s2: float) -> None:
    out = max_of_three_experiment(s2, seed=0)
    assert out.frac_global_basin > 0.5, out
