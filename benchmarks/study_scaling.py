"""``python -m benchmarks.study_scaling``: the study engine's scaling and overhead, measured.

Runs the same small study (SVNR on Max of Three s2 = 1.5 with the preset's networks, N
seeds of ``--episodes`` episodes) into fresh folders with 1 and with 2 local Ray workers, in
the order 1, 2, 2, 1 (so that a drift of the machine's speed cancels), and writes ``--out``
(default ``results/study_scaling.md``):

* wall clock of each (mean of its two runs), and the ratio (the issue's goal: >= 1.8x on 2
  cores);
* the engine's overhead: Ray's start-up, and per trial the time a trial spends outside the
  training loop (``outcome seconds`` in the worker minus ``summary.wall_time_s``: imports,
  environment and network construction, the final report files) and outside the worker
  (the wall clock with 1 worker minus start-up minus the worker times, per trial:
  scheduling and result transfer), against the run time of the training loop itself.

Both runs see the same seeds, so they also check that the number of workers does not change
a result.  Run it on an otherwise idle machine: it measures wall clock.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from svnr_rl.study.engine import Progress, run_all
from svnr_rl.study.spec import parse_study
from svnr_rl.study.trials import Outcome, grid_trials


def _study(seeds: int, episodes: int) -> dict[str, object]:
    return {
        "study": {
            "name": "scaling",
            "seeds": list(range(seeds)),
            "train_episodes": episodes,
            "set": ["train.eval_interval=1000", "train.eval_episodes=16"],
        },
        "task": [{"key": "max-of-three-1.5", "preset": "max-of-three", "s2": 1.5}],
        "method": [{"key": "svnr", "method": "svnr"}],
    }


def _run(workers: int, seeds: int, episodes: int, root: Path) -> tuple[float, float, list[Outcome]]:
    spec = parse_study(_study(seeds, episodes))
    trials = grid_trials(spec, root / f"w{workers}")
    import ray

    from svnr_rl.study.engine import _ray_init

    t0 = time.perf_counter()
    _ray_init(workers, None)
    start = time.perf_counter() - t0
    try:
        progress = Progress(total=len(trials), metric=spec.metric, out=None)
        t1 = time.perf_counter()
        outcomes = run_all(trials, workers, None, progress)
        wall = time.perf_counter() - t1
    finally:
        ray.shutdown()
    return start, wall, outcomes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.study_scaling", description=__doc__)
    p.add_argument("--seeds", type=int, default=8, help="trials of the study (default: 8)")
    p.add_argument("--episodes", type=int, default=4000, help="episodes per trial (default: 4000)")
    p.add_argument("--out", default="results/study_scaling.md", help="report file")
    args = p.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="svnr-scaling-"))
    runs: dict[int, list[tuple[float, float, list[Outcome]]]] = {1: [], 2: []}
    summaries: dict[tuple[int, int, int], dict[str, Any]] = {}
    try:
        for k, w in enumerate((1, 2, 2, 1)):
            start, wall, outcomes = _run(w, args.seeds, args.episodes, root / str(k))
            runs[w].append((start, wall, outcomes))
            for o in outcomes:
                summaries[(k, w, o.trial.seed)] = json.loads(
                    (Path(o.trial.run_dir) / "summary.json").read_text()
                )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    start1 = statistics.mean(r[0] for r in runs[1])
    start2 = statistics.mean(r[0] for r in runs[2])
    wall1 = statistics.mean(r[1] for r in runs[1])
    wall2 = statistics.mean(r[1] for r in runs[2])
    walls = {w: ", ".join(f"{r[1]:.1f}" for r in runs[w]) for w in (1, 2)}
    first = runs[1][0][2]
    loops = [float(summaries[(0, 1, o.trial.seed)]["wall_time_s"]) for o in first]
    inside = [o.seconds - lp for o, lp in zip(first, loops, strict=True)]
    outside = (runs[1][0][1] - sum(o.seconds for o in first)) / len(first)
    finals = {
        s: {v["final_test_return_mean"] for (_, _, seed), v in summaries.items() if seed == s}
        for s in range(args.seeds)
    }
    same = all(len(v) == 1 for v in finals.values())
    lines = [
        "# Study engine: scaling and overhead",
        "",
        f"`python -m benchmarks.study_scaling --seeds {args.seeds} --episodes {args.episodes}` "
        f"({platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}): "
        f"SVNR on Max of Three s2 = 1.5 (preset networks), {args.seeds} trials of "
        f"{args.episodes} episodes, on a local Ray with 1 and with 2 workers.",
        "",
        "| workers | Ray start-up (s) | wall clock of the trials, mean (runs) (s) | speed-up |",
        "|---|---|---|---|",
        f"| 1 | {start1:.1f} | {wall1:.1f} ({walls[1]}) | 1.00x |",
        f"| 2 | {start2:.1f} | {wall2:.1f} ({walls[2]}) | {wall1 / wall2:.2f}x |",
        "",
        f"Per trial (1 worker): training loop {statistics.mean(loops):.2f} s "
        f"(summary `wall_time_s`, mean); in the worker outside the loop (imports, environment "
        f"and networks, report files) {statistics.mean(inside):.2f} s; outside the worker "
        f"(Ray scheduling and result transfer) {outside:.3f} s.  Ray's start-up is paid once "
        f"per command ({start1:.1f} s), against {statistics.mean(loops):.1f} s of training per "
        "trial.",
        "",
        f"Same final test return for every seed in all four runs: {same}.",
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
