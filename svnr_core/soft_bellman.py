"""Maximum-entropy (soft) dynamic programming on a finite cooperative game (paper Sec. 4.2).

Notation (layout of :mod:`svnr_core.games`): ``Q[s, u_1, ..., u_N]``, joint policies
``pi[s, u_1, ..., u_N]`` with ``sum_u pi(u|s) = 1``, temperature ``alpha > 0``.

* Soft value (the normaliser of Eq. 1; Eq. 23 with the counting measure)::

      V(s) = alpha * log sum_u exp(Q(s, u) / alpha)

  computed as ``m + alpha * log sum_u exp((Q - m) / alpha)`` with ``m = max_u Q(s, u)``, so that
  no exponent is positive (no overflow) and the sum is at least 1 (no ``log 0``).  It satisfies
  the sandwich ``max_u Q <= V <= max_u Q + alpha log |U|`` and tends to the max as
  ``alpha -> 0``.
* Boltzmann joint policy (Eq. 1): ``pi_alpha(u|s) = exp((Q(s, u) - V(s)) / alpha)``.
* Soft value of a joint policy (below Eq. 6), with the convention ``0 log 0 = 0``::

      V^pi(s) = sum_u pi(u|s) (Q(s, u) - alpha log pi(u|s)).

* Soft Bellman operators (Eq. 6): ``(Gamma_pi Q)(s, u) = R(s, u) + gamma E_{s'}[V^pi(s')]``
  for a fixed joint policy (policy evaluation, Lemma 4.1) and
  ``(T Q)(s, u) = R(s, u) + gamma E_{s'}[V(s')]`` with the optimal soft value, i.e.
  ``Gamma_{pi_alpha(Q)} Q`` (policy evaluation composed with the improvement step of Lemma 4.2).
  Both are monotone ``gamma``-contractions in the sup norm with ``T(Q + c) = TQ + gamma c``.

Solvers return a frozen :class:`SoftSolution`.  Every solver reports ``residual``, the sup-norm
Bellman residual ``||Gamma Q - Q||`` of the *returned* ``Q`` for the operator it solves, and
``error_bound``, a guaranteed bound on ``||Q - Q_fixed||`` (in exact arithmetic) that follows from
the contraction property: ``||Q - Q*|| <= ||Gamma Q - Q|| / (1 - gamma)``, and after a sweep
``Q_{k+1} = Gamma Q_k``, ``||Q_{k+1} - Q*|| <= gamma / (1 - gamma) ||Q_{k+1} - Q_k||``.

The log-sum-exp lives in exactly one place, :func:`soft_max`, written against the array API
(``array_api_compat``) so that the torch layer calls the same code on tensors, with autograd;
:func:`soft_value`, :func:`boltzmann_policy` and :func:`importance_sampled_soft_value` (the
critic target of Eq. 11) are built on it.  This module never imports torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from array_api_compat import array_namespace
from numpy.typing import ArrayLike
from scipy.special import xlogy

from svnr_core.games import CooperativeGame, FloatArray, as_float_array, entry_name

__all__ = [
    "DEFAULT_MAX_ITER",
    "POLICY_SUM_TOL",
    "SPARSE_LU_MAX_ROW_NNZ",
    "EvaluationMethod",
    "LinearSolver",
    "SoftSolution",
    "boltzmann",
    "boltzmann_policy",
    "hard_bellman_operator",
    "importance_sampled_soft_value",
    "log_boltzmann_policy",
    "soft_bellman_operator",
    "soft_max",
    "soft_policy_bellman_operator",
    "soft_policy_evaluation",
    "soft_policy_iteration",
    "soft_policy_value",
    "soft_value",
    "soft_value_iteration",
    "uniform_policy",
]

ArrayT = TypeVar("ArrayT")
Axis = int | tuple[int, ...]

#: Absolute tolerance on ``sum_u pi(u|s) == 1`` for a joint policy given by the caller (same
#: reasoning as ``games.ROW_SUM_TOL``: normalised draws are exact to a few ulps).
POLICY_SUM_TOL = 1e-8
#: The sparse path forms ``P_pi`` from the CSR transition matrix (one pass over the non-zeros)
#: and factorises ``I - gamma P_pi`` with a sparse LU only when ``P_pi`` has at most this many
#: non-zeros per row on average; beyond that, SuperLU's fill-in makes it slower than a dense LU
#: (measured: random ``P_pi`` with 1000 states, 3 non-zeros per row: 10 ms sparse vs 19 ms dense;
#: 10 per row: 50 ms vs 15 ms), so ``P_pi`` is densified and solved densely.
SPARSE_LU_MAX_ROW_NNZ = 4
#: Default cap on sweeps of the iterative solvers.  With ``gamma <= 0.99`` and a reachable
#: ``tol`` they stop after a few thousand sweeps at most; the cap only ends runs whose ``tol`` lies
#: below the floating-point floor ``~ eps ||Q|| / (1 - gamma)`` (then ``converged`` is False).
DEFAULT_MAX_ITER = 10_000


# ------------------------------------------------------------------------------ validation
def _check_alpha(alpha: float) -> float:
    """``alpha`` as a float, or a ``ValueError`` unless it is finite and ``> 0``."""
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a real number > 0; got {alpha!r}") from None
    if not math.isfinite(a) or a <= 0.0:
        raise ValueError(f"alpha must be finite and > 0; got {alpha!r}")
    return a


def _check_tol(tol: float) -> float:
    t = float(tol)
    if not math.isfinite(t) or t <= 0.0:
        raise ValueError(f"tol must be finite and > 0; got {tol!r}")
    return t


def _check_max_iter(max_iter: int) -> int:
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1; got {max_iter!r}")
    return int(max_iter)


def _check_solver(solver: str) -> None:
    if solver not in ("auto", "dense", "sparse"):
        raise ValueError(f"solver must be 'auto', 'dense' or 'sparse'; got {solver!r}")


def _check_finite(x: FloatArray, name: str) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{entry_name(name, idx)} = {float(x[idx])!r} is not finite")


def _check_q_table(Q: ArrayLike, name: str = "Q") -> FloatArray:
    """A finite float64 table of shape ``(|S|, |U_1|, ..., |U_N|)`` with ``N >= 1``."""
    q = as_float_array(Q, name)
    if q.ndim < 2 or q.size == 0:
        raise ValueError(
            f"{name} must have shape (|S|, |U_1|, ..., |U_N|) with non-empty axes and at least "
            f"one action axis; got shape {q.shape}"
        )
    _check_finite(q, name)
    return q


def _check_game_q(game: CooperativeGame, Q: ArrayLike, name: str = "Q") -> FloatArray:
    q = _check_q_table(Q, name)
    if q.shape != game.joint_shape:
        raise ValueError(f"{name} has shape {q.shape}; the game needs {game.joint_shape}")
    return q


def _check_policy_table(
    policy: ArrayLike, shape: tuple[int, ...], name: str = "policy"
) -> FloatArray:
    """A joint policy of the given shape: finite, non-negative, each state's row sums to 1."""
    pi = as_float_array(policy, name)
    if pi.shape != shape:
        raise ValueError(f"{name} has shape {pi.shape}; expected {shape}")
    _check_finite(pi, name)
    if (pi < 0).any():
        idx = tuple(int(i) for i in np.argwhere(pi < 0)[0])
        raise ValueError(f"{entry_name(name, idx)} = {float(pi[idx])!r} is a negative probability")
    sums = pi.reshape(shape[0], -1).sum(axis=1)
    bad = np.abs(sums - 1.0) > POLICY_SUM_TOL
    if bad.any():
        s = int(np.argmax(bad))
        raise ValueError(f"{name}[{s}] (state {s}) sums to {float(sums[s])!r}, not 1")
    return pi


# ---------------------------------------------------------- array-API-generic primitives
def _shifted_exp(xp: Any, x: Any, alpha: float, axis: Axis) -> tuple[Any, Any]:
    """``(m, exp((x - m) / alpha))`` with ``m`` the max over ``axis`` (kept dims).

    Rows whose max is not finite (all ``-inf``) are shifted by 0 instead, which keeps
    ``-inf`` there instead of producing ``-inf - -inf = nan``.
    """
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    return m, xp.exp((x - m) / alpha)


def soft_max(x: ArrayT, alpha: float, axis: Axis = -1) -> ArrayT:
    """``alpha * log sum exp(x / alpha)`` over ``axis``: the one log-sum-exp of the package.

    Computed as ``m + alpha * log sum exp((x - m) / alpha)`` with ``m = max x``: every exponent
    is ``<= 0`` and the sum is ``>= 1``, so nothing overflows and no ``log 0`` arises for finite
    ``x``, whatever ``alpha > 0`` (``|x| <= 1e8`` with ``alpha = 1e-8`` gives exponents down to
    ``-2e16``, i.e. ``exp = 0``, and the result is the max).  Generic over the array API: ``x``
    may be a numpy array or a torch tensor (autograd flows through; the gradient is the
    Boltzmann distribution); the dtype and device of ``x`` are kept.

    Raises ``ValueError`` unless ``alpha`` is finite and ``> 0``.
    """
    a = _check_alpha(alpha)
    xp = array_namespace(x)
    m, z = _shifted_exp(xp, x, a, axis)
    out = m + a * xp.log(xp.sum(z, axis=axis, keepdims=True))
    return xp.squeeze(out, axis=axis)  # type: ignore[no-any-return]


def boltzmann(x: ArrayT, alpha: float, axis: Axis = -1) -> ArrayT:
    """``exp((x - soft_max(x, alpha, axis)) / alpha)``: the softmax of ``x / alpha`` over ``axis``.

    Array-API generic like :func:`soft_max` (same shifted exponentials); normalised by the
    computed sum, so each slice sums to 1 up to rounding.
    """
    a = _check_alpha(alpha)
    xp = array_namespace(x)
    _, z = _shifted_exp(xp, x, a, axis)
    return z / xp.sum(z, axis=axis, keepdims=True)  # type: ignore[no-any-return]


def importance_sampled_soft_value(
    q_samples: ArrayT, alpha: float, log_proposal: Any = 0.0, axis: int = -1
) -> ArrayT:
    """Importance-sampled soft value, the critic target of Eq. 11 (``V^theta`` below it).

    With ``M`` samples ``u_j ~ p`` along ``axis`` and ``log_proposal = log p(u_j)``::

        V = alpha * (logsumexp_j(q_j / alpha - log p(u_j)) - log M)
          = alpha * log( (1/M) sum_j exp(q_j / alpha) / p(u_j) ),

    an estimate of ``alpha log integral exp(Q / alpha) du`` (Eq. 23).  ``alpha`` multiplies the
    whole bracket, the importance constants included, and the computation stays in log space
    (``soft_max`` of ``q - alpha log p``), which is stable for small ``alpha``.  For a uniform
    proposal on ``[-1, 1]^d`` pass the scalar ``log_proposal = -d log 2``.  ``log_proposal`` is a
    Python scalar or an array of the same namespace broadcastable to ``q_samples``.

    Array-API generic (numpy, torch with autograd); keeps the dtype of ``q_samples``.
    """
    a = _check_alpha(alpha)
    n = int(q_samples.shape[axis])  # type: ignore[attr-defined]
    if n < 1:
        raise ValueError(f"q_samples needs at least one sample along axis {axis}; got 0")
    shifted = q_samples - a * log_proposal
    return soft_max(shifted, a, axis) - a * math.log(n)  # type: ignore[no-any-return]


# -------------------------------------------------------------------- numpy-facing API
def soft_value(Q: ArrayLike, alpha: float) -> FloatArray:
    """Optimal soft value ``V(s) = alpha log sum_u exp(Q(s, u) / alpha)`` (normaliser of Eq. 1).

    ``Q`` has shape ``(|S|, |U_1|, ..., |U_N|)``; the sum runs over all joint actions (every axis
    but the first); returns shape ``(|S|,)``.  See :func:`soft_max` for stability.

    Raises ``ValueError`` for ``alpha <= 0``, a non-finite entry or a table without action axis.
    """
    a = _check_alpha(alpha)
    q = _check_q_table(Q)
    return _soft_value(q, a)


def _soft_value(q: FloatArray, alpha: float) -> FloatArray:
    return soft_max(q.reshape(q.shape[0], -1), alpha, axis=-1)


def boltzmann_policy(Q: ArrayLike, alpha: float) -> FloatArray:
    """The Boltzmann joint policy of Eq. 1, ``pi(u|s) = exp((Q(s, u) - V(s)) / alpha)``.

    Same shape as ``Q``; normalised over all joint actions of each state.  This is also the
    soft policy improvement step of Lemma 4.2 (``pi' = boltzmann_policy(Q^pi, alpha)``).
    """
    a = _check_alpha(alpha)
    q = _check_q_table(Q)
    return _boltzmann_policy(q, a)


def _boltzmann_policy(q: FloatArray, alpha: float) -> FloatArray:
    flat: FloatArray = boltzmann(q.reshape(q.shape[0], -1), alpha, axis=-1)
    return flat.reshape(q.shape)


def log_boltzmann_policy(Q: ArrayLike, alpha: float) -> FloatArray:
    """``log pi(u|s) = (Q(s, u) - V(s)) / alpha``: Eq. 1 in log space.

    Finite even where :func:`boltzmann_policy` underflows to 0 at small ``alpha``.
    """
    a = _check_alpha(alpha)
    q = _check_q_table(Q)
    v = _soft_value(q, a)
    return np.asarray((q - v.reshape((-1,) + (1,) * (q.ndim - 1))) / a, dtype=np.float64)


def uniform_policy(shape: tuple[int, ...]) -> FloatArray:
    """The uniform joint policy ``1 / |U|`` of the given ``(|S|, |U_1|, ..., |U_N|)`` shape."""
    n_u = math.prod(shape[1:])
    return np.full(shape, 1.0 / n_u)


def soft_policy_value(Q: ArrayLike, policy: ArrayLike, alpha: float) -> FloatArray:
    """``V^pi(s) = sum_u pi(u|s) (Q(s, u) - alpha log pi(u|s))`` (below Eq. 6), ``0 log 0 = 0``.

    Equals ``E_pi[Q] + alpha H(pi(.|s))``; by the Gibbs variational principle it is at most
    :func:`soft_value` of ``Q``, with equality iff ``pi`` is the Boltzmann policy of ``Q``.
    """
    a = _check_alpha(alpha)
    q = _check_q_table(Q)
    pi = _check_policy_table(policy, q.shape)
    return _soft_policy_value(q, pi, a)


def _soft_policy_value(q: FloatArray, pi: FloatArray, alpha: float) -> FloatArray:
    n_s = q.shape[0]
    q2 = q.reshape(n_s, -1)
    p2 = pi.reshape(n_s, -1)
    # xlogy(p, p) = p log p with the convention 0 log 0 = 0 (no nan where pi = 0).
    return np.asarray(np.sum(p2 * q2 - alpha * xlogy(p2, p2), axis=1), dtype=np.float64)


def _backup(game: CooperativeGame, v: FloatArray) -> FloatArray:
    """``R + gamma E_{s'}[v(s')]`` (the right-hand side of Eq. 6) for a next-state value ``v``."""
    if game.gamma == 0.0:
        return np.array(game.R)
    out = game.expected_next(v)
    out *= game.gamma
    out += game.R
    return out


def soft_bellman_operator(game: CooperativeGame, Q: ArrayLike, alpha: float) -> FloatArray:
    """``(T Q)(s, u) = R(s, u) + gamma E_{s' ~ P(.|s, u)}[V(s')]`` with ``V = soft_value(Q)``.

    Eq. 6 with the optimal soft value (the Boltzmann policy of ``Q`` plugged into
    ``Gamma_pi``).  A monotone ``gamma``-contraction in the sup norm, ``T(Q + c) = TQ + gamma c``.
    Cost: one pass over ``P`` (a GEMV ``P.reshape(|S||U|, |S|) @ V``, CSR for sparse games).
    """
    a = _check_alpha(alpha)
    q = _check_game_q(game, Q)
    return _backup(game, _soft_value(q, a))


def soft_policy_bellman_operator(
    game: CooperativeGame, Q: ArrayLike, policy: ArrayLike, alpha: float
) -> FloatArray:
    """``(Gamma_pi Q)(s, u) = R(s, u) + gamma E_{s'}[V^pi(s')]`` (Eq. 6, fixed joint policy).

    Its unique fixed point is the soft Q-function ``Q^pi`` of ``pi`` (Lemma 4.1).
    """
    a = _check_alpha(alpha)
    q = _check_game_q(game, Q)
    pi = _check_policy_table(policy, game.joint_shape)
    return _backup(game, _soft_policy_value(q, pi, a))


def hard_bellman_operator(game: CooperativeGame, Q: ArrayLike) -> FloatArray:
    """``(T_0 Q)(s, u) = R(s, u) + gamma E_{s'}[max_u' Q(s', u')]``: the ``alpha -> 0`` limit.

    ``|T_alpha Q - T_0 Q| <= gamma alpha log |U|`` entrywise (the sandwich of :func:`soft_value`).
    """
    q = _check_game_q(game, Q)
    return _backup(game, np.max(q.reshape(q.shape[0], -1), axis=1))


# ----------------------------------------------------------------------------- solvers
@dataclass(frozen=True, eq=False)
class SoftSolution:
    """Result of a soft dynamic-programming solver (arrays are read-only).

    Attributes
    ----------
    Q:
        The soft Q-table, shape ``(|S|, |U_1|, ..., |U_N|)``.
    V:
        Its state values, shape ``(|S|,)``: :func:`soft_value` of ``Q`` for the control solvers,
        :func:`soft_policy_value` of ``(Q, policy)`` for policy evaluation.
    policy:
        The joint policy: the Boltzmann policy of ``Q`` (Eq. 1) for the control solvers, the
        evaluated policy for policy evaluation.
    iterations:
        Bellman sweeps (value iteration, iterative evaluation), linear solves (exact
        evaluation: 1) or evaluation/improvement rounds (policy iteration).
    residual:
        ``||Gamma Q - Q||_inf`` of the returned ``Q`` for the solved operator (``T`` for the
        control solvers, ``Gamma_pi`` for evaluation), measured after the solve.
    error_bound:
        Guaranteed (in exact arithmetic) bound on ``||Q - Q_fixed||_inf`` from the contraction
        property; the floating-point floor ``~ eps ||Q|| / (1 - gamma)`` comes on top.
    converged:
        Whether ``error_bound <= tol``.
    """

    Q: FloatArray
    V: FloatArray
    policy: FloatArray
    iterations: int
    residual: float
    error_bound: float
    converged: bool

    def __post_init__(self) -> None:
        for name in ("Q", "V", "policy"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)


def _sup(x: FloatArray) -> float:
    return float(np.max(np.abs(x)))


def _control_solution(
    game: CooperativeGame, q: FloatArray, alpha: float, iterations: int, bound: float, tol: float
) -> SoftSolution:
    """Package ``q`` with its Boltzmann policy, soft value and measured residual under ``T``."""
    residual = _sup(_backup(game, _soft_value(q, alpha)) - q)
    # gamma = 0: T is constant (= R), so ||Q - Q*|| = ||Q - TQ|| exactly.
    error = residual if game.gamma == 0.0 else min(bound, residual / (1.0 - game.gamma))
    return SoftSolution(
        Q=q,
        V=_soft_value(q, alpha),
        policy=_boltzmann_policy(q, alpha),
        iterations=iterations,
        residual=residual,
        error_bound=error,
        converged=error <= tol,
    )


def soft_value_iteration(
    game: CooperativeGame,
    alpha: float,
    tol: float = 1e-8,
    *,
    Q0: ArrayLike | None = None,
    max_iter: int = DEFAULT_MAX_ITER,
) -> SoftSolution:
    """Soft value iteration ``Q_{k+1} = T Q_k`` from ``Q0`` (zeros by default).

    Stopping rule (sound, unlike span-based rules): ``T`` is a ``gamma``-contraction, so
    ``||Q_{k+1} - Q*|| <= gamma / (1 - gamma) ||Q_{k+1} - Q_k||``; the loop stops as soon as this
    bound is ``<= tol`` and returns ``Q_{k+1}``, so ``||Q - Q*||_inf <= tol`` is guaranteed in
    exact arithmetic.  With ``gamma = 0`` one sweep gives ``Q = R`` exactly.  If ``max_iter``
    sweeps do not reach ``tol`` (it lies below the floating-point floor), ``converged`` is False
    and ``error_bound`` still holds.
    """
    a = _check_alpha(alpha)
    t = _check_tol(tol)
    n = _check_max_iter(max_iter)
    q = np.zeros(game.joint_shape) if Q0 is None else np.array(_check_game_q(game, Q0, "Q0"))
    g = game.gamma
    bound = math.inf
    k = 0
    for k in range(1, n + 1):  # noqa: B007 -- k is reported
        q_next = _backup(game, _soft_value(q, a))
        delta = _sup(q_next - q)
        q = q_next
        bound = g / (1.0 - g) * delta
        if bound <= t:
            break
    return _control_solution(game, q, a, k, bound, t)


EvaluationMethod = Literal["exact", "iterative"]
LinearSolver = Literal["auto", "dense", "sparse"]


def _policy_transition_dense(game: CooperativeGame, pi: FloatArray) -> FloatArray:
    """``P_pi[s, s'] = sum_u pi(u|s) P[s, u, s']`` by one batched GEMV over ``P``."""
    n_s, n_u = game.n_states, game.n_joint_actions
    p3 = game.transition_matrix.reshape(n_s, n_u, n_s)
    return np.asarray(np.matmul(pi[:, np.newaxis, :], p3)[:, 0, :], dtype=np.float64)


def _policy_transition_sparse(game: CooperativeGame, pi: FloatArray) -> sp.csr_array:
    """``P_pi = B @ P`` as CSR, with ``B[s, s |U| + u] = pi(u|s)`` (block-diagonal rows)."""
    n_s, n_u = game.n_states, game.n_joint_actions
    b = sp.csr_array(
        (pi.ravel(), np.arange(n_s * n_u), np.arange(0, n_s * n_u + 1, n_u)),
        shape=(n_s, n_s * n_u),
    )
    return sp.csr_array(b @ game.transition_csr)


def _solve_policy_values(
    game: CooperativeGame, pi: FloatArray, alpha: float, solver: LinearSolver
) -> FloatArray:
    """``V^pi = (I - gamma P_pi)^{-1} (r_pi + alpha H_pi)`` on the ``|S|`` state system.

    Substituting ``Q = R + gamma P V`` into ``V^pi = sum_u pi (Q - alpha log pi)`` gives the
    ``|S| x |S|`` system above (``r_pi = sum_u pi R``, ``H_pi = -sum_u pi log pi``), instead of the
    ``|S||U| x |S||U|`` system in ``Q``: forming ``P_pi`` is one pass over ``P`` and the solve is
    ``O(|S|^3)`` dense (or sparse LU), against ``O((|S||U|)^3)``.  ``I - gamma P_pi`` is strictly
    diagonally dominant (rows of ``P_pi`` sum to 1), hence invertible with
    ``||(I - gamma P_pi)^{-1}||_inf <= 1 / (1 - gamma)``: the solve is well conditioned.

    Sparse path: ``P_pi = B @ P_csr`` costs one pass over the non-zeros of ``P``; the system is
    then factorised by SuperLU when ``P_pi`` has at most ``SPARSE_LU_MAX_ROW_NNZ`` non-zeros per
    row on average (local transitions: a 3333-state chain solves in about a millisecond against
    more than a second densely, ``nox -s bench``), and densely otherwise (fill-in would make the
    sparse LU slower than LAPACK).
    """
    n_s = game.n_states
    r2 = game.R.reshape(n_s, -1)
    rhs = np.sum(pi * r2 - alpha * xlogy(pi, pi), axis=1)
    if game.gamma == 0.0:
        return np.asarray(rhs, dtype=np.float64)
    use_sparse = solver == "sparse" or (solver == "auto" and game.is_sparse)
    if use_sparse:
        p_pi = _policy_transition_sparse(game, pi)
        if p_pi.nnz <= SPARSE_LU_MAX_ROW_NNZ * n_s:
            a_mat = sp.eye_array(n_s, format="csr") - game.gamma * p_pi
            return np.asarray(spla.spsolve(sp.csc_array(a_mat), rhs), dtype=np.float64)
        p_pi_dense = p_pi.toarray()  # too many non-zeros for a sparse LU without fill-in
    else:
        p_pi_dense = _policy_transition_dense(game, pi)
    a_dense = np.eye(n_s) - game.gamma * p_pi_dense
    return np.asarray(np.linalg.solve(a_dense, rhs), dtype=np.float64)


def _evaluation_solution(
    game: CooperativeGame,
    q: FloatArray,
    pi: FloatArray,
    alpha: float,
    iterations: int,
    bound: float,
    tol: float,
) -> SoftSolution:
    v = _soft_policy_value(q, pi, alpha)
    residual = _sup(_backup(game, v) - q)
    error = residual if game.gamma == 0.0 else min(bound, residual / (1.0 - game.gamma))
    return SoftSolution(
        Q=q,
        V=v,
        policy=pi.reshape(game.joint_shape),
        iterations=iterations,
        residual=residual,
        error_bound=error,
        converged=error <= tol,
    )


def soft_policy_evaluation(
    game: CooperativeGame,
    policy: ArrayLike,
    alpha: float,
    *,
    method: EvaluationMethod = "exact",
    solver: LinearSolver = "auto",
    tol: float = 1e-8,
    Q0: ArrayLike | None = None,
    max_iter: int = DEFAULT_MAX_ITER,
) -> SoftSolution:
    """The soft Q-function ``Q^pi``, the fixed point of ``Gamma_pi`` (Eq. 6, Lemma 4.1).

    ``method="exact"`` solves the ``|S|`` value system (see :func:`_solve_policy_values`) with a
    dense LU (``solver="dense"``), a sparse LU on CSR matrices (``"sparse"``) or whichever the game
    calls for (``"auto"``: sparse when ``game.is_sparse``), then sets ``Q = R + gamma P V``.
    ``method="iterative"`` applies ``Gamma_pi`` from ``Q0`` (zeros) with the stopping rule of
    :func:`soft_value_iteration`; Lemma 4.1 says both give the same ``Q^pi``.

    ``policy`` has the shape of ``Q``; zero probabilities are allowed (``0 log 0 = 0``).
    """
    a = _check_alpha(alpha)
    t = _check_tol(tol)
    pi = _check_policy_table(policy, game.joint_shape).reshape(game.n_states, -1)
    if method == "exact":
        _check_solver(solver)
        v = _solve_policy_values(game, pi, a, solver)
        q = _backup(game, v)
        return _evaluation_solution(game, q, pi, a, 1, math.inf, t)
    if method == "iterative":
        n = _check_max_iter(max_iter)
        q = np.zeros(game.joint_shape) if Q0 is None else np.array(_check_game_q(game, Q0, "Q0"))
        g = game.gamma
        bound = math.inf
        k = 0
        for k in range(1, n + 1):  # noqa: B007 -- k is reported
            q_next = _backup(game, _soft_policy_value(q, pi, a))
            delta = _sup(q_next - q)
            q = q_next
            bound = g / (1.0 - g) * delta
            if bound <= t:
                break
        return _evaluation_solution(game, q, pi, a, k, bound, t)
    raise ValueError(f"method must be 'exact' or 'iterative'; got {method!r}")


def soft_policy_iteration(
    game: CooperativeGame,
    alpha: float,
    tol: float = 1e-8,
    *,
    policy0: ArrayLike | None = None,
    solver: LinearSolver = "auto",
    max_iter: int = 1_000,
) -> SoftSolution:
    """Soft policy iteration (Thm 4.3): exact evaluation, then Boltzmann improvement (Lemma 4.2).

    From ``policy0`` (uniform by default): ``Q_k = Q^{pi_k}`` (exact
    :func:`soft_policy_evaluation`), ``pi_{k+1} = boltzmann_policy(Q_k, alpha)``.  Lemma 4.2
    gives ``Q_{k+1} >= Q_k`` entrywise and Thm 4.3 the limit ``Q*``, the fixed point of the
    optimal operator ``T``.

    Stopping rule: ``||Q_k - Q*|| <= ||T Q_k - Q_k|| / (1 - gamma)``, so the loop stops once this
    bound is ``<= tol`` (a guarantee, unlike "the policy stopped changing", whose distance to
    ``Q*`` is unknown).  Returns ``Q = Q_k`` with its Boltzmann policy and soft value (the same
    fields as :func:`soft_value_iteration`, so the two results are directly comparable).
    """
    a = _check_alpha(alpha)
    t = _check_tol(tol)
    n = _check_max_iter(max_iter)
    _check_solver(solver)
    if policy0 is None:
        pi = uniform_policy(game.joint_shape)
    else:
        pi = _check_policy_table(policy0, game.joint_shape, "policy0")
    g = game.gamma
    q = np.zeros(game.joint_shape)
    k = 0
    for k in range(1, n + 1):  # noqa: B007 -- k is reported
        v = _solve_policy_values(game, pi.reshape(game.n_states, -1), a, solver)
        q = _backup(game, v)
        residual = _sup(_backup(game, _soft_value(q, a)) - q)
        if (residual if g == 0.0 else residual / (1.0 - g)) <= t:
            break
        pi = _boltzmann_policy(q, a)
    return _control_solution(game, q, a, k, math.inf, t)
