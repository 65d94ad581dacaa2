"""The training loop (Algorithm 1): one loop serves every method.

Per vector step ``t``: the agents act with the common noise ``xi_t`` (App. J), the batched
environments step, the transitions enter the replay buffer, and ``updates_per_step`` updates
run, or ``update_to_data`` per environment step (critic on Eq. 11, policy by the method,
targets, alpha from the schedule, whose clock is the update counter or the environment steps).

Training is cut into **segments** of ``train.eval_interval`` environment steps.  Every segment
starts by resetting all environments from ``(seed, segment)`` and ends with an evaluation by
decentralized execution, a metrics row and a checkpoint (``latest.pt``, and ``best.pt`` when the
test return improved).  Episodes still running at a segment's end are cut: their transitions
stay in the buffer as ordinary (bootstrapped) ones.  Because a segment depends only on the
checkpointed state (:mod:`svnr_rl.run_checkpoint`), a run interrupted anywhere and resumed from
its last checkpoint ends with exactly the parameters and metrics of an uninterrupted run.

Around the loop: building its pieces (:mod:`svnr_rl.run_setup`), the random streams
(:mod:`svnr_rl.seed_streams`), the metrics files (:mod:`svnr_rl.metrics_log`), and starting,
resuming and finishing runs (:mod:`svnr_rl.train`).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from svnr_rl import run_checkpoint, seed_streams
from svnr_rl.agents import Agent, make_agent
from svnr_rl.config import DIFFERENTIAL_TASKS, Config
from svnr_rl.envs.base import BatchStep
from svnr_rl.evaluate import EvalResult, decentralize, evaluate_agents
from svnr_rl.metrics_log import SegmentTally, log_to_tensorboard, write_metrics_csv
from svnr_rl.noise import CommonNoise, derive_seed
from svnr_rl.replay import ReplayBuffer
from svnr_rl.run_setup import check_fits_task, make_env, resolve_device, torch_dtype
from svnr_rl.run_status import write_status

__all__ = ["Trainer"]


class Trainer:
    """Holds every piece of training state; :meth:`run` trains, :meth:`state` checkpoints it.

    Subclasses may change the behaviour policy by overriding :meth:`_act` (as
    :class:`svnr_rl.guided_trainer.GuidedStartTrainer` does).
    """

    def __init__(self, cfg: Config, run_dir: Path) -> None:
        self.cfg = cfg
        self.run_dir = run_dir
        self.device = resolve_device(cfg.train.device)
        self.dtype = torch_dtype(cfg.train.dtype)
        torch.set_num_threads(cfg.train.threads)
        seed = cfg.train.seed
        self.env = make_env(cfg, cfg.env.num_envs)
        self.eval_env = make_env(cfg, cfg.env.eval_num_envs)
        spec = self.spec = self.env.spec
        check_fits_task(cfg, spec)  # before any network or buffer exists
        self.agent: Agent = make_agent(
            spec,
            cfg.algo,
            device=self.device,
            dtype=self.dtype,
            seed=derive_seed(seed, seed_streams.AGENT),
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
        self.replay_gen = torch.Generator().manual_seed(derive_seed(seed, seed_streams.REPLAY))
        peers = cfg.algo.peers if self.agent.dynamic_topology else None
        self.noise = CommonNoise(
            derive_seed(seed, seed_streams.NOISE), spec.n_agents, self.agent.noise_dim, peers
        )
        self.steps_per_segment = math.ceil(cfg.train.eval_interval / cfg.env.num_envs)
        self.total_segments = math.ceil(
            cfg.train.total_env_steps / (self.steps_per_segment * cfg.env.num_envs)
        )
        self.learn_after = max(cfg.algo.learning_starts, cfg.algo.batch_size)
        self.records_actions = spec.name in DIFFERENTIAL_TASKS or cfg.env.task in DIFFERENTIAL_TASKS
        # what a checkpoint holds besides the pieces above (svnr_rl.run_checkpoint)
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

    # ------------------------------------------------------------------ the loop

    def run(
        self,
        *,
        on_step: Callable[[Trainer], None] | None = None,
        writer: Any = None,
    ) -> None:
        """Train from the current state to ``total_env_steps``, segment by segment.

        ``on_step`` is called after every vector step; ``writer`` (TensorBoard) gets each
        segment's metrics row."""
        bar = self._progress_bar()
        try:
            while self.segment < self.total_segments:
                t0 = time.perf_counter()
                seg = self.segment
                tally = self._train_segment(seg, bar, on_step)
                test = self.evaluate(seg)
                row = tally.row(
                    segment=seg,
                    env_steps=self.env_steps,
                    updates=self.updates,
                    episodes=self.episodes,
                    alpha=self.agent.reported_alpha(tally.alpha),
                    test=test,
                )
                self.metrics.append(row)
                self.segment = seg + 1
                self.wall_time += time.perf_counter() - t0
                self._save_segment(row, test, writer)
                bar.set_postfix(test_return=f"{test.mean:.3f}", alpha=f"{row['alpha']:.3g}")
        finally:
            bar.close()

    def _train_segment(
        self, segment: int, bar: tqdm[Any], on_step: Callable[[Trainer], None] | None
    ) -> SegmentTally:
        """The segment's vector steps, from every environment reset from ``(seed, segment)``."""
        step = self.env.reset(derive_seed(self.cfg.train.seed, seed_streams.ENV, segment))
        tally = SegmentTally(alpha=self.cfg.alpha.value(self._clock()))
        for _ in range(self.steps_per_segment):
            step = self._vector_step(step, tally)
            bar.update(self.cfg.env.num_envs)
            if on_step is not None:
                on_step(self)
        return tally

    def _vector_step(self, step: BatchStep, tally: SegmentTally) -> BatchStep:
        """Act in every environment, store the transitions, then learn; returns the next step."""
        obs = torch.as_tensor(step.obs, dtype=self.dtype, device=self.device)
        state = torch.as_tensor(step.state, dtype=self.dtype, device=self.device)
        actions = self._act(obs, self.vec_steps)
        nxt = self.env.step(actions.double().cpu().numpy())
        # final_obs/final_state: the true last observation of an episode that ended here (the
        # environments have already reset), so the critic bootstraps from the right state
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
            tally.returns.extend(float(r) for r in nxt.episode_return[done])
            self.episodes += int(done.sum())
        if self._records_now():
            native = (actions[0, :, 0].double().cpu() * self.spec.action_scale).tolist()
            self.record.append([float(self.env_steps), *native, float(nxt.reward[0])])
        self.vec_steps += 1
        self.env_steps += self.cfg.env.num_envs
        if self.replay.size >= self.learn_after:
            for _ in range(self._updates_now()):
                self._update(tally)
        return nxt

    def _act(self, obs: torch.Tensor, t: int) -> torch.Tensor:
        """The behaviour policy: the agents' joint action at vector step ``t`` (exploring)."""
        xi = torch.as_tensor(
            self.noise.joint(t, obs.shape[0]), dtype=self.dtype, device=self.device
        )
        if self.agent.dynamic_topology:
            mask = torch.as_tensor(self.noise.peer_mask(t), dtype=self.dtype, device=self.device)
        else:
            mask = self.agent.static_mask
        with torch.no_grad():
            return self.agent.act(obs, xi, mask, explore=True)

    def _records_now(self) -> bool:
        """Whether this step's first joint action goes into the differential games' figure."""
        t = self.cfg.train
        return (
            self.records_actions
            and self.vec_steps % t.record_every == 0
            and len(self.record) < t.record_limit
        )

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

    def _update(self, tally: SegmentTally) -> None:
        """One update of every network from a replay batch, at the schedule's temperature."""
        tally.alpha = self.cfg.alpha.value(self._clock())
        batch = self.replay.sample(self.cfg.algo.batch_size, self.replay_gen)
        info = self.agent.update(batch, tally.alpha)
        tally.critic_losses.append(info["critic_loss"])
        tally.policy_losses.append(info["policy_loss"])
        self.updates += 1

    def _clock(self) -> int:
        """The alpha schedule's clock: the update counter or the environment steps."""
        return self.env_steps if self.cfg.alpha.clock == "env_steps" else self.updates

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, segment: int) -> EvalResult:
        """Decentralized test episodes with seeds derived from ``(seed, segment)``."""
        seed = self.cfg.train.seed
        agents = decentralize(self.agent, derive_seed(seed, seed_streams.EVAL_NOISE, segment))
        return evaluate_agents(
            agents,
            self.eval_env,
            self.cfg.train.eval_episodes,
            derive_seed(seed, seed_streams.EVAL_ENV, segment),
        )

    def final_eval(self) -> EvalResult:
        """The last segment's evaluation as an :class:`EvalResult` (recomputed, deterministic)."""
        return self.evaluate(max(self.segment - 1, 0))

    # ------------------------------------------------------------------ files

    def _save_segment(self, row: dict[str, float], test: EvalResult, writer: Any) -> None:
        """A finished segment's files: metrics, checkpoints, then the status heartbeat."""
        write_metrics_csv(self.run_dir, self.metrics)
        if writer is not None:
            log_to_tensorboard(writer, row, self.env_steps)
        improved = test.mean > self.best_eval
        if improved:
            self.best_eval = test.mean
        run_checkpoint.save_segment_checkpoints(self.run_dir, self.state(), improved=improved)
        # progress for readers of status.json (and a heartbeat with this process' id)
        self._write_status("running")

    def _write_status(self, state: str, **extra: Any) -> None:
        """``status.json`` with this run's progress (:mod:`svnr_rl.run_status`)."""
        write_status(
            self.run_dir,
            state,
            env_steps=self.env_steps,
            segment=self.segment,
            total_env_steps=self.cfg.train.total_env_steps,
            **extra,
        )

    def _progress_bar(self) -> tqdm[Any]:
        c = self.cfg
        return tqdm(
            total=self.total_segments * self.steps_per_segment * c.env.num_envs,
            initial=self.env_steps,
            unit="step",
            unit_scale=True,
            # carriage-return frames only on a terminal: a pipe or a log file gets none
            disable=not c.train.progress or not sys.stderr.isatty(),
            dynamic_ncols=True,
            desc=f"{c.env.task}/{c.algo.method}",
        )

    def state(self) -> dict[str, Any]:
        """Everything a resume needs (its layout: :mod:`svnr_rl.run_checkpoint`)."""
        return run_checkpoint.capture(self)

    def load_state(self, data: dict[str, Any]) -> None:
        """Restore :meth:`state`; a malformed payload raises :class:`CheckpointError`."""
        run_checkpoint.restore(self, data)
