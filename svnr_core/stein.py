r"""Stein variational directions: RBF kernel, SVGD, message-passing (local-kernel) SVGD, KSD.

Paper: Eq. 12 and App. A (SVGD), Eq. 5 / Eq. 13 and App. D.1 (the local-kernel direction of
message-passing SVGD that each agent follows in negotiated reasoning), App. L.1 (agreement as a
vanishing Stein discrepancy), App. F.2 (kernel and bandwidth).

Written once against the array API (``array-api-compat``): every function accepts numpy arrays
or torch tensors (CPU or CUDA, autograd flowing through the kernel), keeps the floating dtype
and device, and takes leading batch axes -- particles ``[..., M, d]`` are ``M`` points in
``R^d`` for each index of ``...`` (e.g. one particle set per state in a batch).  The torch
training layer calls these very functions; it holds no second copy.

Kernel
------
``k(x, y) = exp(-||x - y||^2 / h)`` with one bandwidth ``h > 0`` per particle set.  ``bandwidth``
is one of

* ``"median"`` (paper App. F.2, and soft Q-learning): ``h = med / log M``;
* ``"liu_wang"`` (the SVGD reference code of Liu & Wang, 2016): their kernel
  ``exp(-d^2 / (2 s^2))`` with ``s^2 = 0.5 med / log(M + 1)``, i.e. ``h = 2 s^2 = med / log(M+1)``;
* a positive float: that ``h``.

Here ``med`` is the median of the squared distances ``||x_a - x_b||^2`` over the ``M(M-1)/2``
distinct pairs ``a < b``: exact, the lower median for an even count (the smaller of the two
middle values; one order statistic instead of two, a relative difference of order ``1 / M^2``
from numpy's mean of the two). The diagonal zeros are left out, which the reference codes
include; for large ``M`` the two agree. Degenerate sets are handled explicitly: ``M = 1`` gives
``h = 1`` (the kernel is the ``1 x 1`` matrix ``[1]`` whatever ``h``), and when more than half
of the pairs coincide (``med = 0``) the rule uses the largest squared distance instead, or ``h =
1`` when all particles coincide -- never a division by zero.

The bandwidth is a constant of the kernel: it is computed from gradient-stopped distances and
is not differentiated (as in soft Q-learning), so torch autograd of ``K`` with respect to the
particles equals the analytic gradient ``grad_y k(x, y) = (2 / h) (x - y) k(x, y)``.

Cost
----
One ``M x M`` squared-distance matrix per call, from a Gram matrix of the *centred* particles
(centring makes the result exactly translation invariant up to rounding and avoids the
cancellation of ``|x|^2 + |y|^2 - 2 x.y`` far from the origin); the same matrix gives the kernel,
the median (linear-time selection: ``numpy.partition`` / ``torch.kthvalue``, exact, no
subsampling) and, through one matrix product ``K [score, x]``, both terms of the direction.  No
``M x M x d`` difference tensor is ever formed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from svnr_core._xp import Array, as_float_array, index_array, kth_smallest, stop_gradient

__all__ = [
    "Bandwidth",
    "kernelized_stein_discrepancy",
    "local_kernel_direction",
    "mmd_squared",
    "rbf_kernel",
    "svgd_direction",
]

#: ``"median"`` (paper App. F.2: ``h = med / log M``), ``"liu_wang"`` (``h = med / log(M + 1)``)
#: or a fixed ``h > 0``; the kernel is ``exp(-||x - y||^2 / h)`` in every case.
Bandwidth = float | Literal["median", "liu_wang"]

_RULES = ("median", "liu_wang")


# --------------------------------------------------------------------------- validation


def _check_bandwidth(bandwidth: object) -> Bandwidth:
    if isinstance(bandwidth, str):
        if bandwidth not in _RULES:
            raise ValueError(
                f"bandwidth must be 'median', 'liu_wang' or a float > 0; got {bandwidth!r}"
            )
        return bandwidth  # type: ignore[return-value]
    if isinstance(bandwidth, bool) or not isinstance(bandwidth, int | float | np.floating):
        raise ValueError(
            f"bandwidth must be 'median', 'liu_wang' or a float > 0; got {bandwidth!r}"
        )
    h = float(bandwidth)
    if not (math.isfinite(h) and h > 0.0):
        raise ValueError(f"bandwidth must be a finite float > 0; got {bandwidth!r}")
    return h


def _check_score(particles: Array, score: object, xp: Any, width: int) -> Array:
    s, xs = as_float_array("score", score, min_ndim=2)
    if xs is not xp:
        raise ValueError("score must come from the same array library as particles")
    expected = (*tuple(particles.shape[:-1]), width)
    if tuple(s.shape) != expected:
        raise ValueError(f"score must have shape {expected}; got {tuple(s.shape)}")
    if s.dtype != particles.dtype:
        raise ValueError(f"score dtype {s.dtype} differs from particles dtype {particles.dtype}")
    return s


def _check_indices(name: str, idx: object, d: int, *, allow_empty: bool) -> list[int]:
    if isinstance(idx, int | np.integer) and not isinstance(idx, bool):
        idx = [idx]
    if not isinstance(idx, Sequence | np.ndarray) or isinstance(idx, str):
        raise ValueError(f"{name} must be a sequence of coordinate indices; got {idx!r}")
    out: list[int] = []
    for pos, i in enumerate(idx):
        if isinstance(i, bool) or not isinstance(i, int | np.integer):
            raise ValueError(f"{name}[{pos}] = {i!r} is not an integer coordinate index")
        if not 0 <= int(i) < d:
            raise ValueError(
                f"{name}[{pos}] = {int(i)} is outside [0, {d}) (particles have d = {d})"
            )
        out.append(int(i))
    if not out and not allow_empty:
        raise ValueError(f"{name} must name at least one coordinate")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} has repeated coordinates: {out}")
    return out


# --------------------------------------------------------------------------- the kernel (once)


def _centred_sq_dists(xp: Any, x: Array) -> tuple[Array, Array]:
    """``(D, xc)``: squared distances ``D[..., a, b] = ||x_a - x_b||^2`` and centred particles.

    ``D`` is symmetric with an exact zero diagonal and no negative entries: values within the
    rounding resolution of the Gram formula, ``8 (d + 1) eps max_a |x_a - xbar|^2``, are set to
    0 (points closer than about ``1e-7`` of the spread count as coincident).
    """
    d = x.shape[-1]
    xc = x - xp.mean(x, axis=-2, keepdims=True)
    sq = xp.sum(xc * xc, axis=-1)
    d2 = ((-2.0 * xc) @ xp.matrix_transpose(xc) + sq[..., None, :]) + sq[..., :, None]
    # Rounding of the Gram formula is at most ~2 d eps (|xc_a|^2 + |xc_b|^2) <= 4 d eps max|xc|^2.
    # Entries inside that resolution -- the diagonal, and coincident points such as particles
    # clipped onto the same box corner -- become exactly 0 (so the median rule sees coincident
    # points as such, not as 1e-17); negative rounding is removed by the same test.
    tol = (8.0 * (d + 1) * xp.finfo(x.dtype).eps) * xp.max(stop_gradient(sq), axis=-1)
    return d2 * xp.astype(stop_gradient(d2) > tol[..., None, None], d2.dtype), xc


def _bandwidth_from_sq_dists(xp: Any, d2: Array, bandwidth: Bandwidth) -> Array:
    """``h`` of shape ``[...]`` for squared distances ``d2`` of shape ``[..., M, M]`` (no grad)."""
    batch = tuple(d2.shape[:-2])
    m = int(d2.shape[-1])
    device = getattr(d2, "device", None)
    if not isinstance(bandwidth, str):
        return xp.full(batch, bandwidth, dtype=d2.dtype, device=device)
    if m == 1:
        return xp.ones(batch, dtype=d2.dtype, device=device)
    d2 = stop_gradient(d2)
    # The flattened matrix holds M diagonal zeros and each of the n = M(M-1)/2 pair values twice,
    # all >= 0, so the r-th smallest pair value sits at position M + 2r of the sorted matrix:
    # one linear-time selection gives the (lower) median r = (n - 1) // 2.
    n_pairs = m * (m - 1) // 2
    (med,) = kth_smallest(xp, xp.reshape(d2, (*batch, m * m)), [m + 2 * ((n_pairs - 1) // 2)])
    log_n = math.log(m) if bandwidth == "median" else math.log(m + 1)
    if bool(xp.all(med > 0)):
        return med / log_n
    largest = xp.max(d2, axis=(-2, -1))
    fallback = xp.where(largest > 0, largest / log_n, xp.ones_like(med))
    return xp.where(med > 0, med / log_n, fallback)


def _kernel(xp: Any, x: Array, bandwidth: Bandwidth) -> tuple[Array, Array, Array]:
    """``(K, h, xc)`` for particles ``x [..., M, d]``: RBF kernel, bandwidth, centred particles."""
    d2, xc = _centred_sq_dists(xp, x)
    h = _bandwidth_from_sq_dists(xp, d2, bandwidth)
    return xp.exp(-d2 / h[..., None, None]), h, xc


def rbf_kernel(particles: Array, *, bandwidth: Bandwidth = "median") -> tuple[Array, Array]:
    """RBF kernel matrix ``K[..., a, b] = exp(-||x_a - x_b||^2 / h)`` and its bandwidth ``h``.

    Parameters
    ----------
    particles:
        ``[..., M, d]``: ``M`` points in ``R^d`` per leading index; numpy or torch, real
        floating, finite.
    bandwidth:
        ``"median"`` (paper App. F.2, ``h = med / log M``), ``"liu_wang"``
        (``h = med / log(M + 1)``) or a fixed float ``h > 0``; see the module docstring.

    Returns
    -------
    (K, h):
        ``K`` of shape ``[..., M, M]`` (symmetric, unit diagonal) and ``h`` of shape ``[...]``,
        in the dtype, device and library of ``particles``.  ``h`` carries no gradient; ``K``
        does, and its gradient is ``grad_{x_b} K[a, b] = (2 / h) (x_a - x_b) K[a, b]``.
    """
    bw = _check_bandwidth(bandwidth)
    x, xp = as_float_array("particles", particles, min_ndim=2)
    k, h, _ = _kernel(xp, x, bw)
    return k, h


# --------------------------------------------------------------------------- directions


def _direction(
    xp: Any, x_kernel: Array, x_update: Array, score_update: Array, bandwidth: Bandwidth
) -> Array:
    r"""``1/M sum_j [k(y_j, x_l) s_j + grad_{y_j[update]} k(y_j, x_l)]`` with one matmul.

    ``k`` is computed on ``x_kernel`` (coordinates ``S``); ``x_update`` are the coordinates that
    move (a subset of ``S``).  With ``grad_{y_j} k(y_j, x_l) = (2/h) (x_l - y_j) k_lj``,
    ``sum_j k_lj (x_l - y_j) = x_l rowsum(K)_l - (K x)_l``, so ``K [s, x]`` gives both terms.
    """
    m = x_kernel.shape[-2]
    k, h, _ = _kernel(xp, x_kernel, bandwidth)
    xu = x_update - xp.mean(x_update, axis=-2, keepdims=True)
    width = score_update.shape[-1]
    both = k @ xp.concat([score_update, xu], axis=-1)
    driving, k_x = both[..., :width], both[..., width:]
    rowsum = xp.sum(k, axis=-1)[..., None]
    repulsive = (2.0 / h)[..., None, None] * (xu * rowsum - k_x)
    return (driving + repulsive) / m


def svgd_direction(particles: Array, score: Array, *, bandwidth: Bandwidth = "median") -> Array:
    r"""Stein variational gradient direction, paper Eq. 12 (App. A; Liu & Wang, 2016).

    For particles ``x_1..x_M`` of the current measure ``q`` and the score
    ``s_j = grad log p(x_j)`` of the target ``p``,

    .. math::

        \phi(x_l) = \frac{1}{M} \sum_{j=1}^{M}
            \big[ k(x_j, x_l)\, s_j + \nabla_{x_j} k(x_j, x_l) \big],

    the steepest descent direction of ``KL(q || p)`` in the unit ball of the RKHS ``H^d``; the
    SVGD step is ``x_l <- x_l + eps * phi(x_l)``.  The first term drives particles up the
    kernel-smoothed score, the second repels them from each other.

    The Eq. 9 direction of the amortized policy update, ``E[k grad_u Q + alpha grad k]``, is
    ``alpha * svgd_direction(particles, grad_u Q / alpha)``: pass ``score = grad_u Q / alpha``
    (plus any change-of-variables correction, e.g. for a tanh squash) and scale by ``alpha``.

    Parameters
    ----------
    particles:
        ``[..., M, d]``, real floating, finite; numpy or torch (any device).
    score:
        ``[..., M, d]``: ``grad log p`` at each particle, same library and dtype.
    bandwidth:
        See :data:`Bandwidth`; treated as a constant (not differentiated).

    Returns
    -------
    ``phi`` of shape ``[..., M, d]`` in the dtype and library of ``particles``.  With ``M = 1``
    it equals ``score`` exactly.  The computation is differentiable (torch autograd) but callers
    normally pass detached tensors and push ``phi`` into a network with ``u.backward(-phi)``.
    """
    bw = _check_bandwidth(bandwidth)
    x, xp = as_float_array("particles", particles, min_ndim=2)
    s = _check_score(x, score, xp, int(x.shape[-1]))
    return _direction(xp, x, x, s, bw)


def local_kernel_direction(
    particles: Array,
    score: Array,
    *,
    update: Sequence[int],
    condition: Sequence[int],
    bandwidth: Bandwidth = "median",
) -> Array:
    r"""Message-passing (local-kernel) Stein direction of one agent, paper Eq. 5 / Eq. 13.

    Agent ``i`` owns the coordinates ``update`` (a block: a MaMuJoCo agent has several action
    dimensions) and negotiates with the agents whose coordinates are ``condition`` (``C_i``).
    The kernel ``k_i`` acts on ``S_i = update ∪ condition`` only (App. D.1, Zhuo et al., 2018),
    and only the ``update`` coordinates move:

    .. math::

        \phi_i(x^l) = \frac{1}{M} \sum_{j=1}^{M}
            \big[ k_i(x^j_{S_i}, x^l_{S_i})\, s^j_{u_i}
                  + \nabla_{x^j_{u_i}} k_i(x^j_{S_i}, x^l_{S_i}) \big],

    with ``s^j_{u_i} = score[..., j, update]``: the score of the *joint* target along ``u_i`` at
    particle ``j``.  Eq. 5 writes the conditional score ``grad log p(y_i | y_{C_i})``; for
    ``C_i`` = all other agents the two coincide, and in general
    ``grad_{y_i} log p(y_i, y_{C_i}) = E_p[grad_{y_i} log p(y) | y_i, y_{C_i}]``, so averaging the
    joint score over particles that share ``y_{S_i}`` estimates it (this is how Eq. 13 uses
    ``grad_{u_i} Q``).  Because ``phi_i`` depends on the particle only through ``x_{S_i}``, the
    move of agent ``i`` is a function of ``x_{S_i}``: with ``condition = []`` every coordinate
    moves by a map of itself alone, which keeps a product measure a product measure.

    With ``condition`` = all other coordinates the result equals
    ``svgd_direction(particles, score)[..., update]``.  Eq. 9 / 13 scaling as in
    :func:`svgd_direction`.

    Parameters
    ----------
    particles, score:
        ``[..., M, D]`` (``D`` = all joint coordinates), same library and dtype.
    update:
        Coordinate indices of agent ``i`` (non-empty, distinct, in ``[0, D)``).
    condition:
        Coordinate indices of the agents in ``C_i`` (may be empty; may overlap ``update``, as
        the paper's nested sets ``C_i = {1..i}`` contain ``i``).
    bandwidth:
        See :data:`Bandwidth`; the median rule uses distances over ``S_i``.

    Returns
    -------
    ``phi_i`` of shape ``[..., M, len(update)]``, columns in the order of ``update``.
    """
    bw = _check_bandwidth(bandwidth)
    x, xp = as_float_array("particles", particles, min_ndim=2)
    d = int(x.shape[-1])
    s = _check_score(x, score, xp, d)
    upd = _check_indices("update", update, d, allow_empty=False)
    cond = _check_indices("condition", condition, d, allow_empty=True)
    support = sorted(set(upd) | set(cond))
    full = support == list(range(d))
    x_kernel = x if full else xp.take(x, index_array(xp, x, support), axis=-1)
    iu = index_array(xp, x, upd)
    return _direction(xp, x_kernel, xp.take(x, iu, axis=-1), xp.take(s, iu, axis=-1), bw)


# --------------------------------------------------------------------------- discrepancies


def kernelized_stein_discrepancy(
    particles: Array,
    score: Array,
    *,
    bandwidth: Bandwidth = "median",
    statistic: Literal["u", "v"] = "u",
) -> Array:
    r"""Kernelized Stein discrepancy ``KSD^2(q, p)`` estimated from particles (App. L.1).

    With the Stein kernel of the RBF kernel (Liu, Lee & Jordan, 2016; Chwialkowski et al., 2016),
    for ``r = x_a - x_b`` and scores ``s_a``, ``s_b``,

    .. math::

        u_p(x_a, x_b) = k \big[ s_a^\top s_b + \tfrac{2}{h} (s_a - s_b)^\top r
                               + \tfrac{2d}{h} - \tfrac{4 \|r\|^2}{h^2} \big],

    ``statistic="u"`` returns the unbiased U-statistic ``sum_{a != b} u_p / (M (M - 1))`` (the
    paper's measure of agreement, ``E_q[A_p phi] ~ 0``) and ``statistic="v"`` the V-statistic
    ``sum_{a, b} u_p / M^2``.  The V-statistic is the squared RKHS norm of the empirical Stein
    function and therefore ``>= 0``; the U-statistic is unbiased for ``KSD^2 >= 0`` but a single
    draw may be slightly negative (at least ``-mean_a u_p(x_a, x_a) / (M - 1)``).  Both are
    ``KSD^2``, not its square root.

    Returns an array of shape ``[...]``.  The U-statistic needs ``M >= 2`` (``ValueError``
    otherwise).  The bandwidth is chosen from the particles like the directions' (the default
    ``"median"``); pass a fixed float to compare sets on one scale.
    """
    bw = _check_bandwidth(bandwidth)
    if statistic not in ("u", "v"):
        raise ValueError(f"statistic must be 'u' or 'v'; got {statistic!r}")
    x, xp = as_float_array("particles", particles, min_ndim=2)
    d = int(x.shape[-1])
    m = int(x.shape[-2])
    s = _check_score(x, score, xp, d)
    if statistic == "u" and m < 2:
        raise ValueError(f"the U-statistic needs at least 2 particles; particles has M = {m}")
    d2, xc = _centred_sq_dists(xp, x)
    h = _bandwidth_from_sq_dists(xp, d2, bw)[..., None, None]
    k = xp.exp(-d2 / h)
    s_dot_x = xp.sum(s * xc, axis=-1)  # a_a = s_a . x_a
    s_x = s @ xp.matrix_transpose(xc)  # B_ab = s_a . x_b
    # (s_a - s_b).(x_a - x_b) = a_a - B_ab - B_ba + a_b
    cross = s_dot_x[..., :, None] + s_dot_x[..., None, :] - s_x - xp.matrix_transpose(s_x)
    stein = k * (s @ xp.matrix_transpose(s) + (2.0 / h) * cross + (2.0 * d) / h - 4.0 * d2 / h**2)
    total = xp.sum(stein, axis=(-2, -1))
    if statistic == "v":
        return total / (m * m)
    diag = xp.sum(s * s, axis=(-2, -1)) + m * (2.0 * d) / h[..., 0, 0]
    return (total - diag) / (m * (m - 1))


def mmd_squared(x: Array, y: Array, *, bandwidth: float) -> Array:
    r"""Unbiased estimate of the squared maximum mean discrepancy with the RBF kernel.

    ``MMD_u^2 = mean_{a != b} k(x_a, x_b) + mean_{a != b} k(y_a, y_b) - 2 mean_{a, b} k(x_a, y_b)``
    (Gretton et al., 2012, Eq. 3) with ``k = exp(-||.||^2 / h)``, ``h = bandwidth`` fixed so that
    estimates for different sets are on one scale.  ``x [..., M, d]`` and ``y [..., N, d]`` with
    ``M, N >= 2``; returns ``[...]``.  Used to measure how close particles are to exact samples.
    """
    h = _check_bandwidth(bandwidth)
    if isinstance(h, str):
        raise ValueError(f"bandwidth must be a fixed float > 0 for the MMD; got {bandwidth!r}")
    a, xp = as_float_array("x", x, min_ndim=2)
    b, xpb = as_float_array("y", y, min_ndim=2)
    if xpb is not xp or b.dtype != a.dtype:
        raise ValueError("x and y must share array library and dtype")
    if a.shape[-1] != b.shape[-1] or a.shape[:-2] != b.shape[:-2]:
        raise ValueError(f"x {tuple(a.shape)} and y {tuple(b.shape)} have incompatible shapes")
    m, n = int(a.shape[-2]), int(b.shape[-2])
    if m < 2 or n < 2:
        raise ValueError(f"mmd_squared needs at least 2 points in x and in y; got {m} and {n}")
    d2, _ = _centred_sq_dists(xp, xp.concat([a, b], axis=-2))
    k = xp.exp(-d2 / h)
    kxx = (xp.sum(k[..., :m, :m], axis=(-2, -1)) - m) / (m * (m - 1))
    kyy = (xp.sum(k[..., m:, m:], axis=(-2, -1)) - n) / (n * (n - 1))
    kxy = xp.sum(k[..., :m, m:], axis=(-2, -1)) / (m * n)
    return kxx + kyy - 2.0 * kxy
