r"""Particle negotiated reasoning (paper Eq. 4, 5, 7; App. E.4, L.1).

``M`` joint-action particles ``u^1..u^M`` in ``R^D`` represent the perceived joint policy.  In
every round ``k = 1..K`` each agent ``i`` in turn moves its own coordinates by its negotiation
policy (Eq. 4)

.. math::

    u_i^{l,k} = u_i^{l,k-1} + \epsilon\, \phi_i^*(u^{l}_{S_i}), \qquad S_i = \{i\} \cup C_i,

where ``phi_i^*`` is the local-kernel (message-passing) Stein direction of Eq. 5, computed by
:func:`svnr_core.stein.local_kernel_direction` on the current particles and a score along
``u_i`` of the tempered target ``pi_k(u) ~ p(u)^(1 / T_k)``.  Two kinds of target give that
score:

* a joint :data:`Target` ``u -> (log p(u), grad log p(u))`` (a callable): agent ``i`` uses the
  *joint* score ``d/du_i log p(u) / T_k`` at the joint particles.  This is the approximation of
  the amortized updates Eq. 9 / Eq. 13, where the critic's ``dQ/du`` is all one has; it equals
  Eq. 5 when ``C_i`` holds every other agent, and otherwise it is the conditional score only in
  expectation over the particles that share ``u_{S_i}`` (see
  :func:`svnr_core.stein.local_kernel_direction`).  With nested sets it can trap agent 0 in a
  mode of the joint: its particles feel the branch that the *current* later coordinates select.
* a :class:`ConditionalTarget` (an object with ``joint`` and ``conditional_score``): agent ``i``
  uses the exact score of Eq. 5, ``grad_{u_i} log pi_k(u_i | u_{C_i})``, in which the agents
  outside ``S_i`` are marginalised out: with nested sets agent 0 follows the marginal of its own
  action, agent 1 the conditional given agent 0, and so on (App. E.4).  Marginalising does not
  commute with tempering, so this path passes ``T_k`` to the target instead of dividing.
  :class:`svnr_core.conditional_targets.DifferentialGameTarget` provides it for the Sec. 6
  games by quadrature.

Scan order (Eq. 7): agents move one after the other in ``order`` (``0..N-1`` by default), and
agent ``i`` sees the coordinates that earlier agents already moved in the *same* round --
Eq. 7 writes ``phi^*(u_{C_i}^{l,k}, u_i^{l,k-1})`` -- a Gauss-Seidel sweep; the target score is
re-evaluated after every move.

Negotiation sets ``C_i`` are lists of agent ids (0-based):

* ``"nested"`` (default, paper App. F.2): ``C_i = {0, ..., i}``.  With a
  :class:`ConditionalTarget` (exact Eq. 5), by App. E.4 agent 0 follows the marginal of its own
  action (its coordinate moves exactly as 1-D SVGD on that marginal:
  ``verification/test_app_e4_negotiation.py``), agent 1 the conditional given agent 0, and so
  on; nested sets represent every joint (Thm C.1).  With a joint :data:`Target` this holds only
  approximately (see above).
* ``"full"``: ``C_i`` = all agents but ``i`` (ROMMEO's choice).
* ``"empty"``: ``C_i = {}``.  Each move is then a map of ``u_i`` alone, so independent initial
  particles stay (approximately) independent: the result approximates a product of marginals.
* any explicit DAG (or any sets at all): one list of agent ids per agent.

Neither path transports mass across a barrier of the marginal a particle follows: on Max of
Three with ``s_2 = 1.5`` the marginal of ``u_0`` keeps a local mode near ``-5`` behind a valley
of about 1 nat at ``T = 3`` (1.7 at ``T = 2``), and about a third of annealed particles stay
there (``verification/figures/max_of_three_marginal.py``,
``docs/figures/negotiation_numbers.json``).

Step size: a fixed ``step_size``, or with ``adaptive=True`` the rule of the SVGD reference code
(Liu & Wang, 2016): per particle and coordinate ``G <- phi^2`` in the first round and
``G <- beta G + (1 - beta) phi^2`` after, step ``step_size * phi / (fudge + sqrt(G))``.

Bounded actions: with ``bounds = (low, high)`` every move is followed by clipping to the box (a
projection; particles on a face keep moving along it).  The targets here are defined on the box
(the density is renormalised there), so clipping keeps the particles in its support.

Agreement (App. L.1): after each round the largest root-mean-square direction norm over agents,
``max_i sqrt(mean_l ||phi_i(u^l)||^2)``, and the U-statistic ``KSD^2`` of the joint particles
against the current target are recorded; with ``tol`` set, negotiation stops at the first round
whose chosen measure (``agreement="direction"`` or ``"ksd"``) is below ``tol``.

Array-API generic like :mod:`svnr_core.stein`: numpy arrays or torch tensors, leading batch axes
``[..., M, D]`` allowed (the recorded scalars are then maxima over the batch).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from svnr_core._xp import Array, as_float_array, stop_gradient
from svnr_core.stein import (
    Bandwidth,
    _check_bandwidth,
    kernelized_stein_discrepancy,
    local_kernel_direction,
)

__all__ = [
    "ConditionalTarget",
    "NegotiationResult",
    "NegotiationTrace",
    "SetsSpec",
    "Target",
    "negotiate",
    "negotiation_sets",
]

FloatArray = NDArray[np.float64]

#: ``target(u) -> (log p(u), grad_u log p(u))`` for ``u [..., M, D]``: shapes ``[..., M]`` and
#: ``[..., M, D]`` (unnormalised log-density, same library and dtype as ``u``).
Target = Callable[[Array], tuple[Array, Array]]


@runtime_checkable
class ConditionalTarget(Protocol):
    """A target that knows the conditional scores of its tempered versions (Eq. 5 exactly).

    ``joint(u)`` returns the untempered ``(log p(u), grad log p(u))`` as a :data:`Target` does
    (used for the trace: ``KSD^2`` and the mean log-density).  ``conditional_score(u, update,
    condition, temperature)`` returns ``grad_{u_update} log pi_T(u_update | u_condition)`` for
    ``pi_T ~ p^(1/T)`` with every coordinate outside ``update ∪ condition`` marginalised, shape
    ``[..., M, len(update)]`` (``update``, ``condition``: coordinate indices; ``condition`` may
    overlap ``update``).
    """

    def joint(self, u: Any) -> tuple[Any, Any]: ...

    def conditional_score(
        self, u: Any, update: Sequence[int], condition: Sequence[int], temperature: float
    ) -> Any: ...


#: ``"nested"``, ``"full"``, ``"empty"``, or one sequence of agent ids per agent.
SetsSpec = Literal["nested", "full", "empty"] | Sequence[Sequence[int]]


@dataclass(frozen=True)
class NegotiationTrace:
    """Per-round record of a negotiation (index ``k`` = after round ``k + 1``).

    Attributes
    ----------
    direction_norm:
        ``max_i sqrt(mean_l ||phi_i(u^l)||^2)`` over agents (and batch), shape ``[K]``.
    ksd:
        U-statistic ``KSD^2`` of the joint particles against that round's target, ``[K]``.
    mean_log_density:
        Mean over particles of the (untempered) ``log p(u)`` at the end of the round, ``[K]``.
    temperature:
        The temperature ``T_k`` used in the round, ``[K]``.
    snapshots:
        ``(round, particles)`` pairs: round 0 (the initial particles) and every
        ``record_every``-th round, as detached copies; empty when ``record_every`` is ``None``.
    """

    direction_norm: FloatArray
    ksd: FloatArray
    mean_log_density: FloatArray
    temperature: FloatArray
    snapshots: tuple[tuple[int, Array], ...]


@dataclass(frozen=True)
class NegotiationResult:
    """Outcome of :func:`negotiate`: final particles ``[..., M, D]``, the trace, the number of
    rounds run and whether the agreement test passed (always ``False`` without ``tol``)."""

    particles: Array
    trace: NegotiationTrace
    rounds: int
    agreed: bool


def negotiation_sets(spec: SetsSpec, n_agents: int) -> tuple[tuple[int, ...], ...]:
    """Resolve ``spec`` into one tuple of agent ids ``C_i`` per agent (0-based).

    ``"nested"``: ``C_i = (0, ..., i)``; ``"full"``: all agents but ``i``; ``"empty"``: ``()``;
    explicit sets are validated (``n_agents`` entries, ids in ``[0, n_agents)``, no repeats).
    """
    if isinstance(n_agents, bool) or not isinstance(n_agents, int) or n_agents < 1:
        raise ValueError(f"n_agents must be an integer >= 1; got {n_agents!r}")
    if isinstance(spec, str):
        if spec == "nested":
            return tuple(tuple(range(i + 1)) for i in range(n_agents))
        if spec == "full":
            return tuple(tuple(j for j in range(n_agents) if j != i) for i in range(n_agents))
        if spec == "empty":
            return tuple(() for _ in range(n_agents))
        raise ValueError(f"sets must be 'nested', 'full', 'empty' or explicit lists; got {spec!r}")
    sets = list(spec)
    if len(sets) != n_agents:
        raise ValueError(f"sets must hold one set per agent ({n_agents}); got {len(sets)}")
    out: list[tuple[int, ...]] = []
    for i, c_raw in enumerate(sets):
        c: object = c_raw
        if isinstance(c, str) or not isinstance(c, Sequence | np.ndarray):
            raise ValueError(f"sets[{i}] must be a sequence of agent ids; got {c!r}")
        ids: list[int] = []
        for j in c:
            if isinstance(j, bool) or not isinstance(j, int | np.integer):
                raise ValueError(f"sets[{i}] holds {j!r}, not an integer agent id")
            if not 0 <= int(j) < n_agents:
                raise ValueError(f"sets[{i}] holds agent {int(j)} outside [0, {n_agents})")
            ids.append(int(j))
        if len(set(ids)) != len(ids):
            raise ValueError(f"sets[{i}] repeats an agent: {ids}")
        out.append(tuple(ids))
    return tuple(out)


def _agent_blocks(agents: Sequence[Sequence[int]] | None, d: int) -> tuple[tuple[int, ...], ...]:
    if agents is None:
        return tuple((i,) for i in range(d))
    blocks: list[tuple[int, ...]] = []
    for i, blk_raw in enumerate(agents):
        blk: object = blk_raw
        if isinstance(blk, str) or not isinstance(blk, Sequence | np.ndarray) or len(blk) == 0:
            raise ValueError(f"agents[{i}] must be a non-empty sequence of coordinates")
        ids = []
        for c in blk:
            if isinstance(c, bool) or not isinstance(c, int | np.integer):
                raise ValueError(f"agents[{i}] holds {c!r}, not an integer coordinate")
            ids.append(int(c))
        blocks.append(tuple(ids))
    flat = sorted(c for blk in blocks for c in blk)
    if flat != list(range(d)):
        raise ValueError(
            f"agents must partition the coordinates 0..{d - 1} (each owned by one agent); "
            f"got {[list(b) for b in blocks]}"
        )
    return tuple(blocks)


def _check_positive(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return v


def negotiate(
    initial: Array,
    target: Target | ConditionalTarget,
    *,
    rounds: int,
    sets: SetsSpec = "nested",
    agents: Sequence[Sequence[int]] | None = None,
    order: Sequence[int] | None = None,
    step_size: float | Callable[[int], float] = 0.1,
    adaptive: bool = False,
    adagrad_decay: float = 0.9,
    fudge: float = 1e-6,
    temperature: float | Callable[[int], float] = 1.0,
    bounds: tuple[float, float] | None = None,
    tol: float | None = None,
    agreement: Literal["direction", "ksd"] = "direction",
    bandwidth: Bandwidth = "median",
    record_every: int | None = None,
) -> NegotiationResult:
    """Run ``rounds`` rounds of particle negotiated reasoning (Eq. 4, 5, 7); see module doc.

    Parameters
    ----------
    initial:
        Initial joint-action particles ``[..., M, D]`` (numpy or torch, real floating).
    target:
        ``u -> (log p(u), grad log p(u))`` (joint-score path), or a :class:`ConditionalTarget`
        (exact Eq. 5 conditional scores); the negotiation targets ``p^(1/T_k)``.
    rounds:
        ``K >= 1``, the most rounds to run.
    sets, agents, order:
        Negotiation sets ``C_i`` (agent ids), the coordinates of each agent (default: agent
        ``i`` owns coordinate ``i``; blocks must partition ``0..D-1``) and the scan order.
    step_size, adaptive, adagrad_decay, fudge:
        ``epsilon`` of Eq. 4 (a float, or a schedule ``k -> epsilon_k``), and the adaptive rule
        of the SVGD reference (module doc).  With an annealed temperature, ``epsilon_k = c T_k``
        makes the move ``c T_k phi(score / T_k)``: ``c`` times the Eq. 9 direction
        ``E[k grad log p + T_k grad k]``, whose driving term does not blow up as ``T_k -> 0``.
    temperature:
        ``T > 0`` or a schedule ``k -> T_k`` (``k = 0..K-1``): anneal ``alpha`` by passing
        ``log p = r`` and ``T_k = alpha_k``.
    bounds:
        ``(low, high)`` with ``low < high``: clip after every move.
    tol, agreement:
        Stop after the first round whose direction norm (or ``KSD^2``) is below ``tol``.
    bandwidth:
        Kernel bandwidth rule of every local kernel (:data:`svnr_core.stein.Bandwidth`).
    record_every:
        Keep a copy of the particles every that many rounds (and round 0) in the trace.

    Raises
    ------
    ValueError
        Naming the offending argument, or ``target`` when it (or its ``conditional_score``)
        returns the wrong shape or a NaN/infinite value.
    """
    u, xp = as_float_array("initial", initial, min_ndim=2)
    u = stop_gradient(u)
    d = int(u.shape[-1])
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be an integer >= 1; got {rounds!r}")
    blocks = _agent_blocks(agents, d)
    n = len(blocks)
    c_sets = negotiation_sets(sets, n)
    scan = list(range(n)) if order is None else [int(i) for i in order]
    if sorted(scan) != list(range(n)):
        raise ValueError(f"order must be a permutation of the agents 0..{n - 1}; got {order!r}")
    step_schedule: Callable[[int], float]
    if callable(step_size):
        step_schedule = step_size
    else:
        eps_const = _check_positive("step_size", step_size)

        def step_schedule(k: int) -> float:
            return eps_const

    if not 0.0 <= float(adagrad_decay) < 1.0:
        raise ValueError(f"adagrad_decay must be in [0, 1); got {adagrad_decay!r}")
    fudge = _check_positive("fudge", fudge)
    bw = _check_bandwidth(bandwidth)
    if agreement not in ("direction", "ksd"):
        raise ValueError(f"agreement must be 'direction' or 'ksd'; got {agreement!r}")
    if tol is not None:
        tol = _check_positive("tol", tol)
    if record_every is not None and (
        isinstance(record_every, bool) or not isinstance(record_every, int) or record_every < 1
    ):
        raise ValueError(f"record_every must be an integer >= 1 or None; got {record_every!r}")
    schedule: Callable[[int], float]
    if callable(temperature):
        schedule = temperature
    else:
        t_const = _check_positive("temperature", temperature)

        def schedule(k: int) -> float:
            return t_const

    if bounds is not None:
        low, high = (float(b) for b in bounds)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"bounds must be finite (low, high) with low < high; got {bounds!r}")
        u = xp.clip(u, min=low, max=high)

    device = getattr(u, "device", None)
    # Selection matrices E_i [|u_i|, D] scatter agent i's move into the joint coordinates.
    eye = xp.eye(d, dtype=u.dtype, device=device)
    scatter = [xp.take(eye, xp.asarray(list(b), device=device), axis=0) for b in blocks]
    conditions = [sorted({c for j in c_sets[i] for c in blocks[j]}) for i in range(n)]

    conditional = isinstance(target, ConditionalTarget)
    joint_target: Target = target.joint if isinstance(target, ConditionalTarget) else target

    def evaluate(x: Array) -> tuple[Array, Array]:
        logp, grad = joint_target(x)
        if tuple(logp.shape) != tuple(x.shape[:-1]) or tuple(grad.shape) != tuple(x.shape):
            raise ValueError(
                f"target must return shapes {tuple(x.shape[:-1])} and {tuple(x.shape)}; "
                f"got {tuple(logp.shape)} and {tuple(grad.shape)}"
            )
        if not (bool(xp.all(xp.isfinite(logp))) and bool(xp.all(xp.isfinite(grad)))):
            raise ValueError("target returned NaN or infinite log-density or gradient")
        return logp, grad

    def conditional_score(x: Array, i: int, t: float) -> Array:
        """Agent ``i``'s Eq. 5 score, scattered into a ``[..., M, D]`` array (zeros elsewhere)."""
        assert isinstance(target, ConditionalTarget)
        s_i = target.conditional_score(x, list(blocks[i]), conditions[i], t)
        want = (*tuple(x.shape[:-1]), len(blocks[i]))
        if tuple(s_i.shape) != want:
            raise ValueError(
                f"target.conditional_score must return shape {want} for agent {i}; "
                f"got {tuple(s_i.shape)}"
            )
        s_i = xp.asarray(s_i, dtype=x.dtype, device=device)
        if not bool(xp.all(xp.isfinite(s_i))):
            raise ValueError(f"target.conditional_score returned NaN or infinite for agent {i}")
        return s_i @ scatter[i]

    history: list[Any] = [None] * n
    norms: list[float] = []
    ksds: list[float] = []
    mean_logp: list[float] = []
    temps: list[float] = []
    snapshots: list[tuple[int, Array]] = []
    if record_every is not None:
        snapshots.append((0, xp.asarray(u, copy=True)))
    logp, grad = evaluate(u)
    agreed = False
    k = 0
    for k in range(rounds):
        t_k = _check_positive(f"temperature({k})", schedule(k))
        eps = _check_positive(f"step_size({k})", step_schedule(k))
        worst = 0.0
        for i in scan:
            score = conditional_score(u, i, t_k) if conditional else grad / t_k
            phi = local_kernel_direction(
                u, score, update=list(blocks[i]), condition=conditions[i], bandwidth=bw
            )
            worst = max(worst, float(xp.max(xp.sqrt(xp.mean(xp.sum(phi * phi, axis=-1), axis=-1)))))
            if adaptive:
                sq = phi * phi
                history[i] = sq if k == 0 else adagrad_decay * history[i] + (1 - adagrad_decay) * sq
                move = eps * phi / (fudge + xp.sqrt(history[i]))
            else:
                move = eps * phi
            u = u + move @ scatter[i]
            if bounds is not None:
                u = xp.clip(u, min=low, max=high)
            logp, grad = evaluate(u)
        m = int(u.shape[-2])
        ksd = (
            float(xp.max(kernelized_stein_discrepancy(u, grad / t_k, bandwidth=bw)))
            if m >= 2
            else 0.0
        )
        norms.append(worst)
        ksds.append(ksd)
        mean_logp.append(float(xp.max(xp.mean(logp, axis=-1))))
        temps.append(t_k)
        if record_every is not None and (k + 1) % record_every == 0:
            snapshots.append((k + 1, xp.asarray(u, copy=True)))
        if tol is not None and (worst if agreement == "direction" else ksd) < tol:
            agreed = True
            break
    trace = NegotiationTrace(
        direction_norm=np.asarray(norms, dtype=np.float64),
        ksd=np.asarray(ksds, dtype=np.float64),
        mean_log_density=np.asarray(mean_logp, dtype=np.float64),
        temperature=np.asarray(temps, dtype=np.float64),
        snapshots=tuple(snapshots),
    )
    return NegotiationResult(particles=u, trace=trace, rounds=k + 1, agreed=agreed)
