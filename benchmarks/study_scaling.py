"""``python -m benchmarks.study_scaling``: the study engine's scaling and overhead, measured.

Runs the same small study (SVNR on Max of Three s2 = 1.5 with the preset's networks, N
seeds of ``--episodes`` episodes) twice into fresh folders, with 1 and with 2 local Ray
workers, and writes ``--out`` (default ``results/study_scaling.md``):

* wall clock of each, and the ratio (the issue's goal: >= 1.8x on 2 cores);
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
    try:
        res = {w: _run(w, args.seeds, args.episodes, root) for w in (1, 2)}
        summaries = {
            (w, o.trial.seed): json.loads((Path(o.trial.run_dir) / "summary.json").read_text())
            for w in (1, 2)
            for o in res[w][2]
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    start1, wall1, out1 = res[1]
    start2, wall2, _out2 = res[2]
    loops = [float(summaries[(1, o.trial.seed)]["wall_time_s"]) for o in out1]
    inside = [o.seconds - lp for o, lp in zip(out1, loops, strict=True)]
    outside = (wall1 - sum(o.seconds for o in out1)) / len(out1)
    same = all(
        summaries[(1, s)]["final_test_return_mean"] == summaries[(2, s)]["final_test_return_mean"]
        for s in range(args.seeds)
    )
    lines = [
        "# Study engine: scaling and overhead",
        "",
        f"`python -m benchmarks.study_scaling --seeds {args.seeds} --episodes {args.episodes}` "
        f"({platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}): "
        f"SVNR on Max of Three s2 = 1.5 (preset networks), {args.seeds} trials of "
        f"{args.episodes} episodes, on a local Ray with 1 and with 2 workers.",
        "",
        "| workers | Ray start-up (s) | wall clock of the trials (s) | speed-up |",
        "|---|---|---|---|",
        f"| 1 | {start1:.1f} | {wall1:.1f} | 1.00x |",
        f"| 2 | {start2:.1f} | {wall2:.1f} | {wall1 / wall2:.2f}x |",
        "",
        f"Per trial (1 worker): training loop {statistics.mean(loops):.2f} s "
        f"(summary `wall_time_s`, mean); in the worker outside the loop (imports, environment "
        f"and networks, report files) {statistics.mean(inside):.2f} s; outside the worker "
        f"(Ray scheduling and result transfer) {outside:.3f} s.  Ray's start-up is paid once "
        f"per command ({start1:.1f} s), against {statistics.mean(loops):.1f} s of training per "
        "trial.",
        "",
        f"Same final test return for every seed with 1 and 2 workers: {same}.",
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
