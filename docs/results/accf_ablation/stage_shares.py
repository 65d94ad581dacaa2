"""Where each run of ``studies/accf_ablation.toml`` acted during the three temperature stages.

For every finished run folder ``RUNS/TASK/METHOD/seedK`` this reads the replay buffer of its last
checkpoint (every training transition, in the order the environments produced them: row ``k`` is
environment step ``k``; weights-only load) and gives, per stage of the staged F.2 schedule
(environment steps below ``alpha.second_start``, below ``alpha.third_start``, the rest), the
share of training steps whose reward is positive.  On Max of Three only the global basin pays
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


def run_shares(run: Path) -> list[float]:
    """Shares of positive-reward training steps per stage of ``run``'s schedule."""
    ckpt = load_checkpoint(run / "checkpoints" / "latest.pt")
    reward = ckpt["replay"]["data"]["reward"]
    alpha = ckpt["config"]["alpha"]
    bounds = [0, int(alpha["second_start"]), int(alpha["third_start"]), int(reward.shape[0])]
    out = []
    for lo, hi in itertools.pairwise(bounds):
        seg = reward[lo:hi]
        out.append(float((seg > 0).double().mean()) if seg.numel() else float("nan"))
    return out


def collect(runs: Path) -> dict[str, dict[str, Any]]:
    """``{"TASK/METHOD": {"seeds": [...], "shares": [[s1, s2, s3], ...], "mean": [...]}}``."""
    out: dict[str, dict[str, Any]] = {}
    for status in sorted(runs.glob("*/*/seed*/status.json")):
        run = status.parent
        if json.loads(status.read_text()).get("state") != "completed":
            continue
        key = f"{run.parent.parent.name}/{run.parent.name}"
        row = out.setdefault(key, {"seeds": [], "shares": []})
        row["seeds"].append(int(run.name.removeprefix("seed")))
        row["shares"].append(run_shares(run))
    for row in out.values():
        n = len(row["shares"])
        row["mean"] = [sum(s[k] for s in row["shares"]) / n for k in range(3)]
    return out


def table(shares: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| task / row | seeds | training steps in the global basin, stage 1 / 2 / 3 (mean) |",
        "|---|---|---|",
    ]
    for key, row in shares.items():
        stages = " / ".join(f"{100 * v:.0f}%" for v in row["mean"])
        lines.append(f"| {key} | {len(row['seeds'])} | {stages} |")
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
