"""Where each run of ``studies/accf_ablation.toml`` acted during the three temperature stages.

For every finished run folder ``RUNS/TASK/METHOD/seedK`` this reads the replay buffer of its last
checkpoint (every training transition, in the order the environments produced them: row ``k`` is
environment step ``k``; weights-only load) and gives, per stage of the staged F.2 schedule
(environment steps below ``alpha.second_start``, below ``alpha.third_start``, the rest), the
share of training steps whose reward is positive, and the switch step: the first environment step
of a 100-step window with at least 90% of its steps in the global basin (the same rule as for the
fork's runs in ``docs/results/accf_fork/``).  On Max of Three only the global basin pays
more than 0 (``g1 <= 0`` everywhere), so this is how often the behaviour policy's joint sample
landed in it: the exploration the critic could learn the global optimum from.  Writes
``stage_shares.json`` beside this file and rewrites the table of ``README.md`` between its
``<!-- stage table -->`` markers.

    python docs/results/accf_ablation/stage_shares.py [RUNS]   # default runs/studies/accf_ablation
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

from svnr_rl.checkpoint import load_checkpoint

HERE = Path(__file__).resolve().parent
MARKER = "<!-- stage table -->"


def switch_step(positive: list[bool], window: int = 100, share: float = 0.9) -> int | None:
    """First step of a ``window``-step stretch with at least ``share`` of it positive."""
    need = share * window
    count = sum(positive[:window])
    for t in range(len(positive) - window + 1):
        if count >= need:
            return t
        if t + window < len(positive):
            count += positive[t + window] - positive[t]
    return None


def run_shares(run: Path) -> tuple[list[float], int | None]:
    """Shares of positive-reward training steps per stage of ``run``'s schedule, and its
    switch step."""
    ckpt = load_checkpoint(run / "checkpoints" / "latest.pt")
    reward = ckpt["replay"]["data"]["reward"]
    alpha = ckpt["config"]["alpha"]
    bounds = [0, int(alpha["second_start"]), int(alpha["third_start"]), int(reward.shape[0])]
    out = []
    for lo, hi in itertools.pairwise(bounds):
        seg = reward[lo:hi]
        out.append(float((seg > 0).double().mean()) if seg.numel() else float("nan"))
    return out, switch_step([bool(x) for x in (reward > 0).tolist()])


def collect(runs: Path) -> dict[str, dict[str, Any]]:
    """``{"TASK/METHOD": {"seeds": [...], "shares": [[s1, s2, s3], ...], "mean": [...]}}``."""
    out: dict[str, dict[str, Any]] = {}
    for status in sorted(runs.glob("*/*/seed*/status.json")):
        run = status.parent
        if json.loads(status.read_text()).get("state") != "completed":
            continue
        key = f"{run.parent.parent.name}/{run.parent.name}"
        row = out.setdefault(key, {"seeds": [], "shares": [], "switch_step": []})
        shares, switch = run_shares(run)
        row["seeds"].append(int(run.name.removeprefix("seed")))
        row["shares"].append(shares)
        row["switch_step"].append(switch)
    for row in out.values():
        n = len(row["shares"])
        row["mean"] = [sum(s[k] for s in row["shares"]) / n for k in range(3)]
    return out


def table(shares: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| task / row | seeds | training steps in the global basin, stage 1 / 2 / 3 (mean) "
        "| switch step per seed |",
        "|---|---|---|---|",
    ]
    for key, row in shares.items():
        stages = " / ".join(f"{100 * v:.0f}%" for v in row["mean"])
        switch = ", ".join("never" if v is None else str(v) for v in row["switch_step"])
        lines.append(f"| {key} | {len(row['seeds'])} | {stages} | {switch} |")
    return "\n".join(lines)


if __name__ == "__main__":
    runs = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("runs/studies/accf_ablation")
    shares = collect(runs)
    (HERE / "stage_shares.json").write_text(json.dumps(shares, indent=1) + "\n")
    readme = HERE / "README.md"
    if readme.exists():
        head, _, rest = readme.read_text().partition(MARKER)
        _, _, tail = rest.partition(MARKER)
        readme.write_text(f"{head}{MARKER}\n{table(shares)}\n{MARKER}{tail}")
    print(table(shares))
