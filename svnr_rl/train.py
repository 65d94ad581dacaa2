"""Runs from start to finish: :func:`train` a new run, :func:`resume` one, evaluate a checkpoint.

The algorithm itself is :class:`svnr_rl.loop.Trainer`; this module wraps it in the life of a run
folder: claim the folder once everything is built, keep ``status.json`` current, turn SIGINT and
SIGTERM into a clean stop at the last checkpoint, and write the summary and figures at the end.

Run folder::

    config.json        the resolved configuration
    status.json        running | interrupted | failed | completed (+ details)
    metrics.csv        one row per segment (deterministic columns only)
    tb/                TensorBoard events
    checkpoints/       latest.pt, best.pt (atomic writes)
    plots/             learning_curve.png; differential games: joint_actions.png (Fig. 5),
                       converged_samples.png (Fig. 3)
    summary.json       final test return, gap to optimum, steps to reach the target, timing

The names other modules import from here are re-exported from where they live (``Trainer``,
``make_env``, ``METRIC_COLUMNS``, ...).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svnr_rl.checkpoint import CheckpointError, load_checkpoint
from svnr_rl.config import (
    DIFFERENTIAL_TASKS,
    Config,
    ConfigError,
    config_from_dict,
    config_to_dict,
    resolve_run_length,
)
from svnr_rl.evaluate import EvalResult, decentralize, evaluate_agents
from svnr_rl.loop import Trainer
from svnr_rl.metrics_log import (
    METRIC_COLUMNS,
    TARGET_RETURN,
    open_tensorboard,
    run_summary,
    steps_to_target,
    write_metrics_csv,
    write_summary,
)
from svnr_rl.plots import write_plots
from svnr_rl.run_checkpoint import checkpoint_config, checkpoint_path
from svnr_rl.run_folder import (
    claim_run_dir,
    config_differences,
    describe_differences,
    load_run_config,
    run_name,
    write_run_config,
)
from svnr_rl.run_setup import make_env, resolve_device
from svnr_rl.run_status import is_completed, running_pid

__all__ = [
    "DIFFERENTIAL_TASKS",
    "METRIC_COLUMNS",
    "TARGET_RETURN",
    "TrainResult",
    "Trainer",
    "TrainerFactory",
    "config_differences",
    "evaluate_checkpoint",
    "load_run_config",
    "make_env",
    "resolve_device",
    "resume",
    "train",
]

#: the name tests/test_run_lifecycle.py imports (:func:`svnr_rl.run_folder.claim_run_dir`)
_claim_run_dir = claim_run_dir

#: train fields ``resume`` may change (a longer run, another device, the progress bar)
_RESUME_OVERRIDES = ("total_env_steps", "progress", "device")


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


#: builds the trainer of a run from its config and folder (a subclass changes the behaviour
#: policy, e.g. :func:`svnr_rl.guided_trainer.guided_factory`)
TrainerFactory = Callable[[Config, Path], Trainer]


def train(
    cfg: Config,
    *,
    on_step: Callable[[Trainer], None] | None = None,
    trainer_factory: TrainerFactory = Trainer,
) -> TrainResult:
    """Train a new run of ``cfg``; the run folder is created only once everything is built.

    The run length is first resolved to whole segments (:func:`resolve_run_length`); the
    folder's ``config.json`` records the resolved values.
    """
    cfg, _ = resolve_run_length(cfg)
    root = Path(cfg.train.out_dir)
    # may raise ConfigError: nothing is written yet
    trainer = trainer_factory(cfg, root / run_name(cfg))
    trainer.run_dir = claim_run_dir(root, trainer.run_dir.name)
    write_run_config(trainer.run_dir, cfg)
    return _execute(trainer, on_step=on_step, purge=None)


def resume(
    run_dir: str | Path,
    *,
    overrides: dict[str, Any] | None = None,
    on_step: Callable[[Trainer], None] | None = None,
    trainer_factory: TrainerFactory = Trainer,
) -> TrainResult:
    """Continue an interrupted run from its latest checkpoint (or from scratch if it has none).

    ``overrides`` may change only ``train.total_env_steps``, ``train.progress`` and
    ``train.device``.  A completed run that has already trained to its (possibly new) length
    is left untouched: its final evaluation is recomputed and returned with
    ``already_finished``, and nothing in the folder is written.  (A run stopped after its last
    checkpoint but before its summary only gets its summary and plots written.)  A run that a
    live process on this machine is training is refused.  ``trainer_factory`` must build the
    same kind of trainer the run was started with.
    """
    rd = Path(run_dir)
    stored = load_run_config(rd)
    cfg = stored
    if overrides:
        bad = sorted(set(overrides) - set(_RESUME_OVERRIDES))
        if bad:
            raise ConfigError(
                f"train.{bad[0]}: cannot be changed on resume "
                f"(allowed: {sorted(_RESUME_OVERRIDES)})"
            )
        cfg = config_from_dict({"train": overrides}, cfg)
    cfg, _ = resolve_run_length(cfg)
    pid = running_pid(rd)
    if pid is not None:
        raise ConfigError(
            f"run folder {str(rd)!r} is being trained by process {pid} on this machine; "
            "wait for it or stop it first"
        )
    trainer = trainer_factory(cfg, rd)
    ckpt = checkpoint_path(rd)
    purge: int | None = None
    if ckpt.exists():
        data = load_checkpoint(ckpt)  # CPU: RNG states must stay CPU tensors
        saved = checkpoint_config(data, ckpt)
        if config_differences(saved, cfg):
            raise CheckpointError(
                f"checkpoint {str(ckpt)!r} was written by a different config: "
                + describe_differences(saved, cfg, "the checkpoint", "config.json")
            )
        trainer.load_state(data)
        finished = trainer.segment >= trainer.total_segments
        if finished and is_completed(rd) and (rd / "summary.json").is_file():
            return _result(trainer, final=trainer.final_eval(), already_finished=True)
        # back to the checkpoint: TensorBoard purges events from its step on, and metrics.csv
        # loses any row written after it
        purge = trainer.env_steps
        write_metrics_csv(rd, trainer.metrics)
    else:
        print(f"note: {str(ckpt)!r} does not exist: training starts from step 0", file=sys.stderr)
    if config_to_dict(cfg) != config_to_dict(stored):  # a new length or device
        write_run_config(rd, cfg)
    return _execute(trainer, on_step=on_step, purge=purge)


def _kept(trainer: Trainer) -> str:
    """What an interrupted run leaves to resume from, in words."""
    if checkpoint_path(trainer.run_dir).exists():
        at = trainer.segment * trainer.steps_per_segment * trainer.cfg.env.num_envs
        return f"the last checkpoint (at {at} environment steps) is kept"
    return (
        "no checkpoint had been written yet (the first comes after "
        f"train.eval_interval = {trainer.cfg.train.eval_interval} environment steps), "
        "so resume starts from step 0"
    )


def _execute(
    trainer: Trainer, *, on_step: Callable[[Trainer], None] | None, purge: int | None
) -> TrainResult:
    """Train ``trainer`` to its end in its (claimed) folder, then write summary and figures.

    An interruption (Ctrl-C, SIGTERM) or an error is recorded in ``status.json`` and re-raised;
    the last checkpoint is kept for :func:`resume`."""
    writer = open_tensorboard(trainer.run_dir, trainer.cfg.train.tensorboard, purge)
    trainer._write_status("running")
    previous = _catch_signals()
    try:
        trainer.run(on_step=on_step, writer=writer)
    except KeyboardInterrupt:
        hint = f"python -m svnr_rl resume {trainer.run_dir}"
        trainer._write_status("interrupted", resume=hint)
        print(
            f"\ninterrupted at {trainer.env_steps} environment steps; {_kept(trainer)}. "
            f"Continue with: {hint}",
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
    extra = write_plots(trainer)
    result = _result(trainer, final=final)
    summary = run_summary(
        trainer.cfg,
        final,
        best_eval=trainer.best_eval,
        env_steps=trainer.env_steps,
        updates=trainer.updates,
        steps_to_target=result.steps_to_target,
        wall_time=trainer.wall_time,
        device=str(trainer.device),
        extra=extra,
    )
    write_summary(trainer.run_dir, summary)
    trainer._write_status("completed")
    return result


def _result(trainer: Trainer, *, final: EvalResult, already_finished: bool = False) -> TrainResult:
    return TrainResult(
        run_dir=trainer.run_dir,
        final=final,
        env_steps=trainer.env_steps,
        updates=trainer.updates,
        steps_to_target=steps_to_target(trainer.cfg.env.task, trainer.metrics),
        wall_time_s=trainer.wall_time,
        already_finished=already_finished,
    )


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _catch_signals() -> dict[int, Any]:
    """SIGINT and SIGTERM stop training like Ctrl-C (also where a launcher ignores SIGINT,
    e.g. a background job of a non-interactive shell); returns the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.signal(s, _raise_interrupt) for s in (signal.SIGINT, signal.SIGTERM)}


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
        ckpt = checkpoint_path(target, which)
        if not ckpt.is_file():
            raise CheckpointError(
                f"run folder {str(target)!r} has no {which}.pt checkpoint yet (one is written "
                "after the first evaluation interval)"
            )
    else:
        ckpt = target
    data = load_checkpoint(ckpt)
    cfg = checkpoint_config(data, ckpt)
    if run_cfg is not None:
        run_cfg = resolve_run_length(run_cfg)[0]
        if config_differences(cfg, run_cfg):
            raise CheckpointError(
                f"checkpoint {str(ckpt)!r} does not belong to this run folder: "
                + describe_differences(cfg, run_cfg, "the checkpoint", "config.json")
            )
    if device is not None:
        cfg = config_from_dict({"train": {"device": device}}, cfg)
    trainer = Trainer(cfg, ckpt.parent)  # builds the networks and the evaluation environments
    try:
        trainer.agent.load_state_dict(data["agent"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {str(ckpt)!r}: networks do not match ({exc})") from None
    agents = decentralize(trainer.agent, seed)
    return evaluate_agents(agents, trainer.eval_env, episodes, seed), ckpt, cfg
