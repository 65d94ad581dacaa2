"""Summarize our runs of the public fork's ACCF and GPF learners (``Jarvis-K/rommeo``).

Reads the result JSONs in ``run_results/`` (one per run, written by the launcher described in this
folder's README; the fork's code is not in this repository) and writes ``summary.json``: per
learner x ``s2``, the seeds run and, over them, the mean and standard deviation (numpy ``std``,
ddof 0) of the last step's printed reward (the fork's own figure) and of the mean reward of the
last 100 steps, the number of seeds whose last-100 mean is at least 9.5 (the issue's goal) and,
per stage of the executed temperature schedule, the share of steps in the global basin (reward
> 0); and rewrites the table of ``README.md`` between its ``<!-- table -->`` markers from that
summary, so that no figure of the README is typed in.

    python docs/results/accf_fork/summarize.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _mean_std(values: list[float]) -> tuple[float, float]:
    m = sum(values) / len(values)
    return m, math.sqrt(sum((v - m) ** 2 for v in values) / len(values))


def summarize(runs: Path) -> dict[str, dict[str, Any]]:
    """``{"ACCF s2=1.5": {...}, ...}`` from every ``*.json`` under ``runs``."""
    groups: dict[tuple[str, str, float], list[dict[str, Any]]] = {}
    for f in sorted(runs.glob("*.json")):
        r = json.loads(f.read_text())
        if r.get("max_steps") != 5000:
            continue
        game = "paper" if r["paper_formula"] else "fork"
        groups.setdefault((game, str(r["model"]), float(r["s2"])), []).append(r)
    out: dict[str, dict[str, Any]] = {}
    # the paper's game first, then the fork's own; ACCF before GPF; by s2
    order = sorted(groups, key=lambda g: (g[0] != "paper", g[1], g[2]))
    for game, model, s2 in order:
        rs = groups[(game, model, s2)]
        rs.sort(key=lambda r: int(r["seed"]))
        final = [float(r["final_res"]) for r in rs]
        last100 = [float(r["last100_mean_reward"]) for r in rs]
        fm, fs = _mean_std(final)
        lm, ls = _mean_std(last100)
        out[f"{model} s2={s2:g} ({game}'s game)"] = {
            "model": model,
            "game": game,
            "s2": s2,
            "seeds": [int(r["seed"]) for r in rs],
            "final_res": final,
            "final_res_mean": fm,
            "final_res_std": fs,
            "last100_mean_reward": last100,
            "last100_mean": lm,
            "last100_std": ls,
            "seeds_at_9_5": sum(v >= 9.5 for v in last100),
            # per stage (alpha ~ 10, 1, 0.3): share of steps with reward > 0, mean over seeds
            "stage_share_positive": [
                sum(float(r["stages"][k]["share_positive"]) for r in rs) / len(rs) for k in range(3)
            ],
            # first step of a 100-step window with >= 90% of its steps in the global basin
            "switch_step": [r.get("switch_step") for r in rs],
            "wall_s_mean": sum(float(r["wall_s"]) for r in rs) / len(rs),
        }
    return out


def table(summary: dict[str, dict[str, Any]]) -> str:
    """The README's Markdown table of ``summary``."""
    lines = [
        "| learner | game | s2 | seeds | last step's reward (the fork's figure) | mean of the "
        "last 100 steps | seeds >= 9.5 (last 100) | per seed (last 100) | steps in the global "
        "basin, stage 1 / 2 / 3 | switch step per seed | wall s per run |",
        "|---|---|---:|---|---:|---:|---:|---|---|---|---:|",
    ]
    for row in summary.values():
        per_seed = ", ".join(
            f"{k}: {v:.2f}" for k, v in zip(row["seeds"], row["last100_mean_reward"], strict=True)
        )
        switch = ", ".join("never" if v is None else str(v) for v in row["switch_step"])
        stages = " / ".join(f"{100 * v:.0f}%" for v in row["stage_share_positive"])
        lines.append(
            f"| {row['model']} | {row['game']}'s | {row['s2']:g} | {len(row['seeds'])} | "
            f"{row['final_res_mean']:.2f} ± {row['final_res_std']:.2f} | "
            f"{row['last100_mean']:.2f} ± {row['last100_std']:.2f} | "
            f"{row['seeds_at_9_5']}/{len(row['seeds'])} | {per_seed} | {stages} | {switch} | "
            f"{row['wall_s_mean']:.0f} |"
        )
    return "\n".join(lines)


def rewrite_readme(readme: Path, text: str) -> None:
    """Replace what stands between the two ``<!-- table -->`` markers of ``readme``."""
    marker = "<!-- table -->"
    head, _, rest = readme.read_text().partition(marker)
    _, _, tail = rest.partition(marker)
    readme.write_text(f"{head}{marker}\n{text}\n{marker}{tail}")


if __name__ == "__main__":
    summary = summarize(HERE / "run_results")
    (HERE / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    rewrite_readme(HERE / "README.md", table(summary))
    for key, row in summary.items():
        print(
            f"{key}: seeds {row['seeds']}, last step {row['final_res_mean']:.2f} ± "
            f"{row['final_res_std']:.2f}, last 100 {row['last100_mean']:.2f} ± "
            f"{row['last100_std']:.2f}, {row['seeds_at_9_5']} seeds >= 9.5"
        )
