"""Perceived / executed relative over-generalization and consistent reasoning (paper Sec. 2, 3).

Single-state games with finite actions (``game.n_states == 1``; matrix games of
:func:`svnr_core.games.matrix_game` and the two games of Figure 1).  Notation for ``N`` agents
with action counts ``(A_1, ..., A_N)``:

* the optimal joint policy ``pi*_alpha`` of Eq. 1, an array of shape ``(A_1, ..., A_N)``;
* a *perceived opponent policy* ``rho_i``, a joint distribution over the others' actions: an
  array of shape ``(A_1, ..., A_N)`` without axis ``i``;
* an *individual policy* of one of the two kinds the paper contrasts:
  ``"independent"`` ``pi_i(u_i)`` (shape ``(A_i,)``) or ``"conditional"`` ``pi_i(u_i | u_{-i})``;
* the perceived joint ``hat pi_i = pi_i rho_i`` and the *executed* joint, the distribution of
  the joint action actually played (the product of the executed policies
  ``bar pi_i = int pi_i rho_i du_{-i}`` for decentralized execution, Def. 2.1; a correlated joint
  when agents share a negotiated agreement through common randomness, Thm 3.2, App. J).

Utility of a joint ``e`` is the expected team reward ``U^e = E_{u ~ e}[R(u)]`` (per step: in a
single-state game the discounted return is ``U^e / (1 - gamma)``, the same comparisons).

Closed forms (proofs in the docstrings): for fixed ``rho_i``,

* independent: ``argmin_{pi_i} KL(pi_i rho_i || pi*) ∝ exp(E_{rho_i}[log pi*(u_i, u_{-i})])``,
  minimum ``-H(rho_i) - log sum_{u_i} exp(E_{rho_i}[log pi*(u_i, .)])``;
* conditional: ``argmin = pi*(u_i | u_{-i})``, minimum ``KL(rho_i || pi*(u_{-i}))`` by the chain
  rule of Eq. 3 (:func:`kl_chain_rule`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import rel_entr, xlogy

from svnr_core.factorization import (
    NegotiationSets,
    as_joint,
    as_negotiation_sets,
    conditional,
    kl_divergence,
    represented_joint,
)
from svnr_core.games import CooperativeGame, FloatArray
from svnr_core.soft_bellman import (
    boltzmann,
    boltzmann_policy,
    log_boltzmann_policy,
    soft_max,
    soft_policy_evaluation,
    soft_value_iteration,
)

__all__ = [
    "POLICY_TOL",
    "VERDICT_TOL",
    "BestResponse",
    "ChainRuleTerms",
    "ConsistencyReport",
    "ConsistencyVerdict",
    "OptimalJointPolicy",
    "PolicyKind",
    "ReasoningOutcome",
    "Report",
    "RestrictedIterationResult",
    "Verdict",
    "best_response",
    "consistency_report",
    "ero_report",
    "ero_verdict",
    "expected_utility",
    "history_opponent_model",
    "joint_sampling_soft_q",
    "kl_chain_rule",
    "log_boltzmann_policy",
    "marginals",
    "mean_field_projection",
    "negotiated_reasoning",
    "opponent_marginal",
    "optimal_joint_policy",
    "optimal_utility",
    "perceived_joint",
    "pro_report",
    "pro_verdict",
    "product_of",
    "restricted_soft_policy_iteration",
]

PolicyKind = Literal["independent", "conditional"]

#: Default decision threshold of the verdicts: a gap counts only above this.  The sides are sums
#: of at most a few thousand terms of size O(|log pi*|) computed in float64, whose round-off is
#: far below 1e-9 for the game sizes this module targets.
VERDICT_TOL = 1e-9

#: Convergence threshold (sup-norm change of the policy) of the restricted policy iteration.
POLICY_TOL = 1e-10


# --------------------------------------------------------------------------- basics
def _single_state(game: CooperativeGame) -> None:
    if not isinstance(game, CooperativeGame):
        raise ValueError(f"game must be a CooperativeGame; got {type(game).__name__}")
    if game.n_states != 1:
        raise ValueError(
            f"reasoning analyses single-state games; this game has {game.n_states} states"
        )


def _check_alpha(alpha: float) -> float:
    a = float(alpha)
    if not math.isfinite(a) or a <= 0:
        raise ValueError(f"alpha must be finite and > 0; got {alpha!r}")
    return a


@dataclass(frozen=True, eq=False)
class OptimalJointPolicy:
    """``pi*_alpha`` of Eq. 1 for a single-state game, with its logarithm.

    ``log_policy = (Q* - V*) / alpha`` is kept separately because for small ``alpha`` the policy
    itself underflows to exact zeros while the KL terms of Def. 2.2 need ``log pi*``.
    """

    alpha: float
    policy: FloatArray
    log_policy: FloatArray
    Q: FloatArray


def optimal_joint_policy(game: CooperativeGame, alpha: float) -> OptimalJointPolicy:
    """``pi*_alpha(u) = exp((Q*(u) - V*) / alpha)`` (Eq. 1) of a single-state game.

    ``Q*`` comes from :func:`svnr_core.soft_bellman.soft_value_iteration` (``Q* = R`` when
    ``gamma = 0``) and the policy from its Boltzmann step; nothing is re-implemented here.
    """
    _single_state(game)
    a = _check_alpha(alpha)
    sol = soft_value_iteration(game, a, tol=1e-12)
    q = np.array(sol.Q[0])
    return OptimalJointPolicy(a, np.array(sol.policy[0]), log_boltzmann_policy(sol.Q, a)[0], q)


def expected_utility(game: CooperativeGame, joint: ArrayLike) -> float:
    """``U^e = E_{u ~ e}[R(u)]`` of a joint distribution ``e`` of shape ``(A_1, ..., A_N)``."""
    _single_state(game)
    e = as_joint(joint, "joint")
    if e.shape != game.action_counts:
        raise ValueError(f"joint has shape {e.shape}; the game's actions are {game.action_counts}")
    return float(np.sum(e * game.R[0]))


def optimal_utility(game: CooperativeGame) -> float:
    """``max_u R(u)``: the utility of the best deterministic joint action."""
    _single_state(game)
    return float(game.R[0].max())


def product_of(policies: Sequence[ArrayLike]) -> FloatArray:
    """The product ``prod_i pi_i(u_i)`` of independent policies (each a probability vector)."""
    if len(policies) == 0:
        raise ValueError("product_of needs at least one policy")
    out: FloatArray = np.ones(())
    for i, pi in enumerate(policies):
        v = as_joint(pi, f"policies[{i}]")
        if v.ndim != 1:
            raise ValueError(f"policies[{i}] must be a probability vector; got shape {v.shape}")
        out = np.multiply.outer(out, v)
    return out


def marginals(joint: ArrayLike) -> tuple[FloatArray, ...]:
    """The per-agent marginals ``bar pi_i(u_i) = int hat pi du_{-i}`` of a joint."""
    p = as_joint(joint, "joint")
    return tuple(
        np.asarray(p.sum(axis=tuple(a for a in range(p.ndim) if a != i)), dtype=np.float64)
        for i in range(p.ndim)
    )


def opponent_marginal(joint: ArrayLike, agent: int) -> FloatArray:
    """``pi(u_{-i}) = int pi du_i``: the joint's distribution of the others (axis ``i`` removed)."""
    p = as_joint(joint, "joint")
    _check_agent(agent, p.ndim)
    return np.asarray(p.sum(axis=agent), dtype=np.float64)


def _check_agent(agent: int, n: int) -> None:
    if isinstance(agent, bool) or not isinstance(agent, int | np.integer) or not 0 <= agent < n:
        raise ValueError(f"agent must be an id in [0, {n}); got {agent!r}")


def _check_rho(rho: ArrayLike, shape: tuple[int, ...], agent: int) -> FloatArray:
    expected = shape[:agent] + shape[agent + 1 :]
    r = as_joint(rho, f"rho_{agent}") if len(expected) > 0 else np.asarray(rho, dtype=np.float64)
    if r.shape != expected:
        raise ValueError(
            f"rho_{agent} must be a distribution over the other agents' actions, shape "
            f"{expected}; got {r.shape}"
        )
    return r


def _entropy(p: FloatArray) -> float:
    return float(-xlogy(p, p).sum())


# --------------------------------------------------------------------------- closed forms
@dataclass(frozen=True, eq=False)
class BestResponse:
    """``argmin_{pi_i} KL(pi_i rho_i || pi*)`` and the minimum (Def. 2.1, 2.2)."""

    agent: int
    kind: PolicyKind
    policy: FloatArray
    min_kl: float


def best_response(
    log_target: ArrayLike, agent: int, rho: ArrayLike, kind: PolicyKind = "independent"
) -> BestResponse:
    """The agent's optimal individual policy against a perceived opponent policy ``rho``.

    ``log_target`` is ``log pi*`` (finite; shape ``(A_1, ..., A_N)``).

    * ``kind="independent"``: ``KL(pi_i rho || pi*) = -H(rho) + sum_{u_i} pi_i(u_i)
      [log pi_i(u_i) - m(u_i)]`` with ``m(u_i) = E_rho[log pi*(u_i, u_{-i})]``; by Gibbs'
      inequality the minimiser is ``pi_i = softmax(m)`` and the minimum
      ``-H(rho) - log sum exp(m)``.  Needs ``log pi* > -inf`` where ``rho > 0``.
    * ``kind="conditional"``: by Eq. 3, ``KL(pi_i rho || pi*) = KL(rho || pi*(u_{-i})) +
      E_rho KL(pi_i(.|u_{-i}) || pi*(.|u_{-i}))``, minimised by ``pi*(u_i | u_{-i})`` with minimum
      ``KL(rho || pi*(u_{-i}))``.  The policy is returned in full joint shape.

    The softmax and log-sum-exp are :func:`svnr_core.soft_bellman.boltzmann` and
    :func:`~svnr_core.soft_bellman.soft_max` at temperature 1 (the package's one log-sum-exp).
    """
    lt = np.asarray(log_target, dtype=np.float64)
    if lt.ndim == 0 or not np.isfinite(lt).all():
        raise ValueError("log_target must be a finite array with one axis per agent")
    _check_agent(agent, lt.ndim)
    r = _check_rho(rho, lt.shape, agent)
    if kind == "independent":
        r_b = np.expand_dims(r, agent)
        m = (lt * r_b).sum(axis=tuple(a for a in range(lt.ndim) if a != agent))
        pi = np.asarray(boltzmann(m, 1.0, axis=0), dtype=np.float64)
        min_kl = -_entropy(r) - float(soft_max(m, 1.0, axis=0))
        return BestResponse(agent, kind, pi, max(min_kl, 0.0))
    if kind == "conditional":
        # log pi*(u_{-i}) = log sum_{u_i} pi*(u_i, u_{-i}), and pi*(u_i | u_{-i}) its softmax:
        # both in log space so that an underflowing pi* still gives finite, exact answers.
        log_marg = np.asarray(soft_max(lt, 1.0, axis=agent), dtype=np.float64)
        cond = np.asarray(boltzmann(lt, 1.0, axis=agent), dtype=np.float64)
        min_kl = float((xlogy(r, r) - r * log_marg).sum())
        return BestResponse(agent, kind, cond, max(min_kl, 0.0))
    raise ValueError(f"kind must be 'independent' or 'conditional'; got {kind!r}")


def perceived_joint(policy: ArrayLike, rho: ArrayLike, agent: int, kind: PolicyKind) -> FloatArray:
    """``hat pi_i = pi_i rho_i`` as a joint of shape ``(A_1, ..., A_N)``."""
    pol = np.asarray(policy, dtype=np.float64)
    r = np.asarray(rho, dtype=np.float64)
    if kind == "independent":
        shape = [1] * (r.ndim + 1)
        shape[agent] = pol.shape[0]
        return np.asarray(pol.reshape(shape) * np.expand_dims(r, agent), dtype=np.float64)
    if kind == "conditional":
        return np.asarray(pol * np.expand_dims(r, agent), dtype=np.float64)
    raise ValueError(f"kind must be 'independent' or 'conditional'; got {kind!r}")


@dataclass(frozen=True)
class ChainRuleTerms:
    """The two terms of Eq. 3 for agent ``i`` and the directly computed total."""

    agent: int
    total: float
    opponents: float
    conditional: float


def kl_chain_rule(p: ArrayLike, q: ArrayLike, agent: int) -> ChainRuleTerms:
    """Eq. 3: ``KL(p || q) = KL(p(u_{-i}) || q(u_{-i})) + E_{p(u_{-i})} KL(p(u_i|u_{-i}) ||
    q(u_i|u_{-i}))``, each term computed on its own (for checking the identity)."""
    pa = as_joint(p, "p")
    qa = as_joint(q, "q")
    if pa.shape != qa.shape:
        raise ValueError(f"p and q need equal shapes; got {pa.shape} and {qa.shape}")
    _check_agent(agent, pa.ndim)
    p_o, q_o = pa.sum(axis=agent), qa.sum(axis=agent)
    others = [a for a in range(pa.ndim) if a != agent]
    p_c = conditional(pa, agent, others)
    q_c = conditional(qa, agent, others)
    cond_term = float((np.expand_dims(p_o, agent) * rel_entr(p_c, q_c)).sum())
    return ChainRuleTerms(agent, kl_divergence(pa, qa), kl_divergence(p_o, q_o), cond_term)


# --------------------------------------------------------------------------- verdicts
@dataclass(frozen=True)
class Verdict:
    """One agent's side-by-side comparison of a definition's inequality ``lhs > rhs``.

    ``gap = lhs - rhs``; ``holds`` (the agent suffers the pathology) iff ``gap > tol``.
    """

    definition: str
    agent: int
    lhs: float
    rhs: float
    gap: float
    holds: bool
    tol: float


@dataclass(frozen=True)
class Report:
    """Verdicts of all agents; ``holds`` iff some agent's verdict holds (Def. 2.1, 2.2)."""

    definition: str
    verdicts: tuple[Verdict, ...]

    @property
    def holds(self) -> bool:
        """Whether some agent suffers the pathology."""
        return any(v.holds for v in self.verdicts)

    @property
    def agents(self) -> tuple[int, ...]:
        """The agents that suffer it."""
        return tuple(v.agent for v in self.verdicts if v.holds)


def _verdict(definition: str, agent: int, lhs: float, rhs: float, tol: float) -> Verdict:
    gap = lhs - rhs
    return Verdict(definition, agent, lhs, rhs, gap, gap > tol, tol)


def pro_verdict(
    optimal: OptimalJointPolicy,
    agent: int,
    rho: ArrayLike,
    kind: PolicyKind = "independent",
    tol: float = VERDICT_TOL,
) -> Verdict:
    """Definition 2.2 for one agent: ``min_{pi_i} KL(pi_i rho_i || pi*) >
    min_{pi_i} KL(pi_i pi*(u_{-i}) || pi*)``, both sides in closed form (:func:`best_response`).

    For ``kind="conditional"`` the right side is 0 and the left ``KL(rho_i || pi*(u_{-i}))``.
    """
    lhs = best_response(optimal.log_policy, agent, rho, kind).min_kl
    rhs = best_response(optimal.log_policy, agent, opponent_marginal(optimal.policy, agent), kind)
    return _verdict("PRO (Def. 2.2)", agent, lhs, rhs.min_kl, tol)


def ero_verdict(
    game: CooperativeGame, executed: ArrayLike, agent: int, tol: float = VERDICT_TOL
) -> Verdict:
    """Definition 2.1 for one agent: can the executed utility improve if agent ``i`` knew the
    others' actions?

    ``lhs = max_{pi_i(u_i|u_{-i})} U^{pi_i e(u_{-i})} = E_{u_{-i} ~ e}[max_{u_i} R(u_i, u_{-i})]``
    (a conditional policy can best-respond to every ``u_{-i}``; deterministic best responses are
    optimal because the utility is linear in ``pi_i``), ``rhs = U^e``.  For a product ``e`` of
    executed policies this is exactly Def. 2.1; for a correlated ``e`` (a negotiated agreement)
    the others' actions are drawn from ``e``'s marginal ``e(u_{-i})``.
    """
    _single_state(game)
    e = as_joint(executed, "executed")
    if e.shape != game.action_counts:
        raise ValueError(f"executed has shape {e.shape}; the actions are {game.action_counts}")
    _check_agent(agent, e.ndim)
    r = game.R[0]
    lhs = float((e.sum(axis=agent) * r.max(axis=agent)).sum())
    return _verdict("ERO (Def. 2.1)", agent, lhs, float((e * r).sum()), tol)


def ero_report(game: CooperativeGame, executed: ArrayLike, tol: float = VERDICT_TOL) -> Report:
    """Definition 2.1 for every agent."""
    return Report(
        "ERO (Def. 2.1)",
        tuple(ero_verdict(game, executed, i, tol) for i in range(game.n_agents)),
    )


def pro_report(
    optimal: OptimalJointPolicy,
    rhos: Sequence[ArrayLike],
    kind: PolicyKind = "independent",
    tol: float = VERDICT_TOL,
) -> Report:
    """Definition 2.2: PRO iff some agent's verdict holds."""
    n = optimal.policy.ndim
    if len(rhos) != n:
        raise ValueError(f"need one perceived opponent policy per agent ({n}); got {len(rhos)}")
    return Report(
        "PRO (Def. 2.2)", tuple(pro_verdict(optimal, i, rhos[i], kind, tol) for i in range(n))
    )


@dataclass(frozen=True)
class ConsistencyVerdict:
    """Definition 2.3 for one agent.

    ``training_gap = KL(rho_i || pi*(u_{-i}))`` (zero iff the agent reasons about the others with
    the optimal opponent policy during training); ``execution_gap`` is the total-variation
    distance between the executed joint and the agent's perceived joint (zero iff the others'
    executed behaviour is what the agent reasons).  ``holds`` iff both are ``<= tol``.
    """

    agent: int
    training_gap: float
    execution_gap: float
    holds: bool
    tol: float


@dataclass(frozen=True)
class ConsistencyReport:
    """Definition 2.3 for all agents; ``holds`` iff every agent reasons consistently."""

    verdicts: tuple[ConsistencyVerdict, ...]

    @property
    def holds(self) -> bool:
        """Whether all agents meet consistent reasoning."""
        return all(v.holds for v in self.verdicts)


def consistency_report(
    optimal: OptimalJointPolicy,
    rhos: Sequence[ArrayLike],
    perceived: Sequence[ArrayLike],
    executed: ArrayLike,
    tol: float = VERDICT_TOL,
) -> ConsistencyReport:
    """Definition 2.3 (consistent reasoning), per agent; see :class:`ConsistencyVerdict`."""
    n = optimal.policy.ndim
    if len(rhos) != n or len(perceived) != n:
        raise ValueError(f"need one rho and one perceived joint per agent ({n})")
    e = as_joint(executed, "executed")
    out = []
    for i in range(n):
        r = _check_rho(rhos[i], optimal.policy.shape, i)
        train = kl_divergence(r, opponent_marginal(optimal.policy, i))
        hat = as_joint(perceived[i], f"perceived[{i}]")
        execution = 0.5 * float(np.abs(e - hat).sum())
        out.append(ConsistencyVerdict(i, train, execution, train <= tol and execution <= tol, tol))
    return ConsistencyReport(tuple(out))


# --------------------------------------------------------------------------- reasoning models
@dataclass(frozen=True, eq=False)
class ReasoningOutcome:
    """What a reasoning model does on a single-state game at temperature ``alpha``.

    ``perceived[i]`` is agent ``i``'s perceived joint ``hat pi_i``, ``opponents[i]`` its ``rho_i``,
    ``kind`` the kind of individual policy, ``executed`` the joint actually played.
    """

    model: str
    game: CooperativeGame
    optimal: OptimalJointPolicy
    kind: PolicyKind
    opponents: tuple[FloatArray, ...]
    perceived: tuple[FloatArray, ...]
    executed: FloatArray
    tol: float = field(default=VERDICT_TOL)

    @property
    def executed_utility(self) -> float:
        """``U`` of the executed joint."""
        return expected_utility(self.game, self.executed)

    @property
    def optimal_utility(self) -> float:
        """``max_u R(u)``."""
        return optimal_utility(self.game)

    def pro(self) -> Report:
        """Definition 2.2 with this model's ``rho_i`` and kind of individual policy."""
        return pro_report(self.optimal, self.opponents, self.kind, self.tol)

    def ero(self) -> Report:
        """Definition 2.1 on this model's executed joint."""
        return ero_report(self.game, self.executed, self.tol)

    def consistency(self) -> ConsistencyReport:
        """Definition 2.3."""
        return consistency_report(
            self.optimal, self.opponents, self.perceived, self.executed, self.tol
        )


def _uniform_opponents(shape: tuple[int, ...]) -> list[FloatArray]:
    out = []
    for i in range(len(shape)):
        other = shape[:i] + shape[i + 1 :]
        out.append(np.full(other, 1.0 / math.prod(other)))
    return out


def history_opponent_model(
    game: CooperativeGame, alpha: float, opponents: Sequence[ArrayLike] | None = None
) -> ReasoningOutcome:
    """MADDPG-like reasoning: an independent policy against a perceived opponent from history.

    Each agent fits ``rho_i`` to the others' past behaviour (``opponents``; uniform by default,
    i.e. a history of uniform exploration) and takes the closed-form
    ``pi_i = argmin KL(pi_i rho_i || pi*)``; it executes ``bar pi_i = int pi_i rho_i du_{-i} =
    pi_i``.  Figure 1 (left) with uniform ``rho``: agent A's ``m(u_A) = (1.5, 2) / alpha`` so it
    settles on ``u_A = 1`` and the team earns 2 instead of 3 (PRO).
    """
    _single_state(game)
    opt = optimal_joint_policy(game, alpha)
    shape = game.action_counts
    if opponents is None:
        rhos = _uniform_opponents(shape)
    else:
        if len(opponents) != len(shape):
            raise ValueError(f"need one rho per agent ({len(shape)}); got {len(opponents)}")
        rhos = [_check_rho(r, shape, i) for i, r in enumerate(opponents)]
    policies = [best_response(opt.log_policy, i, rhos[i]).policy for i in range(len(shape))]
    perceived = tuple(
        perceived_joint(policies[i], rhos[i], i, "independent") for i in range(len(shape))
    )
    return ReasoningOutcome(
        "history opponent model (MADDPG-like)",
        game,
        opt,
        "independent",
        tuple(rhos),
        perceived,
        product_of(policies),
    )


def joint_sampling_soft_q(game: CooperativeGame, alpha: float) -> ReasoningOutcome:
    """MASQL-like reasoning: every agent perceives the optimal joint, executes its own marginal.

    ``hat pi_i = pi*`` (so ``rho_i = pi*(u_{-i})`` and the individual policy is the conditional
    ``pi*(u_i | u_{-i})``: PRO-free), but each agent samples a joint action with its own noise and
    plays only its own part, so the executed joint is ``prod_i pi*(u_i)``.  Figure 1 (right):
    ``pi*`` splits over two coordinated optima, the marginals are uniform and the executed payoff
    is 1.5 instead of 3 (ERO).
    """
    _single_state(game)
    opt = optimal_joint_policy(game, alpha)
    n = game.n_agents
    rhos = tuple(opponent_marginal(opt.policy, i) for i in range(n))
    return ReasoningOutcome(
        "joint-sampling soft Q (MASQL-like)",
        game,
        opt,
        "conditional",
        rhos,
        tuple(opt.policy for _ in range(n)),
        product_of(marginals(opt.policy)),
    )


def negotiated_reasoning(
    game: CooperativeGame,
    alpha: float,
    sets: NegotiationSets | Sequence[Iterable[int]] | None = None,
) -> ReasoningOutcome:
    """Negotiated reasoning (SVNR): the agents negotiate with the conditionals ``pi*(u_i|u_{C_i})``.

    The agreement (the limit of the negotiation rounds, Eq. 2) is what negotiation with the true
    conditionals of ``pi*`` over ``sets`` composes
    (:func:`~svnr_core.factorization.represented_joint`; default sets: the strictly nested
    ``C_i = {1..i}``).  With nested sets it equals ``pi*`` (Thm C.1), so
    ``rho_i = pi*(u_{-i})`` and the agents are PRO-free (Thm 3.1).  Every agent runs the same
    negotiation from the same shared noise (common randomness, App. J) and executes its own
    component of the agreed joint action, so the executed joint *is* the agreement; as
    ``alpha -> 0`` it concentrates on an optimal joint action and the agents are ERO-free
    (Thm 3.2).
    """
    _single_state(game)
    opt = optimal_joint_policy(game, alpha)
    n = game.n_agents
    s = NegotiationSets.strictly_nested(n) if sets is None else as_negotiation_sets(sets, n)
    agreement = represented_joint(opt.policy, s)
    rhos = tuple(opponent_marginal(agreement, i) for i in range(n))
    return ReasoningOutcome(
        "negotiated reasoning (SVNR)",
        game,
        opt,
        "conditional",
        rhos,
        tuple(agreement for _ in range(n)),
        agreement,
    )


# --------------------------------------------------------------------------- policy iteration
def mean_field_projection(
    log_target: ArrayLike,
    init: Sequence[ArrayLike] | None = None,
    *,
    tol: float = POLICY_TOL,
    max_sweeps: int = 10_000,
) -> tuple[FloatArray, ...]:
    """``argmin_{q = prod q_i} KL(q || target)`` by coordinate descent from ``init`` (uniform).

    ``log_target`` is the (finite) log of the target joint.

    Each coordinate step is the closed form of :func:`best_response` with
    ``rho_i = prod_{j != i} q_j``; Gauss-Seidel sweeps never increase the KL, so the iteration
    stops at a local minimum (a mean-field fixed point) -- in RO games, the sub-optimal one.
    """
    log_p = np.asarray(log_target, dtype=np.float64)
    if log_p.ndim == 0 or not np.isfinite(log_p).all():
        raise ValueError("log_target must be a finite array with one axis per agent")
    if abs(float(np.exp(log_p).sum()) - 1.0) > 1e-8:
        raise ValueError("exp(log_target) must sum to 1")
    n = log_p.ndim
    if init is None:
        qs = [np.full(a, 1.0 / a) for a in log_p.shape]
    else:
        if len(init) != n:
            raise ValueError(f"init needs {n} factors; got {len(init)}")
        qs = [as_joint(q, f"init[{i}]") for i, q in enumerate(init)]
    for _ in range(max_sweeps):
        change = 0.0
        for i in range(n):
            rho = product_of(qs[:i] + qs[i + 1 :]) if n > 1 else np.ones(())
            new = best_response(log_p, i, rho).policy
            change = max(change, float(np.abs(new - qs[i]).max()))
            qs[i] = new
        if change <= tol:
            break
    return tuple(qs)


@dataclass(frozen=True, eq=False)
class RestrictedIterationResult:
    """Soft policy iteration with the joint policy restricted to a factorization family.

    ``policy`` has the game's joint shape ``(|S|, A_1, ..., A_N)``; ``Q`` is its soft Q-function;
    ``iterations`` the evaluation/improvement rounds; ``converged`` whether the policy stopped
    changing (sup norm ``<= tol``).
    """

    family: str
    policy: FloatArray
    Q: FloatArray
    iterations: int
    converged: bool


def restricted_soft_policy_iteration(
    game: CooperativeGame,
    alpha: float,
    family: NegotiationSets | Sequence[Iterable[int]] | Literal["product"],
    *,
    tol: float = POLICY_TOL,
    max_iter: int = 1_000,
) -> RestrictedIterationResult:
    """Soft policy iteration (Sec. 4.2) whose improvement step is projected onto a family.

    From the uniform joint policy: evaluate ``Q^pi`` exactly
    (:func:`svnr_core.soft_bellman.soft_policy_evaluation`, Lemma 4.1), form the Boltzmann target
    ``pi_target = boltzmann_policy(Q^pi, alpha)`` (Lemma 4.2) and replace it, per state, by

    * negotiation sets: the joint that negotiation with ``pi_target``'s conditionals
      ``pi_target(u_i | u_{C_i})`` composes (:func:`~svnr_core.factorization.represented_joint`);
      for nested sets this is ``pi_target`` itself, so the iteration is exact soft policy
      iteration and reaches ``pi*`` (Thm 4.3);
    * ``"product"``: the mean-field projection ``argmin_{prod q_i} KL(q || pi_target)``, warm
      started from the current product policy (independent learners).  In the climbing and
      penalty games this stays in the sub-optimal equilibrium.
    """
    a = _check_alpha(alpha)
    n = game.n_agents
    sets: NegotiationSets | None = None
    if isinstance(family, str):
        if family != "product":
            raise ValueError(f"family must be negotiation sets or 'product'; got {family!r}")
        name = "product (mean-field)"
    else:
        sets = as_negotiation_sets(family, n)
        name = f"sets {sets}"
    pi = np.full(game.joint_shape, 1.0 / game.n_joint_actions)
    factors: list[tuple[FloatArray, ...]] = [
        tuple(np.full(c, 1.0 / c) for c in game.action_counts) for _ in range(game.n_states)
    ]
    q = np.zeros(game.joint_shape)
    converged = False
    k = 0
    for k in range(1, max_iter + 1):  # noqa: B007 -- k is reported
        q = np.array(soft_policy_evaluation(game, pi, a).Q)
        target = boltzmann_policy(q, a)
        log_target = log_boltzmann_policy(q, a)
        new = np.empty_like(pi)
        for s in range(game.n_states):
            if sets is None:
                factors[s] = mean_field_projection(log_target[s], factors[s], tol=tol)
                new[s] = product_of(factors[s])
            else:
                new[s] = represented_joint(target[s], sets)
        change = float(np.abs(new - pi).max())
        pi = new
        if change <= tol:
            converged = True
            break
    q = np.array(soft_policy_evaluation(game, pi, a).Q)
    return RestrictedIterationResult(name, pi, q, k, converged)
