"""The four sections of a run's configuration and the frozen :class:`Config` that holds them.

Each section checks its own fields when built (:mod:`svnr_rl.config_rules`), so that no invalid
:class:`Config` can exist: an error names the field before anything is allocated.  Torch-free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from svnr_rl.config_rules import (
    CLOCKS,
    DEVICES,
    DTYPES,
    LIMITS,
    MAX_CRITIC_ROWS,
    MAX_KERNEL_ENTRIES,
    MAX_LAYERS,
    MAX_WIDTH,
    METHODS,
    SCHEDULES,
    TASKS,
    TOPOLOGIES,
    VALUE_PROPOSALS,
    at_most,
    choice,
    fail,
    nonneg_float,
    nonneg_int,
    pos_float,
    pos_int,
)
from svnr_rl.topology import parse_topology

__all__ = ["AlgoConfig", "AlphaConfig", "Config", "EnvConfig", "TrainConfig"]

#: the tasks whose number of agents is a parameter (the continuous matrix games have exactly 2)
_N_AGENTS_TASKS: tuple[str, ...] = ("max-of-three", "two-modalities", "two-optima-symmetric")


@dataclass(frozen=True)
class EnvConfig:
    """Task selection. ``s2`` is the *Max of Three* basin width (paper: 3.0, 2.0, 1.5);
    ``n_agents`` the number of agents of a differential game (0: the paper's 3; 1 makes the
    game a single-agent task, e.g. for MASAC = SAC) or of ``two-optima-symmetric`` (0: 3; >= 2)."""

    task: str = "max-of-three"
    s2: float = 1.5
    n_agents: int = 0
    num_envs: int = 8
    eval_num_envs: int = 16

    def __post_init__(self) -> None:
        choice("env", self, "task", TASKS)
        pos_float("env", self, "s2")
        nonneg_int("env", self, "n_agents")
        pos_int("env", self, "num_envs", "eval_num_envs")
        at_most("env", self, LIMITS["env"])
        if self.n_agents and self.task not in _N_AGENTS_TASKS:
            fail(
                "env.n_agents",
                f"applies only to {', '.join(_N_AGENTS_TASKS)}; task is {self.task}",
            )

    def make_params(self) -> dict[str, Any]:
        """Keyword parameters for ``make_batched`` of this task."""
        params: dict[str, Any] = {"s2": self.s2} if self.task == "max-of-three" else {}
        if self.n_agents:
            params["n_agents"] = self.n_agents
        return params


@dataclass(frozen=True)
class AlgoConfig:
    """Method, networks and update sizes (Sec. 5, App. F.2, H.5.2).

    ``num_particles`` is ``M`` of Eq. 9 (paper range 16..64), ``value_samples`` the number of
    importance samples of the Eq. 11 soft value, ``policy_batch_size`` the number of replay
    states whose ``M`` particles enter one Stein update (the defaults keep
    ``policy_batch_size * M = batch_size``: the policy step evaluates the critic on as many
    ``(s, u)`` rows as the critic step and as a deterministic-policy update on the same batch;
    ``0`` means ``batch_size // M``), ``noise_dim`` the per-agent noise size
    (0: the agent's action size).  ``value_proposal``: ``uniform`` importance-samples the soft
    value from the uniform law on ``[-1, 1]^d`` (soft Q-learning); ``policy`` uses the samplers'
    joint actions with ``log q = 0`` (Eq. 11 read literally, ``E_{u'~p}``).
    ``update_to_data`` is the number of updates per *environment* step (SAC: 1), whatever
    ``env.num_envs`` is; ``0`` keeps ``updates_per_step`` updates per *vector* step of
    ``num_envs`` environments.  Fractional ratios carry the remainder from one vector step to the
    next (and across a resume).  ``init_alpha`` is
    the starting temperature of methods that learn their own (MASAC); the others follow
    ``alpha.*``.
    """

    method: str = "svnr"
    topology: str = "nested"
    peers: int = 1
    num_particles: int = 32
    value_samples: int = 32
    value_proposal: str = "uniform"
    policy_batch_size: int = 4
    noise_dim: int = 0
    hidden: tuple[int, ...] = (64, 64)
    critic_hidden: tuple[int, ...] = (128, 128)
    policy_lr: float = 1e-3
    critic_lr: float = 1e-3
    batch_size: int = 128
    buffer_size: int = 1_000_000
    gamma: float = 0.99
    polyak: float = 0.005
    twin_critic: bool = False
    init_alpha: float = 1.0
    reward_scale: float = 1.0
    updates_per_step: int = 1
    update_to_data: float = 0.0
    learning_starts: int = 256
    grad_clip: float = 0.0

    @property
    def policy_states(self) -> int:
        """States per Stein update: ``policy_batch_size``, or ``batch_size // M`` when 0."""
        return self.policy_batch_size or max(1, self.batch_size // self.num_particles)

    def __post_init__(self) -> None:
        choice("algo", self, "method", METHODS)
        if self.topology not in TOPOLOGIES:
            # syntax only: the number of agents is the task's, checked when the task is built
            parse_topology(self.topology, None)
        choice("algo", self, "value_proposal", VALUE_PROPOSALS)
        pos_int("algo", self, "peers", "value_samples", "batch_size")
        pos_int("algo", self, "buffer_size", "updates_per_step")
        nonneg_int("algo", self, "noise_dim", "learning_starts", "policy_batch_size")
        if self.num_particles < 2:
            fail(
                "algo.num_particles",
                f"must be >= 2 (a kernel needs pairs); got {self.num_particles}",
            )
        at_most("algo", self, LIMITS["algo"])
        for name in ("hidden", "critic_hidden"):
            sizes = getattr(self, name)
            if len(sizes) == 0 or any(h < 1 for h in sizes):
                fail(f"algo.{name}", f"must be a non-empty list of sizes >= 1; got {sizes!r}")
            if len(sizes) > MAX_LAYERS or max(sizes) > MAX_WIDTH:
                fail(
                    f"algo.{name}",
                    f"at most {MAX_LAYERS} layers of at most {MAX_WIDTH} units; got {sizes!r}",
                )
        if self.batch_size * self.value_samples > MAX_CRITIC_ROWS:
            fail(
                "algo.value_samples",
                f"batch_size x value_samples = {self.batch_size * self.value_samples:,} critic "
                f"rows per update; at most {MAX_CRITIC_ROWS:,}",
            )
        kernel = self.policy_states * self.num_particles**2
        if kernel > MAX_KERNEL_ENTRIES:
            fail(
                "algo.num_particles",
                f"policy states x num_particles^2 = {kernel:,} kernel entries per update; "
                f"at most {MAX_KERNEL_ENTRIES:,}",
            )
        pos_float("algo", self, "policy_lr", "critic_lr", "reward_scale", "init_alpha")
        nonneg_float("algo", self, "grad_clip", "update_to_data")
        if self.update_to_data > 1000:
            fail("algo.update_to_data", f"must be at most 1,000; got {self.update_to_data!r}")
        if not (0.0 <= self.gamma < 1.0):
            fail("algo.gamma", f"must be in [0, 1); got {self.gamma!r}")
        if not (0.0 < self.polyak <= 1.0):
            fail("algo.polyak", f"must be in (0, 1]; got {self.polyak!r}")
        if self.buffer_size < self.batch_size:
            fail("algo.buffer_size", f"must be >= algo.batch_size = {self.batch_size}")


@dataclass(frozen=True)
class AlphaConfig:
    """Temperature schedule (:mod:`svnr_core.schedules`).  ``clock``: ``updates`` (the update
    counter, the default and the presets' clock) or ``env_steps`` (environment steps, so that a
    schedule means the same whatever the update-to-data ratio and the number of environments).

    The default is App. F.2's form with the paper's bonus 500 and delay 10, but a rate of 0.004
    per *update* instead of 0.1 per step: the high-temperature exploration phase then lasts
    ~2000 updates (alpha ~ 0.2 after 2000, ~0.05 after 3000), long enough for the critic to
    learn the narrow global optimum of Max of Three with ``s2 = 1.5``.  With 0.008 and 16k steps,
    3 of 5 seeds settled on the local optimum at ``s2 = 1.5`` (docs/results/svnr_results).

    ``paper-f2``: ``alpha_end + bonus * exp(-rate * max(t - delay, 0))`` (App. F.2);
    ``exponential``: Eq. 20 with ``alpha_start``, ``alpha_end``, ``tau``;
    ``linear``: from ``alpha_start`` to ``alpha_end`` over ``duration`` (App. H.4.2);
    ``constant``: ``alpha_end`` throughout;
    ``staged-f2``: ``paper-f2`` before ``second_start``, ``second_scale * alpha_end`` until
    ``third_start``, then ``third_alpha`` -- the schedule the public fork's ``res_gpf.py``
    executes (defaults: its values for a run of 5000 steps, a third and a half of the run,
    on the ``env_steps`` clock; docs/baselines.md, "The public ACCF learner").
    ``floor`` bounds every schedule from below.
    """

    schedule: str = "paper-f2"
    clock: str = "updates"
    alpha_start: float = 1.0
    alpha_end: float = 0.05
    tau: float = 2000.0
    bonus: float = 500.0
    rate: float = 0.004
    delay: float = 10.0
    duration: float = 2000.0
    second_start: float = 1666.0
    third_start: float = 2500.0
    second_scale: float = 0.1
    third_alpha: float = 0.3
    floor: float = 0.0

    def __post_init__(self) -> None:
        choice("alpha", self, "schedule", SCHEDULES)
        choice("alpha", self, "clock", CLOCKS)
        pos_float("alpha", self, "alpha_start", "alpha_end", "tau", "rate", "duration")
        nonneg_float("alpha", self, "bonus", "delay", "floor", "second_start", "third_start")
        pos_float("alpha", self, "second_scale", "third_alpha")
        if self.third_start < self.second_start:
            fail(
                "alpha.third_start",
                f"must be >= alpha.second_start = {self.second_start}; got {self.third_start!r}",
            )

    def value(self, step: int) -> float:
        """``alpha`` at ``step`` on the schedule's clock (updates or environment steps)."""
        from svnr_core import schedules

        if self.schedule == "paper-f2":
            return schedules.alpha_paper_f2(
                step,
                self.alpha_end,
                bonus=self.bonus,
                rate=self.rate,
                delay=self.delay,
                floor=self.floor,
            )
        if self.schedule == "staged-f2":
            return schedules.alpha_staged_f2(
                step,
                self.alpha_end,
                second_start=self.second_start,
                third_start=self.third_start,
                second_scale=self.second_scale,
                third_alpha=self.third_alpha,
                bonus=self.bonus,
                rate=self.rate,
                delay=self.delay,
                floor=self.floor,
            )
        if self.schedule == "exponential":
            return schedules.alpha_exponential(
                step, self.alpha_start, self.alpha_end, self.tau, floor=self.floor
            )
        if self.schedule == "linear":
            return schedules.alpha_linear(
                step, self.alpha_start, self.alpha_end, self.duration, floor=self.floor
            )
        return schedules.alpha_constant(step, self.alpha_end, floor=self.floor)


@dataclass(frozen=True)
class TrainConfig:
    """Seed, length (environment steps = transitions), cadence, device and output.

    Every ``eval_interval`` environment steps the run is evaluated (decentralized execution,
    ``eval_episodes`` episodes) and checkpointed; episodes in progress at that boundary are
    cut (bootstrapped, not terminal) and all environments are reset from the seed, so that a
    resumed run is identical to an uninterrupted one.
    """

    seed: int = 0
    total_env_steps: int = 24_000
    eval_interval: int = 2_000
    eval_episodes: int = 64
    device: str = "cpu"
    dtype: str = "float32"
    threads: int = 1
    out_dir: str = "runs"
    run_name: str = ""
    progress: bool = True
    tensorboard: bool = True
    record_every: int = 3
    record_limit: int = 1000

    def __post_init__(self) -> None:
        nonneg_int("train", self, "seed")
        pos_int("train", self, "total_env_steps", "eval_interval", "eval_episodes", "threads")
        pos_int("train", self, "record_every")
        nonneg_int("train", self, "record_limit")
        at_most("train", self, LIMITS["train"])
        choice("train", self, "device", DEVICES)
        choice("train", self, "dtype", DTYPES)
        if self.run_name and not re.fullmatch(r"[A-Za-z0-9_.\-]+", self.run_name):
            fail(
                "train.run_name",
                f"may contain only letters, digits, '_', '.', '-'; got {self.run_name!r}",
            )


@dataclass(frozen=True)
class Config:
    """The whole experiment configuration (see the module docstring)."""

    env: EnvConfig = field(default_factory=EnvConfig)
    algo: AlgoConfig = field(default_factory=AlgoConfig)
    alpha: AlphaConfig = field(default_factory=AlphaConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
