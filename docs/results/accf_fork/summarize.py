"""Summarize our runs of the public fork's ACCF and GPF learners (``Jarvis-K/rommeo``).

Reads the result JSONs in ``runs/`` (one per run, written by the launcher described in this
folder's README; the fork's code is not in this repository) and writes ``summary.json``: per
learner x ``s2``, the seeds run and, over them, the mean and standard deviation (numpy ``std``,
ddof 0) of the last step's printed reward (the fork's own figure) and of the mean reward of the
last 100 steps, and the number of seeds whose last-100 mean is at least 9.5 (the issue's goal).

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


def summarize(runs: Path) -> dict[str, dict[str, object]]:
    """``{"ACCF s2=1.5": {...}, ...}`` from every ``*.json`` under ``runs``."""
    groups: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for f in sorted(runs.glob("*.json")):
        r = json.loads(f.read_text())
        if r.get("max_steps") != 5000 or not r.get("paper_formula"):
            continue
        groups.setdefault((str(r["model"]), float(r["s2"])), []).append(r)
    out: dict[str, dict[str, object]] = {}
    for (model, s2), rs in sorted(groups.items()):
        rs.sort(key=lambda r: int(r["seed"]))
        final = [float(r["final_res"]) for r in rs]
        last100 = [float(r["last100_mean_reward"]) for r in rs]
        fm, fs = _mean_std(final)
        lm, ls = _mean_std(last100)
        out[f"{model} s2={s2:g}"] = {
            "model": model,
            "s2": s2,
            "seeds": [int(r["seed"]) for r in rs],
            "final_res": final,
            "final_res_mean": fm,
            "final_res_std": fs,
            "last100_mean_reward": last100,
            "last100_mean": lm,
            "last100_std": ls,
            "seeds_at_9_5": sum(v >= 9.5 for v in last100),
            "wall_s_mean": sum(float(r["wall_s"]) for r in rs) / len(rs),
        }
    return out


if __name__ == "__main__":
    summary = summarize(HERE / "runs")
    (HERE / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    for key, row in summary.items():
        print(
            f"{key}: seeds {row['seeds']}, last step {row['final_res_mean']:.2f} ± "
            f"{row['final_res_std']:.2f}, last 100 {row['last100_mean']:.2f} ± "
            f"{row['last100_std']:.2f}, {row['seeds_at_9_5']} seeds >= 9.5"
        )
