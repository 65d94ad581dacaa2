"""Example tests that kill surviving mutants of `svnr_core.reasoning`.

See verification/mutants.md.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from svnr_core.factorization import kl_divergence
from svnr_core.games import (
    CooperativeGame,
    climbing_game,
    figure1_left,
    figure1_right,
    matrix_game,
    penalty_game,
)
from svnr_core.reasoning import (
    best_response,
    consistency_report,
    ero_report,
    ero_verdict,
    expected_utility,
    history_opponent_model,
    joint_sampling_soft_q,
    kl_chain_rule,
    marginals,
    mean_field_projection,
    negotiated_reasoning,
    opponent_marginal,
    optimal_joint_policy,
    perceived_joint,
    pro_report,
    pro_verdict,
    product_of,
    restricted_soft_policy_iteration,
)


def test_history_model_uses_the_given_opponent_models_and_names_itself() -> None:
    # Sec. 2 / Fig. 1 (left): each agent best-responds to the rho it was given (here a history
    # that favours B = 0, under which A's action 0 is worth more), not to a uniform rho.
    game = figure1_left()
    rhos = [np.array([0.9, 0.1]), np.array([0.3, 0.7])]
    out = history_opponent_model(game, 0.5, rhos)
    assert out.model == "history opponent model (MADDPG-like)"
    for given, used in zip(rhos, out.opponents, strict=True):
        np.testing.assert_array_equal(used, given)
    log_opt = optimal_joint_policy(game, 0.5).log_policy
    expected = [best_response(log_opt, i, rhos[i]).policy for i in range(2)]
    np.testing.assert_allclose(out.executed, product_of(expected), rtol=0, atol=1e-15)
    assert out.executed.sum(axis=1)[0] > out.executed.sum(axis=1)[1]  # A now prefers action 0


def test_history_model_rejects_a_misshaped_opponent_naming_its_agent() -> None:
    game = climbing_game()
    with pytest.raises(ValueError, match=r"^rho_1 must be a distribution .* shape \(3,\)"):
        history_opponent_model(game, 1.0, [np.full(3, 1 / 3), np.full(2, 0.5)])
    with pytest.raises(ValueError, match="need one rho per agent"):
        history_opponent_model(game, 1.0, [np.full(3, 1 / 3)])


def test_eq3_chain_rule_terms_name_the_agent_and_the_arguments() -> None:
    rng = np.random.default_rng(3)
    p = rng.random((2, 3))
    p /= p.sum()
    q = rng.random((2, 3))
    q /= q.sum()
    terms = kl_chain_rule(p, q, 1)
    assert terms.agent == 1
    assert terms.total == pytest.approx(kl_divergence(p, q), rel=1e-12)
    bad = np.full((2, 3), 0.2)
    with pytest.raises(ValueError, match=r"^p sums to "):
        kl_chain_rule(bad, q, 0)
    with pytest.raises(ValueError, match=r"^q sums to "):
        kl_chain_rule(p, bad, 0)
    with pytest.raises(ValueError, match=r"^p and q need equal shapes"):
        kl_chain_rule(p, q.T, 0)


def test_mean_field_projection_validates_its_target_and_init() -> None:
    with pytest.raises(ValueError, match=r"^log_target must be a finite array with one axis"):
        mean_field_projection(np.log(0.5))
    with pytest.raises(ValueError, match=r"^log_target must be a finite array with one axis"):
        mean_field_projection(np.array([[0.0, np.nan], [np.log(0.5), np.log(0.5)]]))
    with pytest.raises(ValueError, match=r"^exp\(log_target\) must sum to 1"):
        mean_field_projection(np.log(np.full((2, 2), 0.3)))
    target = np.log(np.full((2, 2), 0.25))
    with pytest.raises(ValueError, match=r"^init needs 2 factors; got 1"):
        mean_field_projection(target, [np.array([0.5, 0.5])])
    with pytest.raises(ValueError, match=r"^init\[1\] sums to "):
        mean_field_projection(target, [np.array([0.5, 0.5]), np.array([0.5, 0.6])])
    # a target whose mass is off by 5e-9 (inside the 1e-8 tolerance) is accepted
    near = np.full((2, 2), 0.25)
    near[0, 0] += 5e-9
    q0, _ = mean_field_projection(np.log(near))
    np.testing.assert_allclose(q0, [0.5, 0.5], atol=1e-8)
    # integer log targets are read as floats (a point mass written with ints)
    q0, _ = mean_field_projection(np.log(np.array([[1, 1], [1, 1]]) / 4.0))
    assert q0.dtype == np.float64


def test_mean_field_projection_uses_its_warm_start() -> None:
    # Penalty game: coordinate descent from a factor concentrated on action 2 stays in the
    # (2, 2) optimum, from uniform it does not -- the init is used, not replaced by uniform.
    opt = optimal_joint_policy(penalty_game(-100.0), 1.0)
    start = [np.array([0.01, 0.01, 0.98]), np.array([0.01, 0.01, 0.98])]
    q0, q1 = mean_field_projection(opt.log_policy, start)
    u0, _ = mean_field_projection(opt.log_policy)
    assert int(np.argmax(q0)) == 2
    assert int(np.argmax(q1)) == 2
    assert not np.allclose(q0, u0, atol=1e-3)


@pytest.mark.parametrize("family", ["product", [[], []], [[1], []]])
def test_restricted_iteration_reports_family_iterations_and_convergence(family: object) -> None:
    # Sec. 4.2 restricted soft policy iteration: a named family, a 1-based round count that is
    # the number of evaluation/improvement rounds actually run, convergence when it stopped.
    game = climbing_game()
    res = restricted_soft_policy_iteration(game, 2.0, family)  # type: ignore[arg-type]
    assert res.family == ("product (mean-field)" if family == "product" else res.family)
    assert res.family.startswith("product" if family == "product" else "sets ")
    assert res.converged is True
    assert 1 <= res.iterations < 1000
    cut = restricted_soft_policy_iteration(game, 2.0, family, max_iter=1)  # type: ignore[arg-type]
    assert cut.iterations == 1
    assert cut.converged is False
    again = restricted_soft_policy_iteration(
        game,
        2.0,
        family,  # type: ignore[arg-type]
        max_iter=res.iterations,
    )
    assert again.iterations == res.iterations
    assert again.converged is True
    np.testing.assert_allclose(again.policy, res.policy, rtol=0, atol=0)
    fewer = restricted_soft_policy_iteration(
        game,
        2.0,
        family,  # type: ignore[arg-type]
        max_iter=res.iterations - 1,
    )
    assert fewer.converged is (res.iterations == 1)


def test_restricted_iteration_rejects_unknown_family_names() -> None:
    with pytest.raises(ValueError, match=r"^family must be negotiation sets or 'product'"):
        restricted_soft_policy_iteration(climbing_game(), 1.0, "independent")  # type: ignore[arg-type]


def test_def_2_1_report_is_labelled_and_uses_the_given_tolerance() -> None:
    # Fig. 1 (right), joint sampling: executing the marginals loses 1.5 (ERO, Def. 2.1).  With a
    # tolerance above the gap no agent is flagged -- the report's and the outcome's tol is used.
    out = joint_sampling_soft_q(figure1_right(), 0.1)
    report = out.ero()
    assert report.definition == "ERO (Def. 2.1)"
    assert report.holds
    gap = max(v.gap for v in report.verdicts)
    assert gap == pytest.approx(1.5, abs=1e-3)
    loose = ero_report(out.game, out.executed, tol=2.0)
    assert not loose.holds
    assert all(v.tol == 2.0 for v in loose.verdicts)
    assert not dataclasses.replace(out, tol=2.0).ero().holds


def test_perceived_joint_rejects_an_unknown_kind_by_name() -> None:
    with pytest.raises(ValueError, match=r"^kind must be 'independent' or 'conditional'"):
        perceived_joint(np.array([0.5, 0.5]), np.array([0.5, 0.5]), 0, "joint")  # type: ignore[arg-type]


def test_restricted_iteration_with_no_rounds_reports_the_uniform_policy() -> None:
    game = climbing_game()
    res = restricted_soft_policy_iteration(game, 1.0, "product", max_iter=0)
    assert res.iterations == 0
    assert res.converged is False
    np.testing.assert_array_equal(res.policy, np.full(game.joint_shape, 1.0 / 9.0))
    with pytest.raises(ValueError, match="expected 2 negotiation sets"):
        restricted_soft_policy_iteration(game, 1.0, [[], [0], [1]])


def test_def_2_1_to_2_3_verdicts_carry_definition_agent_and_tolerance() -> None:
    # Fig. 1 (left), history model: PRO (Def. 2.2) and ERO (Def. 2.1) verdicts per agent, and
    # Def. 2.3 per agent, each labelled and carrying the tolerance the outcome was given.
    out = history_opponent_model(figure1_left(), 0.5)
    pro, ero, cons = out.pro(), out.ero(), out.consistency()
    assert pro.definition == "PRO (Def. 2.2)"
    assert [v.definition for v in pro.verdicts] == ["PRO (Def. 2.2)"] * 2
    assert [v.definition for v in ero.verdicts] == ["ERO (Def. 2.1)"] * 2
    for report in (pro, ero, cons):
        assert [v.agent for v in report.verdicts] == [0, 1]
        assert all(v.tol == out.tol for v in report.verdicts)
    assert pro.holds
    assert not cons.holds
    loose = dataclasses.replace(out, tol=100.0)
    assert not loose.pro().holds
    assert loose.consistency().holds
    assert all(v.tol == 100.0 for v in loose.consistency().verdicts)
    # the default kind of a PRO verdict is the independent one
    rhos = list(out.opponents)
    default = pro_report(out.optimal, rhos)
    assert [v.lhs for v in default.verdicts] == [
        v.lhs for v in pro_report(out.optimal, rhos, "independent").verdicts
    ]
    assert pro_verdict(out.optimal, 0, rhos[0]).lhs == default.verdicts[0].lhs
    assert joint_sampling_soft_q(figure1_left(), 0.5).model == "joint-sampling soft Q (MASQL-like)"


def test_def_2_3_holds_at_zero_tolerance_when_both_gaps_are_exactly_zero() -> None:
    # A game with a constant payoff: pi* is uniform and every model's gaps are exactly 0, so
    # consistency holds even at tol = 0 ("holds iff both are <= tol").
    out = negotiated_reasoning(matrix_game(np.zeros((2, 2))), 1.0)
    report = consistency_report(out.optimal, out.opponents, out.perceived, out.executed, tol=0.0)
    assert [v.training_gap for v in report.verdicts] == [0.0, 0.0]
    assert [v.execution_gap for v in report.verdicts] == [0.0, 0.0]
    assert report.holds


def test_reasoning_errors_name_the_offending_argument() -> None:
    game = figure1_left()
    out = history_opponent_model(game, 0.5)
    bad = np.full((2, 2), 0.3)
    with pytest.raises(ValueError, match=r"^joint sums to "):
        expected_utility(game, bad)
    with pytest.raises(ValueError, match=r"^joint has shape \(4,\); the game's actions"):
        expected_utility(game, np.full(4, 0.25))
    with pytest.raises(ValueError, match=r"^joint sums to "):
        marginals(bad)
    with pytest.raises(ValueError, match=r"^executed sums to "):
        ero_verdict(game, bad, 0)
    with pytest.raises(ValueError, match=r"^executed sums to "):
        consistency_report(out.optimal, out.opponents, out.perceived, bad)
    with pytest.raises(ValueError, match=r"^perceived\[1\] sums to "):
        consistency_report(out.optimal, out.opponents, [out.perceived[0], bad], out.executed)
    with pytest.raises(ValueError, match=r"^need one rho and one perceived joint per agent \(2\)"):
        consistency_report(out.optimal, out.opponents[:1], out.perceived, out.executed)
    with pytest.raises(ValueError, match=r"^need one rho and one perceived joint per agent \(2\)"):
        consistency_report(out.optimal, out.opponents, out.perceived[:1], out.executed)
    with pytest.raises(ValueError, match=r"^need one perceived opponent policy per agent \(2\)"):
        pro_report(out.optimal, out.opponents[:1])
    assert marginals(np.array([[1, 0], [0, 0]]))[0].dtype == np.float64


def test_best_response_and_product_validate_and_label_their_results() -> None:
    log_opt = optimal_joint_policy(figure1_left(), 0.5).log_policy
    br = best_response(log_opt, 1, np.array([0.5, 0.5]))
    assert br.agent == 1
    assert br.kind == "independent"
    conditional = best_response(log_opt, 1, np.array([0.5, 0.5]), "conditional")
    assert conditional.kind == "conditional"
    assert conditional.agent == 1
    for bad in (np.log(0.5), np.array([[0.0, np.nan], [-1.0, -1.0]])):
        with pytest.raises(ValueError, match=r"^log_target must be a finite array with one axis"):
            best_response(bad, 0, np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"^product_of needs at least one policy"):
        product_of([])
    with pytest.raises(ValueError, match=r"^policies\[1\] sums to "):
        product_of([np.array([0.5, 0.5]), np.array([0.5, 0.6])])
    with pytest.raises(ValueError, match=r"^policies\[0\] must be a probability vector; got shape"):
        product_of([np.full((2, 2), 0.25)])


def test_negotiated_reasoning_is_named_and_checks_its_sets() -> None:
    out = negotiated_reasoning(figure1_right(), 0.1, [[], [0]])
    assert out.model == "negotiated reasoning (SVNR)"
    with pytest.raises(ValueError, match=r"^expected 2 negotiation sets"):
        negotiated_reasoning(figure1_right(), 0.1, [[], [0], [1]])


def test_def_2_2_verdict_does_not_hold_at_zero_gap_and_zero_tolerance() -> None:
    # "holds iff gap > tol": against the optimal opponent marginal the two sides of Def. 2.2 are
    # the same number, so the verdict does not hold even at tol = 0.
    opt = optimal_joint_policy(climbing_game(), 1.0)
    verdict = pro_verdict(opt, 0, opt.policy.sum(axis=0), tol=0.0)
    assert verdict.gap == 0.0
    assert not verdict.holds


def test_opponent_marginal_names_a_bad_joint() -> None:
    with pytest.raises(ValueError, match=r"^joint sums to "):
        opponent_marginal(np.full((2, 2), 0.3), 0)


def test_eq1_optimal_joint_policy_of_a_discounted_single_state_game_is_exact() -> None:
    # One state, gamma = 0.9: Q* = R + gamma V* with V* = alpha logsumexp(R / alpha) / (1 - gamma)
    # in closed form; optimal_joint_policy solves to 1e-12, keeps alpha and returns Q*.
    r = np.array([[1.0, 0.0], [0.3, 2.0]])
    game = CooperativeGame(np.ones((1, 2, 2, 1)), r[np.newaxis], 0.9)
    alpha = 0.5
    v = alpha * float(np.log(np.exp(r / alpha).sum())) / (1.0 - 0.9)
    opt = optimal_joint_policy(game, alpha)
    assert opt.alpha == alpha
    np.testing.assert_allclose(opt.Q, r + 0.9 * v, rtol=0, atol=1e-10)
    np.testing.assert_allclose(opt.policy, np.exp((r + 0.9 * v - v) / alpha), rtol=1e-9)


def test_reasoning_rejects_bad_temperatures_and_non_games() -> None:
    for alpha in (0.0, math.inf):
        with pytest.raises(ValueError, match=r"^alpha must be finite and > 0"):
            optimal_joint_policy(figure1_left(), alpha)
    with pytest.raises(ValueError, match=r"^game must be a CooperativeGame; got str"):
        optimal_joint_policy("figure 1", 1.0)  # type: ignore[arg-type]


def test_agent_ids_must_be_integers() -> None:
    log_opt = optimal_joint_policy(figure1_left(), 0.5).log_policy
    with pytest.raises(ValueError, match=r"^agent must be an id in \[0, 2\); got 1\.0"):
        best_response(log_opt, 1.0, np.array([0.5, 0.5]))  # type: ignore[arg-type]
