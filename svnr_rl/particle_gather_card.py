"""``python -m svnr_rl.particle_gather_card``: the learnability card of a Particle Gather variant.

What fixed policies score on one variant (``particle-gather``, the paper's iterated game, or
``particle-gather-terminal``), on the batched environment, seeded, in seconds:

* **oracle** -- :func:`svnr_rl.gather_diagnostics.oracle_actions`: park both particles at
  radius ``arrival_radius + 0.2``, at least 90 degrees apart and at rest, then push both in on
  the same step (the same force towards the landmark, so that they cross the disc's edge on the
  same step) and hold them inside.  A function of the current state alone, which every agent
  observes, so each agent can compute the joint action and take its own coordinate: it is
  decentralizable;
* **steer** -- :func:`svnr_rl.gather_diagnostics.steer_actions`: every agent steers its particle
  straight to the landmark, no coordination;
* **random** -- uniform actions in ``[-1, 1]``;
* **stay** -- all actions 0 (the particles stay where they start);
* **sac** (only with ``--sac-steps N``) -- stable-baselines3's SAC trained for ``N`` steps on the
  *joint* action from the global state: a centralized reference, not a decentralized method
  (:mod:`svnr_rl.particle_gather_sac`; the optional ``anchors`` extra).

Each policy plays the first ``--episodes-per-env`` episodes of each of ``--envs``
environments; every policy meets the same initial positions (environment ``b``'s ``k``-th
episode starts from the same draw whatever the policy).  Per policy the card gives the outcome
shares (the reward of the episode's last step: both particles inside, +5; exactly one, -2;
none, 0 -- in the terminal variant this is how the episode ended), the shares of all steps by
reward, the mean return, the per-step mean reward (return / length) and the mean last-step
reward.  ``docs/environments.md`` says which of these is the paper's figure.

Writes ``card.md`` and ``card.json`` under ``--out`` (the same seed and settings give the same
files).  Bad input: one ``error:`` line, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from svnr_rl.envs.gather_rules import (
    PARAMS,
    REWARD_BOTH,
    REWARD_ONE,
    VARIANTS,
    Variant,
    make_variant,
)
from svnr_rl.envs.particle_gather import BatchedParticleGather
from svnr_rl.gather_diagnostics import oracle_actions, steer_actions

__all__ = ["POLICIES", "PolicyFigures", "build_parser", "card", "main", "measure"]

FloatArray = NDArray[np.float64]
Policy = Callable[[FloatArray], FloatArray]

#: the fixed policies of every card (``sac`` is added by ``--sac-steps``)
POLICIES: tuple[str, ...] = ("oracle", "steer", "random", "stay")


def _policy(name: str, variant: Variant, seed: int) -> Policy:
    if name == "oracle":
        return lambda s: oracle_actions(s, variant.arrival_radius)
    if name == "steer":
        return steer_actions
    if name == "stay":
        return lambda s: np.zeros((s.shape[0], 4, 1))
    if name == "random":
        rng = np.random.default_rng(seed)
        return lambda s: rng.uniform(-1.0, 1.0, size=(s.shape[0], 4, 1))
    raise ValueError(f"unknown policy {name!r}; valid: {', '.join(POLICIES)}")


@dataclass(frozen=True)
class PolicyFigures:
    """What one policy scored over ``episodes`` episodes (see the module docstring)."""

    policy: str
    episodes: int
    #: share of episodes whose last step had both / exactly one / no particle inside
    outcome_both: float
    outcome_one: float
    outcome_none: float
    #: share of all steps with reward +5 / -2 / 0
    steps_both: float
    steps_one: float
    steps_none: float
    return_mean: float
    return_std: float
    per_step_mean: float
    last_step_mean: float
    length_mean: float


def measure(
    policy: Policy,
    name: str,
    variant: Variant,
    num_envs: int,
    episodes_per_env: int,
    seed: int,
) -> PolicyFigures:
    """Play the first ``episodes_per_env`` episodes of each of ``num_envs`` environments of
    ``variant`` (reset with ``seed``) with ``policy`` and return the figures."""
    env = BatchedParticleGather(num_envs, variant.name, **variant.params())
    step = env.reset(seed)
    done_count = np.zeros(num_envs, dtype=np.int64)
    rets: list[float] = []
    per_step: list[float] = []
    last: list[float] = []
    lengths: list[float] = []
    step_rewards = {REWARD_BOTH: 0, REWARD_ONE: 0, 0.0: 0}
    while (done_count < episodes_per_env).any():
        active = done_count < episodes_per_env
        step = env.step(policy(step.state))
        for value in step_rewards:
            step_rewards[value] += int(np.sum(active & (step.reward == value)))
        ended = np.flatnonzero(active & (step.terminated | step.truncated))
        done_count[ended] += 1
        info = step.episode_info
        rets += [float(x) for x in step.episode_return[ended]]
        per_step += [float(x) for x in info["episode_mean_reward"][ended]]
        last += [float(x) for x in info["episode_last_reward"][ended]]
        lengths += [float(x) for x in info["episode_length"][ended]]
    env.close()
    last_arr = np.asarray(last)
    total_steps = sum(step_rewards.values())
    return PolicyFigures(
        policy=name,
        episodes=len(rets),
        outcome_both=float(np.mean(last_arr == REWARD_BOTH)),
        outcome_one=float(np.mean(last_arr == REWARD_ONE)),
        outcome_none=float(np.mean(last_arr == 0.0)),
        steps_both=step_rewards[REWARD_BOTH] / total_steps,
        steps_one=step_rewards[REWARD_ONE] / total_steps,
        steps_none=step_rewards[0.0] / total_steps,
        return_mean=float(np.mean(rets)),
        return_std=float(np.std(rets)),
        per_step_mean=float(np.mean(per_step)),
        last_step_mean=float(np.mean(last_arr)),
        length_mean=float(np.mean(lengths)),
    )


# ---------------------------------------------------------------------------------------------
# The card
# ---------------------------------------------------------------------------------------------


def card(
    variant: Variant,
    num_envs: int,
    episodes_per_env: int,
    seed: int,
    sac_steps: int = 0,
) -> list[PolicyFigures]:
    """The figures of every policy (``sac`` last, only with ``sac_steps > 0``)."""
    rows = [
        measure(_policy(p, variant, seed), p, variant, num_envs, episodes_per_env, seed)
        for p in POLICIES
    ]
    if sac_steps > 0:
        from svnr_rl.particle_gather_sac import sac_policy

        sac = sac_policy(variant, sac_steps, seed)
        rows.append(measure(sac, "sac", variant, num_envs, episodes_per_env, seed))
    return rows


_DESCRIPTIONS = {
    "oracle": "park both outside the disc, >= 90 degrees apart, push in on the same step "
    "(state only: decentralizable)",
    "steer": "every agent steers its particle straight to the landmark (no coordination)",
    "random": "uniform actions in [-1, 1]",
    "stay": "all actions 0",
    "sac": "SB3 SAC on the joint action and global state (centralized reference)",
}


def _markdown(
    variant: Variant, rows: Sequence[PolicyFigures], settings: dict[str, Any], command: str
) -> str:
    figure = (
        "reward of the last step (the paper's figure for the iterated variant); the per-step "
        "mean (return / 25) ranks policies as the paper's objective, the return, does"
        if not variant.terminal
        else "the return (= the reward of the last step: +5, -2 or 0)"
    )
    kind = "terminates at the first arrival" if variant.terminal else "iterated, no termination"
    lines = [
        f"# Learnability card: `{variant.name}`",
        "",
        f"Variant: {kind}; "
        f"arrival radius {variant.arrival_radius:g}, particle size {variant.particle_size:g}, "
        f"starts uniform in [-{variant.start_half_width:g}, {variant.start_half_width:g}]^2, "
        f"{variant.episode_limit} steps.",
        f"{settings['episodes']} episodes per policy ({settings['num_envs']} environments x "
        f"{settings['episodes_per_env']}, seed {settings['seed']}); every policy meets the same "
        "initial positions.  Figure to compare with the paper: " + figure + ".",
        "",
        "| policy | outcome +5 / -2 / 0 (last step) | steps +5 / -2 / 0 | return mean +- std "
        "| per-step mean | last-step mean | mean length |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in rows:
        lines.append(
            f"| {f.policy} | {f.outcome_both:.1%} / {f.outcome_one:.1%} / {f.outcome_none:.1%} "
            f"| {f.steps_both:.1%} / {f.steps_one:.1%} / {f.steps_none:.1%} "
            f"| {f.return_mean:.2f} +- {f.return_std:.2f} | {f.per_step_mean:.3f} "
            f"| {f.last_step_mean:.3f} | {f.length_mean:.2f} |"
        )
    lines += ["", "Policies:", ""]
    lines += [f"* **{f.policy}**: {_DESCRIPTIONS[f.policy]}" for f in rows]
    if settings["sac_steps"]:
        lines.append(
            f"  (SAC: {settings['sac_steps']} training steps, SB3 defaults, "
            f"seed {settings['seed']})"
        )
    else:
        lines.append(
            "* **sac** (the centralized upper bound): not run on this card "
            "(`--sac-steps 0`; it needs the `anchors` extra and tens of minutes per run)"
        )
    lines += ["", f"Command: `{command}`", ""]
    return "\n".join(lines)


class _Refusal(Exception):
    """A usage error: printed as one ``error:`` line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse: never returns
        raise _Refusal(message)


def build_parser() -> argparse.ArgumentParser:
    from svnr_rl.cli_style import MAX_SEED, HelpFormatter, bounded_int

    p = _Parser(
        prog="python -m svnr_rl.particle_gather_card",
        description="What fixed policies (scripted oracle, uncoordinated steering, random, stay "
        "still; optionally centralized SAC) score on a Particle Gather variant: card.md and "
        "card.json under --out.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--variant", required=True, choices=tuple(VARIANTS), help="the task variant")
    p.add_argument("--out", required=True, help="folder for card.md and card.json")
    p.add_argument("--envs", type=bounded_int(1, 4096), default=128, help="environments")
    p.add_argument(
        "--episodes-per-env", type=bounded_int(1, 10_000), default=16, help="episodes of each"
    )
    p.add_argument(
        "--seed", type=bounded_int(0, MAX_SEED), default=0, help="environment seed (default 0)"
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"a task parameter replacing the variant's default ({', '.join(PARAMS)}); repeatable",
    )
    p.add_argument(
        "--sac-steps",
        type=bounded_int(0, 10_000_000),
        default=0,
        help="also train stable-baselines3 SAC (centralized) for this many steps; 0 skips it",
    )
    return p


def _params(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq or name not in PARAMS:
            raise ValueError(
                f"--param: expected NAME=VALUE with NAME in {', '.join(PARAMS)}; got {item!r}"
            )
        try:
            out[name] = int(text) if name == "episode_limit" else float(text)
        except ValueError:
            raise ValueError(f"--param {name}: not a number: {text!r}") from None
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; 0 on success, 2 on invalid input."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(words)
        variant = make_variant(args.variant, **_params(args.param))
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out: {str(out)!r} exists and is not a folder")
    except (_Refusal, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    t0 = time.perf_counter()
    try:
        rows = card(variant, args.envs, args.episodes_per_env, args.seed, args.sac_steps)
    except ValueError as exc:  # a missing optional dependency
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = {
        "num_envs": args.envs,
        "episodes_per_env": args.episodes_per_env,
        "episodes": args.envs * args.episodes_per_env,
        "seed": args.seed,
        "sac_steps": args.sac_steps,
    }
    command = shlex.join(["python", "-m", "svnr_rl.particle_gather_card", *words])
    data = {
        "variant": asdict(variant),
        "settings": settings,
        "policies": {f.policy: asdict(f) for f in rows},
        "command": command,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "card.json").write_text(json.dumps(data, indent=2) + "\n")
    (out / "card.md").write_text(_markdown(variant, rows, settings, command))
    for f in rows:
        print(
            f"{f.policy:>6}: outcome +5 {f.outcome_both:6.1%}  -2 {f.outcome_one:6.1%}  "
            f"0 {f.outcome_none:6.1%}  return {f.return_mean:7.2f}  per-step "
            f"{f.per_step_mean:6.3f}  last-step {f.last_step_mean:6.3f}"
        )
    print(f"card: {out / 'card.md'} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
