"""Temperature (entropy coefficient) annealing schedules of the paper.

Two schedules are used in the paper, both written here once as plain-float functions so that
every training method (SVNR and the maximum-entropy baselines) anneals ``alpha`` identically
(App. H.5.3, "identical entropy schedules"):

* **App. F.2** ("to gain exploration in the early stage"):

  .. math:: \\alpha_t = \\alpha' + B \\, e^{-r \\max(t - t_0, 0)}

  with the paper's bonus ``B = 500``, rate ``r = 0.1`` and delay ``t_0 = 10``; ``alpha'`` is
  the final (paper: "initial", tuned) temperature.  The same form anneals ROMMEO's temperature.

* **App. H.5, Eq. (20)** (the fair-comparison protocol):

  .. math:: \\alpha_t = \\alpha_{end} + (\\alpha_{start} - \\alpha_{end}) \\, e^{-t / \\tau}

  with ``alpha_start = 1.0``, ``alpha_end = 0.01`` in the paper and ``tau`` fixed per task.

* **Linear decay** (App. H.4.2, Tables 7 and 8: "decaying over 50% of total steps", "Fast /
  Medium / Slow Linear: 10% / 30% / 80% of T"):

  .. math:: \\alpha_t = \\alpha_{start} + (\\alpha_{end} - \\alpha_{start}) \\min(t / D, 1)

  reaching ``alpha_end`` after the duration ``D`` and staying there.

* **Staged App. F.2**, the schedule that the public fork ``Jarvis-K/rommeo`` executes
  (``experiment/res_gpf.py``; App. F.2 states only its first stage):

  .. math:: \\alpha_t = \\alpha' + B e^{-r \\max(t - t_0, 0)} \\ (t < T_2), \\quad
            s \\, \\alpha' \\ (T_2 \\le t < T_3), \\quad \\alpha_3 \\ (t \\ge T_3)

  with the fork's ``T_2 = n/3``, ``T_3 = n/2`` of a run of ``n`` steps, ``s = 1/10`` and
  ``alpha_3 = 0.3`` (docs/baselines.md, "The public ACCF learner").

Every schedule accepts an optional ``floor``: the returned value is
``max(alpha_t, floor)``.  A floor
guards the importance-sampled soft value ``alpha * logsumexp(Q / alpha)`` against a vanishing
temperature (NOTES.md: below ``alpha`` of about 0.08 the log-mean-exp must be computed in log
space; a floor of ``0`` keeps the schedule exact).

This module is pure Python (no numpy, no torch): a schedule is evaluated once per step.
"""

from __future__ import annotations

import math

__all__ = [
    "alpha_constant",
    "alpha_exponential",
    "alpha_linear",
    "alpha_paper_f2",
    "alpha_staged_f2",
]


def _finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return v


def _positive(name: str, value: float) -> float:
    v = _finite(name, value)
    if v <= 0.0:
        raise ValueError(f"{name} must be > 0; got {value!r}")
    return v


def _non_negative(name: str, value: float) -> float:
    v = _finite(name, value)
    if v < 0.0:
        raise ValueError(f"{name} must be >= 0; got {value!r}")
    return v


def _apply_floor(alpha: float, floor: float) -> float:
    return max(alpha, _non_negative("floor", floor))


def alpha_paper_f2(
    step: float,
    alpha_end: float,
    *,
    bonus: float = 500.0,
    rate: float = 0.1,
    delay: float = 10.0,
    floor: float = 0.0,
) -> float:
    """App. F.2 schedule ``alpha_end + bonus * exp(-rate * max(step - delay, 0))``.

    Parameters
    ----------
    step:
        The schedule's clock ``t >= 0`` (the trainer passes its update counter).
    alpha_end:
        ``alpha' > 0``, the value approached for large ``t``.
    bonus, rate, delay:
        ``B >= 0``, ``r > 0`` and ``t_0 >= 0``; the paper uses 500, 0.1 and 10.
    floor:
        Lower bound ``>= 0`` applied to the result.

    Raises ``ValueError`` naming the argument for a negative step, a non-positive ``alpha_end``
    or ``rate``, a negative ``bonus``/``delay``/``floor`` or any non-finite input.
    """
    t = _non_negative("step", step)
    a_end = _positive("alpha_end", alpha_end)
    b = _non_negative("bonus", bonus)
    r = _positive("rate", rate)
    t0 = _non_negative("delay", delay)
    return _apply_floor(a_end + b * math.exp(-r * max(t - t0, 0.0)), floor)


def alpha_staged_f2(
    step: float,
    alpha_end: float,
    *,
    second_start: float,
    third_start: float,
    second_scale: float = 0.1,
    third_alpha: float = 0.3,
    bonus: float = 500.0,
    rate: float = 0.1,
    delay: float = 10.0,
    floor: float = 0.0,
) -> float:
    """The staged App. F.2 schedule (see the module docstring): :func:`alpha_paper_f2` before
    ``second_start``, ``second_scale * alpha_end`` from ``second_start`` to ``third_start``,
    ``third_alpha`` from ``third_start`` on.

    ``0 <= second_start <= third_start`` in the units of ``step`` (the fork: a third and a half
    of the run's steps), ``second_scale, third_alpha > 0``; the other arguments as in
    :func:`alpha_paper_f2`.  Raises ``ValueError`` naming the argument for a bad input.
    """
    first = alpha_paper_f2(step, alpha_end, bonus=bonus, rate=rate, delay=delay, floor=floor)
    t2 = _non_negative("second_start", second_start)
    t3 = _non_negative("third_start", third_start)
    if t3 < t2:
        raise ValueError(f"third_start must be >= second_start = {t2}; got {third_start!r}")
    scale = _positive("second_scale", second_scale)
    last = _positive("third_alpha", third_alpha)
    t = float(step)
    if t >= t3:
        return _apply_floor(last, floor)
    if t >= t2:
        return _apply_floor(scale * float(alpha_end), floor)
    return first


def alpha_exponential(
    step: float,
    alpha_start: float,
    alpha_end: float,
    tau: float,
    *,
    floor: float = 0.0,
) -> float:
    """App. H.5 Eq. (20): ``alpha_end + (alpha_start - alpha_end) * exp(-step / tau)``.

    ``alpha_start, alpha_end > 0`` (either order: an increasing schedule is allowed),
    ``tau > 0`` the decay time in the units of ``step`` (the paper's per-step factor
    ``0.9995`` is ``tau = -1 / log(0.9995) ~ 2000``), ``floor >= 0``.
    """
    t = _non_negative("step", step)
    a0 = _positive("alpha_start", alpha_start)
    a1 = _positive("alpha_end", alpha_end)
    tt = _positive("tau", tau)
    return _apply_floor(a1 + (a0 - a1) * math.exp(-t / tt), floor)


def alpha_linear(
    step: float,
    alpha_start: float,
    alpha_end: float,
    duration: float,
    *,
    floor: float = 0.0,
) -> float:
    """App. H.4.2 linear decay: ``alpha_start + (alpha_end - alpha_start) * min(step / D, 1)``.

    ``alpha_start, alpha_end > 0`` (either order), ``duration D > 0`` in the units of ``step``
    (Table 8 states it as a share of the run: the caller converts), ``floor >= 0``.  Both ends
    must be positive because the soft methods divide by ``alpha``; Table 7's "final alpha 0"
    is therefore run with a small positive end (``studies/alpha_sensitivity.toml`` says which).
    """
    t = _non_negative("step", step)
    a0 = _positive("alpha_start", alpha_start)
    a1 = _positive("alpha_end", alpha_end)
    d = _positive("duration", duration)
    return _apply_floor(a0 + (a1 - a0) * min(t / d, 1.0), floor)


def alpha_constant(step: float, alpha: float, *, floor: float = 0.0) -> float:
    """A fixed temperature (the "instant" schedule of Table 8); ``step`` is only validated."""
    _non_negative("step", step)
    return _apply_floor(_positive("alpha", alpha), floor)
