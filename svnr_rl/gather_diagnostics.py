"""Particle Gather diagnostics: what fixed policies score, and what a run's critic saw and
believes.  Both variants (``particle-gather``, the iterated game, and
``particle-gather-terminal``); where a function takes no task it means the terminal variant,
the game the committed study results were made with.

* :func:`random_policy_outcomes`, :func:`steer_to_landmark_outcomes` -- episode returns of
  uniform random actions and of uncoordinated steering (every agent heads straight for the
  landmark, :func:`steer_actions`); :func:`oracle_actions`, a scripted coordinated policy;
* :func:`gather_diagnostics` -- the rewards in a run's replay buffer and its critic's ``Q``
  against the true returns;
* :func:`soft_value_bound` -- the largest soft value any state-action can have, so that a
  larger mean ``Q`` is overestimation.

What a ``+5`` / ``-2`` reward counts differs between the variants: in the terminal one it is an
episode's last transition (a joint / a lone arrival, one per episode at most); in the iterated
one it is a *step* on which both / exactly one of the particles are inside the arrival disc
(up to 25 per episode).

Report sections of studies call these (:mod:`svnr_rl.study.sections`); the card of
:mod:`svnr_rl.particle_gather_card` puts the fixed policies of either variant side by side.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from svnr_rl.atomic_file import write_atomic

__all__ = [
    "DIAGNOSTICS_FILE",
    "GATHER_TASKS",
    "JOINT_DIM",
    "PARK_MARGIN",
    "REWARD_MAX",
    "GatherDiagnostics",
    "gather_diagnostics",
    "oracle_actions",
    "random_policy_outcomes",
    "soft_value_bound",
    "steer_actions",
    "steer_to_landmark_outcomes",
]

FloatArray = NDArray[np.float64]

REWARD_MAX = 5.0  # the largest reward of a step (and return of a terminal-variant episode)
JOINT_DIM = 4  # joint action coordinates of Particle Gather
#: the Particle Gather variants (iterated, terminal)
GATHER_TASKS: tuple[str, ...] = ("particle-gather", "particle-gather-terminal")
_TERMINAL = "particle-gather-terminal"


@dataclass(frozen=True)
class GatherDiagnostics:
    """What a Particle Gather run's critic saw and believes, read from its last checkpoint.

    ``joint_arrivals`` / ``lone_arrivals``: replay transitions with reward ``+5`` / ``-2``
    (terminal variant: each ends one episode, a joint / a lone arrival; iterated variant: each
    is one step with both / exactly one particle inside the disc); ``q_mean`` / ``q_max``: the
    critic ``Q(s, u)`` on 1024 replay transitions (drawn with
    ``torch.Generator().manual_seed(0)``) divided by ``algo.reward_scale``, to compare with the
    true returns (terminal: ``-2``, ``0`` or ``5``; iterated: in ``[-50, 125]`` over 25 steps)
    and :func:`soft_value_bound`; ``alpha``: the temperature at the last update; ``task``: the
    run's variant.
    """

    transitions: int
    joint_arrivals: int
    lone_arrivals: int
    q_mean: float
    q_max: float
    alpha: float
    task: str = _TERMINAL


#: the diagnostics of a run, written beside its ``summary.json`` when they are computed, so that a
#: study archive (run folders without checkpoints, :mod:`svnr_rl.study.archive`) keeps them
DIAGNOSTICS_FILE = "gather_diagnostics.json"


def gather_diagnostics(run_dir: Path) -> GatherDiagnostics:
    """:class:`GatherDiagnostics` of the run folder ``run_dir``.

    Computed from its ``latest.pt`` when the folder has one (and then written to
    :data:`DIAGNOSTICS_FILE` in it, atomically); read from :data:`DIAGNOSTICS_FILE` when the
    checkpoint is gone, as in a study archive.  Raises ``FileNotFoundError`` when it has neither.
    """
    ckpt = run_dir / "checkpoints" / "latest.pt"
    if not ckpt.is_file():
        return _read_diagnostics(run_dir)
    d = _diagnostics_of_checkpoint(run_dir, ckpt)
    write_atomic(run_dir / DIAGNOSTICS_FILE, json.dumps(dataclasses.asdict(d), indent=1) + "\n")
    return d


def _read_diagnostics(run_dir: Path) -> GatherDiagnostics:
    path = run_dir / DIAGNOSTICS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"run_dir: {str(run_dir)!r} has neither a checkpoint (checkpoints/latest.pt) nor "
            f"{DIAGNOSTICS_FILE}: the critic's diagnostics need the one, or the other written "
            "by a report made while the checkpoint was there"
        )
    data = json.loads(path.read_text())
    fields = {f.name for f in dataclasses.fields(GatherDiagnostics)}
    if not isinstance(data, dict) or set(data) != fields:
        raise ValueError(f"{str(path)!r}: expected the keys {sorted(fields)}")
    d = GatherDiagnostics(**data)
    if d.task not in GATHER_TASKS:
        raise ValueError(f"{str(path)!r}: task {d.task!r} is not Particle Gather")
    return d


def _diagnostics_of_checkpoint(run_dir: Path, ckpt: Path) -> GatherDiagnostics:
    import torch

    from svnr_rl.checkpoint import load_checkpoint
    from svnr_rl.config import config_from_dict
    from svnr_rl.train import Trainer

    data = load_checkpoint(ckpt)
    cfg = config_from_dict(data["config"])
    if cfg.env.task not in GATHER_TASKS:
        raise ValueError(
            f"run_dir: {str(run_dir)!r} is a {cfg.env.task!r} run, not Particle Gather"
        )
    trainer = Trainer(cfg, run_dir)
    trainer.load_state(data)
    reward = data["replay"]["data"]["reward"][: trainer.replay.size]
    batch = trainer.replay.sample(1024, torch.Generator().manual_seed(0))
    with torch.no_grad():
        q = trainer.agent.critic.q_min(batch.state, batch.action.flatten(1)) / cfg.algo.reward_scale
    return GatherDiagnostics(
        transitions=trainer.replay.size,
        joint_arrivals=int((reward == 5.0).sum()),
        lone_arrivals=int((reward == -2.0).sum()),
        q_mean=float(q.mean()),
        q_max=float(q.max()),
        alpha=cfg.alpha.value(trainer._clock()),
        task=cfg.env.task,
    )


def random_policy_outcomes(
    task: str, num_envs: int = 64, steps: int = 4000, **params: Any
) -> dict[float, int]:
    """Episode returns of uniformly random actions: ``{return: count}`` (seeded, reproducible);
    ``params`` are the task's parameters (e.g. ``arrival_radius`` of Particle Gather)."""
    return _outcomes(task, None, num_envs, steps, params)


def steer_to_landmark_outcomes(
    num_envs: int = 64, steps: int = 4000, task: str = _TERMINAL, **params: Any
) -> dict[float, int]:
    """Particle Gather returns when every agent steers its particle to the landmark:
    ``a = clip(-2 p - v, -1, 1)`` per axis (``p``, ``v``: the particle's position relative to
    the landmark and its velocity, from the shared observation).  No coordination at all:
    both particles head straight in; in the terminal variant (the default ``task``) +5 comes
    only when they happen to arrive at the same step."""
    if task not in GATHER_TASKS:
        raise ValueError(f"task must be one of {', '.join(GATHER_TASKS)}; got {task!r}")
    return _outcomes(task, steer_actions, num_envs, steps, params)


def steer_actions(state: NDArray[np.float64]) -> NDArray[np.float64]:
    """The steer-to-landmark actions ``[B, 4, 1]`` of Particle Gather states ``[B, 8]``."""
    # state [B, 8] = [p0 (2), v0 (2), p1 (2), v1 (2)] -> actions [B, 4, 1] (p0_x, p0_y, p1_x, p1_y)
    pos, vel = state[:, [0, 1, 4, 5]], state[:, [2, 3, 6, 7]]
    out: NDArray[np.float64] = np.clip(-2.0 * pos - vel, -1.0, 1.0)[..., None]
    return out


#: the oracle parks this far outside the arrival disc
PARK_MARGIN = 0.2
_GAIN = 2.5  # velocity per unit of position error: critically damped (double pole at 0.5)
_MAX_SPEED = 1.5  # of the parking motion (0.15 per step)
_SPREAD = np.radians(50.0)  # half the angle between the parking spots when spreading
_PARK_TOL_R, _PARK_TOL_V, _PUSH_V = 0.01, 0.05, 0.25


def _track(v_des: FloatArray, vel: FloatArray) -> FloatArray:
    """Actions that set the next velocity to ``v_des`` (mpe2: ``v' = 0.75 v + 0.5 a``),
    clipped to ``[-1, 1]`` per axis."""
    out: FloatArray = np.clip((v_des - 0.75 * vel) / 0.5, -1.0, 1.0)
    return out


def oracle_actions(state: FloatArray, arrival_radius: float) -> FloatArray:
    """The scripted oracle's joint actions ``[B, 4, 1]`` for Particle Gather states ``[B, 8]``.

    Parking spot of a particle: radius ``R = arrival_radius + 0.2`` on its own ray, or, while
    the two rays are less than 90 degrees apart, on rays spread to 100 degrees apart about
    their bisector; the particle moves there in polar coordinates (radial and tangential
    velocity, critically damped, so it never enters the disc on the way).  When both particles
    are parked (within 0.01 of ``R``, slower than 0.05, rays at least 90 degrees apart) both push
    with the same unit force towards the landmark, and keep pushing while both move inwards
    together; a particle inside the disc holds a point at ``0.6 * arrival_radius`` on its ray.
    Only the current state is read (no memory), so the policy is decentralizable.
    """
    b = state.shape[0]
    pos = state[:, [0, 1, 4, 5]].reshape(b, 2, 2)
    vel = state[:, [2, 3, 6, 7]].reshape(b, 2, 2)
    park = arrival_radius + PARK_MARGIN
    r = np.sqrt(np.sum(np.square(pos), axis=-1))
    u = pos / np.maximum(r, 1e-12)[..., None]
    tangent = np.stack([-u[..., 1], u[..., 0]], axis=-1)
    inside = r <= arrival_radius
    phi = np.arctan2(pos[..., 1], pos[..., 0])
    gap = (phi[:, 1] - phi[:, 0] + np.pi) % (2.0 * np.pi) - np.pi
    sep = np.abs(gap)
    side = np.where(gap >= 0.0, 1.0, -1.0)
    turn = np.where(sep < np.pi / 2, _SPREAD - sep / 2, 0.0)
    turn2 = np.stack([-side * turn, side * turn], axis=1)
    v_des = (_GAIN * (park - r))[..., None] * u + (_GAIN * park * turn2)[..., None] * tangent
    speed_des = np.sqrt(np.sum(np.square(v_des), axis=-1, keepdims=True))
    v_des = v_des * np.minimum(1.0, _MAX_SPEED / np.maximum(speed_des, 1e-12))
    speed = np.sqrt(np.sum(np.square(vel), axis=-1))
    v_rad = np.sum(vel * u, axis=-1)
    parked = (
        (np.abs(r - park) < _PARK_TOL_R).all(axis=1)
        & (speed < _PARK_TOL_V).all(axis=1)
        & (sep >= np.pi / 2)
    )
    pushing = (
        (v_rad < -_PUSH_V).all(axis=1)
        & (r < park + _PARK_TOL_R).all(axis=1)
        & (np.abs(r[:, 0] - r[:, 1]) < 2 * _PARK_TOL_R)
    )
    push = parked | pushing | inside.any(axis=1)
    hold = _track(_GAIN * (u * (0.6 * arrival_radius) - pos), vel)
    act = np.where(push[:, None, None], -u, _track(v_des, vel))
    act = np.where(inside[..., None], hold, act)
    out: FloatArray = act.reshape(b, 4, 1)
    return out


def _outcomes(
    task: str,
    policy: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None,
    num_envs: int,
    steps: int,
    params: dict[str, Any],
) -> dict[float, int]:
    """``{return: count}`` of ``policy(state)`` (uniform random actions when ``None``)."""
    from svnr_rl.envs.registry import make_batched

    env = make_batched(task, num_envs, **params)
    step = env.reset(0)
    rng = np.random.default_rng(0)
    shape = (num_envs, env.spec.n_agents, env.spec.action_dim)
    counts: dict[float, int] = {}
    for _ in range(steps):
        actions = rng.uniform(-1.0, 1.0, shape) if policy is None else policy(step.state)
        step = env.step(actions)
        for r in step.episode_return[np.logical_or(step.terminated, step.truncated)]:
            counts[float(r)] = counts.get(float(r), 0) + 1
    env.close()
    return counts


def soft_value_bound(alpha: float, gamma: float, task: str = _TERMINAL) -> float:
    """The largest soft value of a Particle Gather state-action at temperature ``alpha``.

    Terminal variant (the default): the largest return, 5, plus the largest entropy bonus the
    uniform soft value adds, ``alpha D log 2`` per step (``D = 4``) forever,
    ``alpha D log 2 / (1 - gamma)``.  Iterated variant: ``+5`` and the bonus at every step,
    forever (truncation is bootstrapped), ``(5 + alpha D log 2) / (1 - gamma)``.  A mean ``Q``
    above it is overestimation, whatever the method's soft value."""
    if task not in GATHER_TASKS:
        raise ValueError(f"task must be one of {', '.join(GATHER_TASKS)}; got {task!r}")
    bonus = alpha * JOINT_DIM * math.log(2.0)
    if task == _TERMINAL:
        return REWARD_MAX + bonus / (1.0 - gamma)
    return (REWARD_MAX + bonus) / (1.0 - gamma)
