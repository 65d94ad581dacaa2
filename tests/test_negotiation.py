"""Example-based tests of svnr_core.negotiation (Eq. 4, 5, 7; App. E.4), of the exact conditional
targets of svnr_core.conditional_targets, and the fixed-seed convergence demonstrations on the
differential games (paper Sec. 6, Fig. 3 and Fig. 5)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from svnr_core.conditional_targets import DifferentialGameTarget
from svnr_core.differential_games import max_of_three, two_modalities
from svnr_core.negotiation import ConditionalTarget, SetsSpec, negotiate, negotiation_sets
from svnr_core.stein import local_kernel_direction, svgd_direction
from verification.figures.max_of_three import (
    MAX_OF_THREE_SETUPS,
    max_of_three_experiment,
    max_of_three_negotiation,
)
from verification.figures.two_modalities import two_modalities_experiment

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
    # Empty sets with the joint score move each coordinate by a map of itself (mean-field,
    # mode-seeking): the particles collapse onto one optimum and lose the other.  (With the
    # Eq. 5 scores they follow the marginals instead: the test below.)
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


def _check_two_modalities_eq5(m: int, nested: Any, empty: Any) -> None:
    """Eq. 5 conditional scores on Two Modalities (alpha = 1).  Nested sets compose the exact
    joint (Thm C.1): the split between the optima within 4 binomial standard errors of ``m``
    draws and (almost) nothing worth < 0, where the exact target has ~0.  Empty sets: each agent
    follows its own exact marginal, so the particles approach the product of the marginals,
    which puts 0.27 of its mass on mixed corners worth < 0: the same share within 4 standard
    errors, clearly visible, and a mean reward far below the exact target's."""
    p = nested.exact_mass_first
    assert abs(nested.mass_first - p) <= 4.0 * math.sqrt(p * (1 - p) / m), nested
    assert nested.low_reward_mass <= 0.05, nested
    q = empty.product_low_reward_mass
    assert abs(empty.low_reward_mass - q) <= 4.0 * math.sqrt(q * (1 - q) / m), empty
    assert empty.low_reward_mass >= 0.1, empty
    assert empty.mean_reward < empty.exact_mean_reward - 2.0, empty
    assert nested.mmd2 < empty.mmd2


def test_two_modalities_eq5_scores_nested_is_the_joint_empty_the_product() -> None:
    """M = 100, 300 rounds, seed 0 (measured: nested 0.84 on (-5, -5, 3) against exact 0.83,
    0.02 worth < 0; empty 0.28 worth < 0 against the product's 0.27)."""
    kw: dict[str, Any] = {"seed": 0, "n_particles": 100, "rounds": 300, "score": "conditional"}
    _check_two_modalities_eq5(
        100, two_modalities_experiment("nested", **kw), two_modalities_experiment("empty", **kw)
    )


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_modalities_eq5_scores_m200(seed: int) -> None:
    """The figure's setting (M = 200, 600 rounds)."""
    kw: dict[str, Any] = {"seed": seed, "n_particles": 200, "score": "conditional"}
    _check_two_modalities_eq5(
        200, two_modalities_experiment("nested", **kw), two_modalities_experiment("empty", **kw)
    )


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
        "Known limitation of the JOINT-score path: for s2 = 1.5 and 2 agent 0 follows "
        "d r / d u_0 at the joint particles, which points to the branch that the current u_1, "
        "u_2 select, so particles near the local optimum stay there: only 16-44% end in the "
        "basin of (7, 7, -4).  The exact Eq. 5 conditional scores reach 66-86% (tests "
        "below): finite particles cannot move mass between modes.  The amortized negotiation "
        "(SVNR's policy step, tests/test_amortized_negotiation.py) reaches 100%."
    ),
)
@pytest.mark.parametrize("s2", [1.5, 2.0])
def test_max_of_three_annealed_narrow_basins_end_at_global_optimum(s2: float) -> None:
    out = max_of_three_experiment(s2, seed=0)
    assert out.frac_global_basin > 0.5, out


# --------------------------------------------------------------------------- Eq. 5 conditional


class JointAsConditional:
    """A :class:`ConditionalTarget` whose conditional score is the joint score ``grad / T``,
    recording the temperatures and sets it is asked for."""

    def __init__(self, shape: tuple[int, ...] | None = None, value: float | None = None) -> None:
        self.calls: list[tuple[list[int], list[int], float]] = []
        self.shape = shape
        self.value = value

    def joint(self, u: Any) -> tuple[Any, Any]:
        return gaussian(u)

    def conditional_score(
        self, u: Any, update: Sequence[int], condition: Sequence[int], temperature: float
    ) -> Any:
        self.calls.append((list(update), list(condition), temperature))
        out = gaussian(u)[1][..., list(update)] / temperature
        if self.value is not None:
            out = np.full_like(out, self.value)
        return out if self.shape is None else np.zeros(self.shape)


@pytest.mark.parametrize("sets", ["nested", "full", "empty"])
def test_conditional_target_path_uses_its_score_and_passes_the_temperature(sets: str) -> None:
    """With a conditional score equal to ``grad log p / T`` the two paths coincide; the target
    is asked for agent i's coordinates, its condition set and the round's temperature."""
    temps = [4.0, 2.0, 1.0]
    tgt = JointAsConditional()
    assert isinstance(tgt, ConditionalTarget)
    kw: dict[str, Any] = {"rounds": 3, "sets": sets, "temperature": lambda k: temps[k]}
    a = negotiate(init(), tgt, adaptive=True, **kw)
    b = negotiate(init(), gaussian, adaptive=True, **kw)
    np.testing.assert_allclose(a.particles, b.particles, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(a.trace.ksd, b.trace.ksd, rtol=1e-12)
    c_sets = negotiation_sets(sets, 3)  # type: ignore[arg-type]
    expected = [([i], sorted(c_sets[i]), t) for t in temps for i in range(3)]
    assert [(upd, sorted(cond), t) for upd, cond, t in tgt.calls] == expected


def test_conditional_target_errors_are_reported() -> None:
    with pytest.raises(ValueError, match=r"conditional_score must return shape \(8, 1\)"):
        negotiate(init(), JointAsConditional(shape=(8, 3)), rounds=1)
    with pytest.raises(ValueError, match="conditional_score returned NaN"):
        negotiate(init(), JointAsConditional(value=float("nan")), rounds=1)


def test_differential_game_target_validates_its_input() -> None:
    game = max_of_three(2.0)
    tgt = DifferentialGameTarget(game, cells=8)
    u = np.zeros((4, 3))
    with pytest.raises(ValueError, match="cells"):
        DifferentialGameTarget(game, cells=1)
    with pytest.raises(ValueError, match="game"):
        DifferentialGameTarget("max_of_three", cells=8)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="box"):
        tgt.conditional_score(u + 10.5, [0], [0], 1.0)
    with pytest.raises(ValueError, match="shape"):
        tgt.conditional_score(np.zeros((4, 2)), [0], [0], 1.0)
    with pytest.raises(ValueError, match="NaN"):
        tgt.conditional_score(np.full((4, 3), np.nan), [0], [0], 1.0)
    with pytest.raises(ValueError, match="temperature"):
        tgt.conditional_score(u, [0], [0], 0.0)
    with pytest.raises(ValueError, match="update must not be empty"):
        tgt.conditional_score(u, [], [0], 1.0)
    with pytest.raises(ValueError, match="condition holds coordinate 3"):
        tgt.conditional_score(u, [0], [3], 1.0)
    with pytest.raises(ValueError, match="update repeats"):
        tgt.conditional_score(u, [1, 1], [0], 1.0)
    with pytest.raises(ValueError, match="MAX_GRID_POINTS"):
        DifferentialGameTarget(max_of_three(2.0, n_agents=5), cells=64).conditional_score(
            np.zeros((1, 5)), [0], [0], 1.0
        )
    with pytest.raises(ValueError, match="score must be"):
        max_of_three_negotiation(2.0, 0, score="exact")  # type: ignore[arg-type]


@pytest.mark.parametrize("s2", [1.5, 3.0])
def test_quadrature_with_default_cells_matches_a_fine_grid(s2: float) -> None:
    """The default 64 cells against 512 (the error analysis of the module doc): the largest
    difference of the nested conditional scores, relative to their root-mean-square, over
    temperatures 10 .. 0.05.  Measured along the annealed negotiations: at most 1.1% (at T = 4,
    the O(h^2) regime of wide bumps cut by the box); 2% allows the random points here."""
    game = max_of_three(s2)
    coarse, fine = DifferentialGameTarget(game), DifferentialGameTarget(game, cells=512)
    u = np.random.default_rng(0).uniform(-10.0, 10.0, size=(6, 3))
    for t in (10.0, 4.0, 1.7, 0.05):
        for i in (0, 1):
            a = coarse.conditional_score(u, [i], list(range(i + 1)), t)
            b = fine.conditional_score(u, [i], list(range(i + 1)), t)
            assert np.max(np.abs(a - b)) <= 2e-2 * np.sqrt(np.mean(b**2)), (t, i, a, b)


def test_two_agent_marginal_score_by_brute_force() -> None:
    """Two Modalities with 2 agents: agent 0's nested score (u_1 marginalised) equals
    ``d/du_0 log ∫ exp(r(u_0, v) / T) dv`` from a 20001-point trapezoid rule and central
    differences -- an independent computation of the same integral."""
    game = two_modalities(n_agents=2)
    tgt = DifferentialGameTarget(game, cells=400)
    t = 2.0
    v = np.linspace(-10.0, 10.0, 20001)

    def log_marginal(u0: float) -> float:
        pts = np.stack([np.full_like(v, u0), v], axis=-1)
        z = np.asarray(game.reward(pts)) / t
        top = float(z.max())
        return top + math.log(float(np.trapezoid(np.exp(z - top), v)))

    for u0 in (-7.3, -1.0, 2.5, 6.9):
        h = 1e-4
        brute = (log_marginal(u0 + h) - log_marginal(u0 - h)) / (2 * h)
        score = tgt.conditional_score(np.array([[u0, 0.0]]), [0], [0], t)[0, 0]
        # Midpoint rule on 400 cells (h = 0.05) of a function with a kink: O(h^2) ~ 1e-3
        # relative; the brute force is O(1e-6) accurate.  2e-3 absolute on scores of order 1.
        assert abs(score - brute) <= 2e-3, (u0, score, brute)


# The claims below are those of the conditional-score demonstrations: fixed seeds, so each is
# one deterministic run.  The thresholds state the claim ("most particles end in the global
# basin", "all of them" for s2 = 3), not a fit to the observed values, which are reported in
# docs/figures/negotiation_numbers.json.

FAST_PARTICLES, FAST_ROUNDS = 32, 600


@pytest.mark.parametrize("s2", [1.5, 2.0, 3.0])
def test_max_of_three_conditional_score_moves_most_particles_to_the_global_optimum(
    s2: float,
) -> None:
    """Max of Three, nested sets with the exact Eq. 5 conditional scores, alpha 10 -> 0.05 over
    600 rounds, M = 32, seed 0, started at N((-5, -5, 3), 0.25 I).  Observed: 0.62 / 0.81 / 1.00
    of the particles in the global basin for s2 = 1.5 / 2 / 3 (mean reward 5.3 / 7.2 / 9.9);
    the joint score with the same settings: 0.00 / 0.09 / 0.50."""
    fast: dict[str, Any] = {"n_particles": FAST_PARTICLES, "rounds": FAST_ROUNDS}
    cond = max_of_three_experiment(s2, seed=0, score="conditional", **fast)
    alpha_start = MAX_OF_THREE_SETUPS["conditional"].alpha_start
    joint = max_of_three_experiment(s2, seed=0, score="joint", alpha_start=alpha_start, **fast)
    assert cond.frac_global_basin > 0.5, cond
    assert cond.best_reward > 9.9, cond
    assert cond.frac_global_basin > joint.frac_global_basin + 0.3, (cond, joint)
    assert cond.mean_reward > joint.mean_reward + 3.0, (cond, joint)
    if s2 == 3.0:
        assert cond.frac_global_basin == 1.0, cond


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("s2", [1.5, 2.0, 3.0])
def test_max_of_three_conditional_score_m64(s2: float, seed: int) -> None:
    """The documented setting (M = 64, 600 rounds, alpha 10 -> 0.05), seeds 0-2.  Observed
    global-basin fractions: 0.66-0.69 (s2 = 1.5), 0.86 (2), 1.00 (3)."""
    out = max_of_three_experiment(s2, seed=seed, score="conditional")
    assert out.frac_global_basin > {1.5: 0.6, 2.0: 0.8, 3.0: 0.99}[s2], out
    assert out.best_reward > 9.9, out
