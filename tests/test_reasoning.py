"""Example-based tests of :mod:`svnr_core.reasoning`: Figure 1 with exact numbers, the climbing
and penalty games under restricted soft policy iteration, and input validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from svnr_core.factorization import NegotiationSets
from svnr_core.games import (
    CooperativeGame,
    climbing_game,
    figure1_left,
    figure1_right,
    matrix_game,
    penalty_game,
    random_game,
)
from svnr_core.reasoning import (
    best_response,
    ero_verdict,
    expected_utility,
    history_opponent_model,
    joint_sampling_soft_q,
    kl_chain_rule,
    mean_field_projection,
    negotiated_reasoning,
    optimal_joint_policy,
    pro_verdict,
    restricted_soft_policy_iteration,
)
from svnr_core.soft_bellman import soft_policy_iteration

SMALL_ALPHA = 0.01  # exp(-1 / 0.01) ~ 4e-44: the Boltzmann policies are deterministic to 1e-40


# ------------------------------------------------------------------ Figure 1 (left): PRO
def test_figure1_left_history_model_suffers_pro_and_earns_2_instead_of_3() -> None:
    out = history_opponent_model(figure1_left(), SMALL_ALPHA)
    # uniform rho_A: E[Q(0, .)] = 1.5 < E[Q(1, .)] = 2, so A plays 1; B sees 2.5 > 1, plays 0
    np.testing.assert_allclose(out.executed, [[0.0, 0.0], [1.0, 0.0]], atol=1e-15)
    assert out.executed_utility == pytest.approx(2.0, abs=1e-12)
    assert out.optimal_utility == 3.0
    pro = out.pro()
    assert pro.holds
    assert 0 in pro.agents
    v = pro.verdicts[0]
    # lhs: -H(uniform) - log sum_u exp(E_rho log pi*): with pi* ~ delta(0,0), log pi* = (Q - 3)/a
    # rows: E_rho log pi*(0, .) = (0 - 3) / (2a) = -150, E_rho log pi*(1, .) = -100 (a = 0.01)
    expected_lhs = -math.log(2) + 100.0 - math.log1p(math.exp(-50.0))
    assert v.lhs == pytest.approx(expected_lhs, rel=1e-12)
    assert v.rhs == pytest.approx(0.0, abs=1e-12)
    assert v.gap == pytest.approx(expected_lhs, rel=1e-12)
    assert out.ero().holds  # A would switch to 0 against B's 0: 3 > 2
    assert not out.consistency().holds


def test_figure1_left_negotiation_is_free_of_pro_and_ero() -> None:
    out = negotiated_reasoning(figure1_left(), SMALL_ALPHA)
    assert out.executed_utility == pytest.approx(3.0, abs=1e-12)
    assert not out.pro().holds
    assert not out.ero().holds
    assert out.consistency().holds


# ------------------------------------------------------------------ Figure 1 (right): ERO
def test_figure1_right_joint_sampling_suffers_ero_and_earns_1_5_instead_of_3() -> None:
    out = joint_sampling_soft_q(figure1_right(), SMALL_ALPHA)
    np.testing.assert_allclose(out.executed, np.full((2, 2), 0.25), rtol=1e-15)
    assert out.executed_utility == pytest.approx(1.5, abs=1e-12)
    assert not out.pro().holds  # perceived joint = pi*: PRO avoided, as the paper says
    ero = out.ero()
    assert ero.holds
    for v in ero.verdicts:
        assert v.lhs == pytest.approx(3.0, abs=1e-12)  # knowing u_B, A always matches it
        assert v.rhs == pytest.approx(1.5, abs=1e-12)
        assert v.gap == pytest.approx(1.5, abs=1e-12)


def test_figure1_right_negotiation_executes_an_optimum() -> None:
    out = negotiated_reasoning(figure1_right(), SMALL_ALPHA)
    np.testing.assert_allclose(out.executed, [[0.5, 0.0], [0.0, 0.5]], atol=1e-15)
    assert out.executed_utility == pytest.approx(3.0, abs=1e-12)
    assert not out.pro().holds
    assert not out.ero().holds
    assert out.consistency().holds


@pytest.mark.parametrize("alpha", [1.0, 0.3, 0.1, 0.03, 0.01])
def test_negotiated_utility_approaches_the_optimum_as_alpha_shrinks(alpha: float) -> None:
    for game in (figure1_left(), figure1_right()):
        out = negotiated_reasoning(game, alpha)
        # U(pi*_alpha) >= max R - alpha log |U| (Gibbs: E[R] + alpha H >= max R, H <= log 4)
        assert out.executed_utility >= 3.0 - alpha * math.log(4) - 1e-12


def test_non_nested_negotiation_can_suffer_pro() -> None:
    out = negotiated_reasoning(figure1_right(), SMALL_ALPHA, sets=[[], []])
    # independent sets compose the product of marginals: rho_i is uniform, not pi*'s opponent
    np.testing.assert_allclose(out.executed, np.full((2, 2), 0.25), rtol=1e-12)
    assert out.executed_utility == pytest.approx(1.5)
    assert out.ero().holds


# ------------------------------------------------------------------ closed forms, Eq. 3
def test_best_response_closed_forms() -> None:
    opt = optimal_joint_policy(figure1_left(), 1.0)
    br = best_response(opt.log_policy, 0, np.array([0.5, 0.5]))
    m = np.array([opt.log_policy[0].mean(), opt.log_policy[1].mean()])
    np.testing.assert_allclose(br.policy, np.exp(m) / np.exp(m).sum())
    cond = best_response(opt.log_policy, 0, np.array([0.5, 0.5]), "conditional")
    np.testing.assert_allclose(cond.policy, opt.policy / opt.policy.sum(axis=0, keepdims=True))


def test_kl_chain_rule_example() -> None:
    p = np.array([[0.1, 0.2], [0.3, 0.4]])
    q = np.array([[0.25, 0.25], [0.25, 0.25]])
    t = kl_chain_rule(p, q, 1)
    assert t.total == pytest.approx(t.opponents + t.conditional, abs=1e-15)
    assert t.opponents == pytest.approx(0.3 * math.log(0.6) + 0.7 * math.log(1.4))


# ------------------------------------------------------------------ restricted policy iteration
@pytest.mark.parametrize(
    ("game", "stuck_value", "optimum"),
    [(climbing_game(), 7.0, 11.0), (penalty_game(), 2.0, 10.0)],
)
def test_product_family_is_stuck_in_the_suboptimal_equilibrium(
    game: CooperativeGame, stuck_value: float, optimum: float
) -> None:
    alpha = 0.1
    prod = restricted_soft_policy_iteration(game, alpha, "product")
    nested = restricted_soft_policy_iteration(game, alpha, NegotiationSets.strictly_nested(2))
    assert prod.converged
    assert nested.converged
    u_prod = expected_utility(game, prod.policy[0])
    u_nested = expected_utility(game, nested.policy[0])
    # alpha = 0.1: residual mass exp(-10) ~ 5e-5 per cell (payoff gaps >= 1), so within 1e-2
    assert u_prod == pytest.approx(stuck_value, abs=1e-2)
    assert u_nested == pytest.approx(optimum, abs=1e-2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nested_family_reaches_the_optimal_soft_policy_on_random_games(seed: int) -> None:
    game = random_game(seed, 3, (2, 3), 0.9)
    alpha = 0.5
    star = soft_policy_iteration(game, alpha, 1e-10)
    for sets in (NegotiationSets.strictly_nested(2), NegotiationSets.full(2)):
        res = restricted_soft_policy_iteration(game, alpha, sets)
        assert res.converged
        # both stop when the policy moves < 1e-10; Q then differs by <= 1e-10 * |Q| / (1 - g)
        np.testing.assert_allclose(res.policy, star.policy, atol=1e-8)
        np.testing.assert_allclose(res.Q, star.Q, atol=1e-7)


def test_mean_field_projection_from_uniform_on_climbing() -> None:
    opt = optimal_joint_policy(climbing_game(), 0.1)
    q = mean_field_projection(opt.log_policy)
    assert int(np.argmax(q[0])) == 1
    assert int(np.argmax(q[1])) == 1


# ------------------------------------------------------------------ validation
def test_reasoning_rejects_multi_state_games_and_bad_arguments() -> None:
    g = random_game(0, 2, (2, 2), 0.5)
    with pytest.raises(ValueError, match="single-state"):
        negotiated_reasoning(g, 0.1)
    with pytest.raises(ValueError, match="alpha"):
        optimal_joint_policy(figure1_left(), 0.0)
    opt = optimal_joint_policy(figure1_left(), 1.0)
    with pytest.raises(ValueError, match=r"rho_0 must be a distribution .* shape \(2,\)"):
        pro_verdict(opt, 0, np.full((2, 2), 0.25))
    with pytest.raises(ValueError, match="rho_0 sums to"):
        pro_verdict(opt, 0, np.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="kind must be"):
        pro_verdict(opt, 0, np.array([0.5, 0.5]), "joint")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="agent must be an id"):
        ero_verdict(figure1_left(), np.full((2, 2), 0.25), 2)
    with pytest.raises(ValueError, match="executed has shape"):
        ero_verdict(figure1_left(), np.full((4,), 0.25), 0)
    with pytest.raises(ValueError, match="family must be"):
        restricted_soft_policy_iteration(figure1_left(), 1.0, "mean-field")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="need one rho per agent"):
        history_opponent_model(figure1_left(), 1.0, [np.array([0.5, 0.5])])
    with pytest.raises(ValueError, match="expected 2 negotiation sets"):
        negotiated_reasoning(matrix_game([[1.0, 0.0], [0.0, 1.0]]), 1.0, [[]])
