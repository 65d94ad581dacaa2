"""The training loop (Algorithm 1) with run folders, evaluation and exact resume.

One loop serves every method.  Per vector step ``t``: the agents act with the common noise
``xi_t`` (App. J), the batched environments step, the transitions enter the replay buffer, and
``updates_per_step`` updates run, or ``update_to_data`` per environment step (critic on Eq. 11,
policy by the method, targets, alpha from the schedule, whose clock is the update counter or the
environment steps).

Training is cut into **segments** of ``train.eval_interval`` environment steps.  Every segment
starts by resetting all environments from ``(seed, segment)`` and ends with an evaluation by
decentralized execution, a metrics row and a checkpoint (``latest.pt``, and ``best.pt`` when the
test return improved).  Episodes still running at a segment's end are cut: their transitions
stay in the buffer as ordinary (bootstrapped) ones.  Because a segment depends only on the
checkpointed state, a run interrupted anywhere (SIGINT, kill) and resumed from its last
checkpoint ends with exactly the parameters and metrics of an uninterrupted run.

Run folder::

    config.json        the resolved configuration
    status.json        running | interrupted | failed | completed (+ details)
    metrics.csv        one row per segment (deterministic columns only)
    tb/                TensorBoard events
    checkpoints/       latest.pt, best.pt (atomic writes)
    plots/             learning_curve.png; differential games: joint_actions.png (Fig. 5),
                       converged_samples.png (Fig. 3)
    summary.json       final test return, gap to optimum, steps to reach the target, timing
"""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from svnr_rl.agents import Agent, make_agent
from svnr_rl.checkpoint import (
    CheckpointError,
    capture_global_rng,
    load_checkpoint,
    restore_global_rng,
    save_checkpoint,
)
from svnr_rl.config import (
    Config,
    ConfigError,
    config_from_dict,
    config_to_dict,
    parse_topology,
    resolve_run_length,
)
from svnr_rl.envs.base import BatchedEnv
from svnr_rl.evaluate import EvalResult, decentralize, evaluate_agents
from svnr_rl.noise import CommonNoise, derive_seed
from svnr_rl.replay import ReplayBuffer
from svnr_rl.resources import check_memory
from svnr_rl.run_status import is_completed, running_pid, write_status

__all__ = [
    "DIFFERENTIAL_TASKS",
    "METRIC_COLUMNS",
    "TrainResult",
    "Trainer",
    "resolve_device",
    "resume",
    "train",
]

DIFFERENTIAL_TASKS = ("max-of-three", "two-modalities")
METRIC_COLUMNS = (
    "segment",
    "env_steps",
    "updates",
    "episodes",
    "alpha",
    "train_return",
    "eval_return_mean",
    "eval_return_std",
    "critic_loss",
    "policy_loss",
)
# stream keys of derive_seed(seed, key, ...)
_NOISE, _REPLAY, _ENV, _EVAL_ENV, _EVAL_NOISE, _AGENT = 1, 2, 3, 4, 5, 6
#: target test return for "steps needed" (the issue's bar for the differential games)
TARGET_RETURN = {"max-of-three": 9.5, "two-modalities": 9.5, "particle-gather": 4.5}


@dataclass(frozen=True)
class TrainResult:
    """Outcome of a finished run."""

    run_dir: Path
    final: EvalResult
    env_steps: int
    updates: int
    steps_to_target: int | None
    wall_time_s: float
    #: ``resume`` of a run that had already trained to its length (nothing was written)
    already_finished: bool = False


def resolve_device(name: str) -> torch.device:
    """``cpu`` | ``cuda`` | ``auto`` -> a device; ``cuda`` without a GPU is a ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device: 'cuda' requested but no CUDA device is available")
    return torch.device(name)


def _dtype(name: str) -> torch.dtype:
    return torch.float64 if name == "float64" else torch.float32


def make_env(cfg: Config, num_envs: int) -> BatchedEnv:
    """The batched environment of ``cfg.env`` (bad parameters become a ConfigError)."""
    from svnr_rl.cli_style import deferred_interrupt
    from svnr_rl.envs.registry import make_batched

    try:
        with deferred_interrupt():  # may import mujoco (a pybind11 module) the first time
            return make_batched(cfg.env.task, num_envs, **cfg.env.make_params())
    except ValueError as exc:
        raise ConfigError(f"env: {exc}") from None


def _fmt(x: float) -> str:
    return repr(float(x))


class Trainer:
    """Holds every piece of training state; :meth:`run` trains, :meth:`state` checkpoints it."""

    def __init__(self, cfg: Config, run_dir: Path) -> None:
        self.cfg = cfg
        self.run_dir = run_dir
        self.device = resolve_device(cfg.train.device)
        self.dtype = _dtype(cfg.train.dtype)
        torch.set_num_threads(cfg.train.threads)
        seed = cfg.train.seed
        self.env = make_env(cfg, cfg.env.num_envs)
        self.eval_env = make_env(cfg, cfg.env.eval_num_envs)
        spec = self.env.spec
        self.spec = spec
        if cfg.algo.topology not in ("nested", "full", "empty", "random-peers"):
            parse_topology(cfg.algo.topology, spec.n_agents, cfg.env.task)
        if cfg.algo.topology == "random-peers" and not 1 <= cfg.algo.peers <= spec.n_agents - 1:
            raise ConfigError(
                f"algo.peers: must be in [1, {spec.n_agents - 1}] for {spec.n_agents} agents; "
                f"got {cfg.algo.peers}"
            )
        # before any network or buffer exists: refuse what cannot fit, naming the field
        check_memory(
            cfg,
            n_agents=spec.n_agents,
            obs_dim=spec.obs_dim,
            state_dim=spec.state_dim,
            action_dim=spec.action_dim,
        )
        self.agent: Agent = make_agent(
            spec, cfg.algo, device=self.device, dtype=self.dtype, seed=derive_seed(seed, _AGENT)
        )
        self.replay = ReplayBuffer(
            cfg.algo.buffer_size,
            spec.n_agents,
            spec.obs_dim,
            spec.state_dim,
            spec.action_dim,
            device=self.device,
            dtype=self.dtype,
        )
        self.replay_gen = torch.Generator().manual_seed(derive_seed(seed, _REPLAY))
        peers = cfg.algo.peers if self.agent.dynamic_topology else None
        self.noise = CommonNoise(
            derive_seed(seed, _NOISE), spec.n_agents, self.agent.noise_dim, peers
        )
        self.steps_per_segment = math.ceil(cfg.train.eval_interval / cfg.env.num_envs)
        self.total_segments = math.ceil(
            cfg.train.total_env_steps / (self.steps_per_segment * cfg.env.num_envs)
        )
        self.segment = 0
        self.vec_steps = 0
        self.env_steps = 0
        self.updates = 0
        self.episodes = 0
        self.update_credit = 0.0  # fractional updates owed (algo.update_to_data)
        self.best_eval = -math.inf
        self.metrics: list[dict[str, float]] = []
        self.record: list[list[float]] = []  # [env_steps, a_1..a_N (native), reward]
        self.wall_time = 0.0

    # ------------------------------------------------------------------ state

    def state(self) -> dict[str, Any]:
        """Everything a resume needs (see :mod:`svnr_rl.checkpoint`)."""
        return {
            "config": config_to_dict(self.cfg),
            "counters": {
                "segment": self.segment,
                "vec_steps": self.vec_steps,
                "env_steps": self.env_steps,
                "updates": self.updates,
                "episodes": self.episodes,
                "update_credit": self.update_credit,
            },
            "best_eval": self.best_eval,
            "wall_time": self.wall_time,
            "agent": self.agent.state_dict(),
            "replay": self.replay.state_dict(),
            "replay_gen": self.replay_gen.get_state(),
            "rng": capture_global_rng(),
            "metrics": self.metrics,
            "record": torch.tensor(self.record, dtype=torch.float64),
        }

    def load_state(self, data: dict[str, Any]) -> None:
        """Restore :meth:`state`; a malformed payload raises :class:`CheckpointError`."""
        try:
            c = data["counters"]
            self.segment, self.vec_steps = int(c["segment"]), int(c["vec_steps"])
            self.env_steps, self.updates = int(c["env_steps"]), int(c["updates"])
            self.episodes = int(c["episodes"])
            self.update_credit = float(c.get("update_credit", 0.0))
            self.best_eval = float(data["best_eval"])
            self.wall_time = float(data["wall_time"])
            self.agent.load_state_dict(data["agent"])
            self.replay.load_state_dict(data["replay"])
            self.replay_gen.set_state(data["replay_gen"])
            restore_global_rng(data["rng"])
            self.metrics = [dict(r) for r in data["metrics"]]
            self.record = data["record"].tolist()
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"checkpoint contents do not match this run ({exc})") from None

    # ------------------------------------------------------------------ files

    def _write_status(self, state: str, **extra: Any) -> None:
        write_status(
            self.run_dir,
            state,
            env_steps=self.env_steps,
            segment=self.segment,
            total_env_steps=self.cfg.train.total_env_steps,
            **extra,
        )

    def _write_metrics(self) -> None:
        tmp = self.run_dir / ".metrics.csv.tmp"
        with tmp.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(METRIC_COLUMNS)
            for row in self.metrics:
                w.writerow(
                    [
                        _fmt(row[k])
                        if k not in ("segment", "env_steps", "updates", "episodes")
                        else int(row[k])
                        for k in METRIC_COLUMNS
                    ]
                )
        os.replace(tmp, self.run_dir / "metrics.csv")

    # ------------------------------------------------------------------ the loop

    def _act(self, obs: torch.Tensor, t: int) -> torch.Tensor:
        xi = torch.as_tensor(
            self.noise.joint(t, obs.shape[0]), dtype=self.dtype, device=self.device
        )
        if self.agent.dynamic_topology:
            mask = torch.as_tensor(self.noise.peer_mask(t), dtype=self.dtype, device=self.device)
        else:
            mask = self.agent.static_mask
        with torch.no_grad():
            return self.agent.act(obs, xi, mask, explore=True)

    def _clock(self) -> int:
        """The alpha schedule's clock: the update counter or the environment steps."""
        return self.env_steps if self.cfg.alpha.clock == "env_steps" else self.updates

    def _updates_now(self) -> int:
        """Updates after this vector step: ``updates_per_step``, or with ``update_to_data``
        the whole part of the accumulated ``ratio x num_envs`` (the rest carries over)."""
        a = self.cfg.algo
        if a.update_to_data <= 0:
            return a.updates_per_step
        self.update_credit += a.update_to_data * self.cfg.env.num_envs
        n = math.floor(self.update_credit + 1e-9)
        self.update_credit -= n
        return n

    def evaluate(self, segment: int) -> EvalResult:
        """Decentralized test episodes with seeds derived from ``(seed, segment)``."""
        seed = self.cfg.train.seed
        agents = decentralize(self.agent, derive_seed(seed, _EVAL_NOISE, segment))
        return evaluate_agents(
            agents,
            self.eval_env,
            self.cfg.train.eval_episodes,
            derive_seed(seed, _EVAL_ENV, segment),
        )

    def run(
        self,
        *,
        on_step: Callable[[Trainer], None] | None = None,
        writer: Any = None,
    ) -> None:
        """Train from the current state to ``total_env_steps`` (segments, see module doc)."""
        cfg = self.cfg
        b = cfg.env.num_envs
        dev, dt = self.device, self.dtype
        learn_after = max(cfg.algo.learning_starts, cfg.algo.batch_size)
        record = self.spec.name in DIFFERENTIAL_TASKS or cfg.env.task in DIFFERENTIAL_TASKS
        bar = tqdm(
            total=self.total_segments * self.steps_per_segment * b,
            initial=self.env_steps,
            unit="step",
            unit_scale=True,
            disable=not cfg.train.progress,
            dynamic_ncols=True,
            desc=f"{cfg.env.task}/{cfg.algo.method}",
        )
        last_eval = self.metrics[-1]["eval_return_mean"] if self.metrics else math.nan
        try:
            while self.segment < self.total_segments:
                t0 = time.perf_counter()
                seg = self.segment
                step = self.env.reset(derive_seed(cfg.train.seed, _ENV, seg))
                returns: list[float] = []
                closs: list[float] = []
                ploss: list[float] = []
                alpha = cfg.alpha.value(self._clock())
                for _ in range(self.steps_per_segment):
                    obs = torch.as_tensor(step.obs, dtype=dt, device=dev)
                    state = torch.as_tensor(step.state, dtype=dt, device=dev)
                    actions = self._act(obs, self.vec_steps)
                    nxt = self.env.step(actions.double().cpu().numpy())
                    self.replay.add(
                        obs=obs,
                        state=state,
                        action=actions,
                        reward=torch.as_tensor(nxt.reward),
                        next_obs=torch.as_tensor(nxt.final_obs),
                        next_state=torch.as_tensor(nxt.final_state),
                        terminated=torch.as_tensor(nxt.terminated, dtype=torch.float64),
                    )
                    done = np.logical_or(nxt.terminated, nxt.truncated)
                    if done.any():
                        returns.extend(float(r) for r in nxt.episode_return[done])
                        self.episodes += int(done.sum())
                    if (
                        record
                        and self.vec_steps % cfg.train.record_every == 0
                        and len(self.record) < cfg.train.record_limit
                    ):
                        native = (actions[0, :, 0].double().cpu() * self.spec.action_scale).tolist()
                        self.record.append([float(self.env_steps), *native, float(nxt.reward[0])])
                    step = nxt
                    self.vec_steps += 1
                    self.env_steps += b
                    if self.replay.size >= learn_after:
                        for _ in range(self._updates_now()):
                            alpha = cfg.alpha.value(self._clock())
                            batch = self.replay.sample(cfg.algo.batch_size, self.replay_gen)
                            info = self.agent.update(batch, alpha)
                            closs.append(info["critic_loss"])
                            ploss.append(info["policy_loss"])
                            self.updates += 1
                    bar.update(b)
                    if on_step is not None:
                        on_step(self)
                ev = self.evaluate(seg)
                last_eval = ev.mean
                row = {
                    "segment": seg,
                    "env_steps": self.env_steps,
                    "updates": self.updates,
                    "episodes": self.episodes,
                    "alpha": self.agent.reported_alpha(alpha),
                    "train_return": float(np.mean(returns)) if returns else math.nan,
                    "eval_return_mean": ev.mean,
                    "eval_return_std": ev.std,
                    "critic_loss": float(np.mean(closs)) if closs else math.nan,
                    "policy_loss": float(np.mean(ploss)) if ploss else math.nan,
                }
                self.metrics.append(row)
                self.segment = seg + 1
                self.wall_time += time.perf_counter() - t0
                self._write_metrics()
                if writer is not None:
                    for k, v in row.items():
                        if k not in ("segment", "env_steps"):
                            writer.add_scalar(k, v, self.env_steps)
                    writer.flush()
                ckpt = self.run_dir / "checkpoints"
                improved = ev.mean > self.best_eval
                if improved:
                    self.best_eval = ev.mean
                payload = self.state()
                save_checkpoint(ckpt / "latest.pt", payload)
                if improved:
                    save_checkpoint(ckpt / "best.pt", payload)
                # progress for readers of status.json (and a heartbeat with this process' id)
                self._write_status("running")
                bar.set_postfix(test_return=f"{last_eval:.3f}", alpha=f"{row['alpha']:.3g}")
        finally:
            bar.close()

    def final_eval(self) -> EvalResult:
        """The last segment's evaluation as an :class:`EvalResult` (recomputed, deterministic)."""
        return self.evaluate(max(self.segment - 1, 0))


def _run_name(cfg: Config) -> str:
    return cfg.train.run_name or (
        f"{cfg.env.task}-{cfg.algo.method}-s{cfg.train.seed}-"
        f"{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    )


def _claim_run_dir(root: Path, name: str) -> Path:
    """Create and return a new folder ``root/name`` (or ``name-1``, ``name-2``, ...).

    ``mkdir`` without ``exist_ok`` is atomic, so two processes started at once into the same
    ``out_dir`` (the same second, the same name) each get a folder of their own.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"train.out_dir: cannot create {str(root)!r} ({exc.strerror or exc})"
        ) from None
    if not root.is_dir():
        raise ConfigError(f"train.out_dir: {str(root)!r} is not a folder")
    for k in range(10_000):
        path = root / (name if k == 0 else f"{name}-{k}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise ConfigError(
                f"train.out_dir: cannot create {str(path)!r} ({exc.strerror or exc})"
            ) from None
        return path
    raise ConfigError(f"train.out_dir: 10,000 run folders named {name!r} exist already")


def _steps_to_target(trainer: Trainer) -> int | None:
    target = TARGET_RETURN.get(trainer.cfg.env.task)
    if target is None:
        return None
    for row in trainer.metrics:
        if row["eval_return_mean"] >= target:
            return int(row["env_steps"])
    return None


def _tb_writer(trainer: Trainer, purge_step: int | None) -> Any:
    if not trainer.cfg.train.tensorboard:
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(trainer.run_dir / "tb"), purge_step=purge_step)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _catch_signals() -> dict[int, Any]:
    """SIGINT and SIGTERM stop training like Ctrl-C (also where a launcher ignores SIGINT,
    e.g. a background job of a non-interactive shell); returns the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.signal(s, _raise_interrupt) for s in (signal.SIGINT, signal.SIGTERM)}


def _execute(
    trainer: Trainer, *, on_step: Callable[[Trainer], None] | None, purge: int | None
) -> TrainResult:
    writer = _tb_writer(trainer, purge)
    trainer._write_status("running")
    previous = _catch_signals()
    try:
        trainer.run(on_step=on_step, writer=writer)
    except KeyboardInterrupt:
        hint = f"python -m svnr_rl resume {trainer.run_dir}"
        trainer._write_status("interrupted", resume=hint)
        print(
            f"\ninterrupted at {trainer.env_steps} environment steps; the last checkpoint "
            f"is kept. Continue with: {hint}",
            file=sys.stderr,
        )
        raise
    except BaseException as exc:
        trainer._write_status("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if writer is not None:
            writer.close()
    final = trainer.final_eval()
    from svnr_rl.plots import write_plots

    extra = write_plots(trainer)
    result = TrainResult(
        run_dir=trainer.run_dir,
        final=final,
        env_steps=trainer.env_steps,
        updates=trainer.updates,
        steps_to_target=_steps_to_target(trainer),
        wall_time_s=trainer.wall_time,
    )
    summary = {
        "task": trainer.cfg.env.task,
        "method": trainer.cfg.algo.method,
        "seed": trainer.cfg.train.seed,
        "final_test_return_mean": final.mean,
        "final_test_return_std": final.std,
        "eval_episodes": final.episodes,
        "optimum": final.optimum,
        "gap_to_optimum": final.gap,
        "best_test_return": trainer.best_eval,
        "env_steps": trainer.env_steps,
        "updates": trainer.updates,
        "steps_to_target": result.steps_to_target,
        "target_return": TARGET_RETURN.get(trainer.cfg.env.task),
        "wall_time_s": trainer.wall_time,
        "env_steps_per_s": trainer.env_steps / trainer.wall_time if trainer.wall_time > 0 else None,
        "device": str(trainer.device),
        **extra,
    }
    (trainer.run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    trainer._write_status("completed")
    return result


def train(cfg: Config, *, on_step: Callable[[Trainer], None] | None = None) -> TrainResult:
    """Train a new run of ``cfg``; the run folder is created only once everything is built.

    The run length is first resolved to whole segments (:func:`resolve_run_length`); the
    folder's ``config.json`` records the resolved values.
    """
    cfg, _ = resolve_run_length(cfg)
    root = Path(cfg.train.out_dir)
    trainer = Trainer(cfg, root / _run_name(cfg))  # may raise ConfigError: nothing written yet
    trainer.run_dir = _claim_run_dir(root, trainer.run_dir.name)
    (trainer.run_dir / "config.json").write_text(json.dumps(config_to_dict(cfg), indent=2) + "\n")
    return _execute(trainer, on_step=on_step, purge=None)


def load_run_config(run_dir: Path) -> Config:
    """The resolved config saved in a run folder (ConfigError if missing/invalid)."""
    if not run_dir.is_dir():
        raise ConfigError(f"run folder {str(run_dir)!r} does not exist")
    p = run_dir / "config.json"
    if not p.is_file():
        raise ConfigError(
            f"{str(run_dir)!r} is not a run folder (no config.json; a run folder is what "
            "`python -m svnr_rl train` prints as 'results in: ...')"
        )
    try:
        data = json.loads(p.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{str(p)!r} is not valid JSON: {exc}") from None
    try:
        return config_from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{str(p)!r}: {exc}") from None


#: train fields a resume or an evaluation may differ in from the run's checkpoint
_FREE_TRAIN_KEYS = ("total_env_steps", "progress", "device", "out_dir")


def config_differences(a: Config, b: Config) -> list[str]:
    """``section.field`` names whose values differ (the free train fields aside), sorted."""
    da, db = config_to_dict(a), config_to_dict(b)
    out = []
    for sec in da:
        for key in da[sec]:
            if sec == "train" and key in _FREE_TRAIN_KEYS:
                continue
            if da[sec][key] != db[sec][key]:
                out.append(f"{sec}.{key}")
    return out


def _describe_differences(a: Config, b: Config, a_name: str, b_name: str) -> str:
    da, db = config_to_dict(a), config_to_dict(b)
    diffs = config_differences(a, b)
    parts = []
    for name in diffs[:3]:
        sec, key = name.split(".")
        parts.append(f"{name} is {da[sec][key]!r} in {a_name} and {db[sec][key]!r} in {b_name}")
    more = f" (and {len(diffs) - 3} more)" if len(diffs) > 3 else ""
    return "; ".join(parts) + more


def _checkpoint_config(data: dict[str, Any], ckpt: Path) -> Config:
    try:
        raw = data["config"]
        return resolve_run_length(config_from_dict(raw))[0]
    except (KeyError, TypeError, ConfigError) as exc:
        raise CheckpointError(f"checkpoint {str(ckpt)!r} holds no valid config ({exc})") from None


def resume(
    run_dir: str | Path,
    *,
    overrides: dict[str, Any] | None = None,
    on_step: Callable[[Trainer], None] | None = None,
) -> TrainResult:
    """Continue an interrupted run from its latest checkpoint (or from scratch if it has none).

    ``overrides`` may change only ``train.total_env_steps``, ``train.progress`` and
    ``train.device``.  A completed run that has already trained to its (possibly new) length
    is left untouched: its final evaluation is recomputed and returned with
    ``already_finished``, and nothing in the folder is written.  (A run stopped after its last
    checkpoint but before its summary only gets its summary and plots written.)  A run that a
    live process on this machine is training is refused.
    """
    rd = Path(run_dir)
    stored = load_run_config(rd)
    cfg = stored
    allowed = {"total_env_steps", "progress", "device"}
    if overrides:
        bad = sorted(set(overrides) - allowed)
        if bad:
            raise ConfigError(
                f"train.{bad[0]}: cannot be changed on resume (allowed: {sorted(allowed)})"
            )
        cfg = config_from_dict({"train": overrides}, cfg)
    cfg, _ = resolve_run_length(cfg)
    pid = running_pid(rd)
    if pid is not None:
        raise ConfigError(
            f"run folder {str(rd)!r} is being trained by process {pid} on this machine; "
            "wait for it or stop it first"
        )
    trainer = Trainer(cfg, rd)
    ckpt = rd / "checkpoints" / "latest.pt"
    purge: int | None = None
    if ckpt.exists():
        data = load_checkpoint(ckpt)  # CPU: RNG states must stay CPU tensors
        saved = _checkpoint_config(data, ckpt)
        if config_differences(saved, cfg):
            raise CheckpointError(
                f"checkpoint {str(ckpt)!r} was written by a different config: "
                + _describe_differences(saved, cfg, "the checkpoint", "config.json")
            )
        trainer.load_state(data)
        finished = trainer.segment >= trainer.total_segments
        if finished and is_completed(rd) and (rd / "summary.json").is_file():
            return TrainResult(
                run_dir=rd,
                final=trainer.final_eval(),
                env_steps=trainer.env_steps,
                updates=trainer.updates,
                steps_to_target=_steps_to_target(trainer),
                wall_time_s=trainer.wall_time,
                already_finished=True,
            )
        purge = trainer.env_steps
        trainer._write_metrics()
    if config_to_dict(cfg) != config_to_dict(stored):  # a new length or device
        (rd / "config.json").write_text(json.dumps(config_to_dict(cfg), indent=2) + "\n")
    return _execute(trainer, on_step=on_step, purge=purge)


def evaluate_checkpoint(
    target: Path,
    *,
    which: str = "latest",
    episodes: int = 100,
    seed: int = 12345,
    device: str | None = None,
) -> tuple[EvalResult, Path, Config]:
    """Decentralized test episodes of a run folder's ``{which}.pt`` or of a checkpoint file.

    Returns the result, the checkpoint's path and its config (task, method, seed).  A run
    folder's checkpoint must belong to its ``config.json`` (same task, method, ...).
    """
    run_cfg: Config | None = None
    if target.is_dir():
        run_cfg = load_run_config(target)  # "not a run folder" before "no checkpoint"
        ckpt = target / "checkpoints" / f"{which}.pt"
        if not ckpt.is_file():
            raise CheckpointError(
                f"run folder {str(target)!r} has no {which}.pt checkpoint yet (one is written "
                "after the first evaluation interval)"
            )
    else:
        ckpt = target
    data = load_checkpoint(ckpt)
    cfg = _checkpoint_config(data, ckpt)
    if run_cfg is not None:
        run_cfg = resolve_run_length(run_cfg)[0]
        if config_differences(cfg, run_cfg):
            raise CheckpointError(
                f"checkpoint {str(ckpt)!r} does not belong to this run folder: "
                + _describe_differences(cfg, run_cfg, "the checkpoint", "config.json")
            )
    if device is not None:
        cfg = config_from_dict({"train": {"device": device}}, cfg)
    trainer = Trainer(cfg, ckpt.parent)
    try:
        trainer.agent.load_state_dict(data["agent"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {str(ckpt)!r}: networks do not match ({exc})") from None
    agents = decentralize(trainer.agent, seed)
    return evaluate_agents(agents, trainer.eval_env, episodes, seed), ckpt, cfg
