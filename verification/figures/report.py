"""The negotiation report: every number of the three demonstrations (printed and saved as
``negotiation_numbers.json``) and every figure, written into one folder.

The keys of the JSON file, in order: ``gmm`` (:mod:`verification.figures.svgd_gmm`),
``two_modalities`` (:mod:`verification.figures.two_modalities`; joint score with nested, full
and empty sets, then Eq. 5 scores with nested and empty sets), ``max_of_three`` and
``max_of_three_conditional`` (:mod:`verification.figures.max_of_three`),
``max_of_three_u0_marginal`` (:mod:`verification.figures.max_of_three_marginal`) and
``max_of_three_amortized`` (:mod:`verification.figures.max_of_three_amortized`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from verification.figures.game_targets import ScoreKind
from verification.figures.max_of_three import draw_max_of_three, max_of_three_experiment
from verification.figures.max_of_three_amortized import (
    draw_amortized_samples,
    draw_amortized_trace,
    run_max_of_three_amortized,
)
from verification.figures.max_of_three_marginal import max_of_three_u0_marginal
from verification.figures.svgd_gmm import draw_gmm, gmm_experiment
from verification.figures.two_modalities import draw_two_modalities, two_modalities_experiment

__all__ = ["write_negotiation_report"]

#: The values of ``s2`` (width of Max of Three's global basin) every Max of Three row covers.
S2_VALUES = (1.5, 2.0, 3.0)


def write_negotiation_report(out: Path, seeds: Sequence[int] = (0, 1, 2)) -> dict[str, Any]:
    """Every number of the three demonstrations (printed and saved as JSON) and the figures,
    under ``out`` (created if missing); returns the numbers."""
    import matplotlib

    # Agg: the report runs headless (CI, a server) and only ever writes files.
    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    numbers: dict[str, Any] = {"gmm": asdict(gmm_experiment(seed=0))}
    print("SVGD on the 2-D GMM:", numbers["gmm"])
    numbers["two_modalities"] = [
        asdict(two_modalities_experiment(sets, seed=seed))
        for sets in ("nested", "full", "empty")
        for seed in seeds
    ] + [
        asdict(two_modalities_experiment(sets, seed=seed, score="conditional"))
        for sets in ("nested", "empty")
        for seed in seeds
    ]
    for row in numbers["two_modalities"]:
        print("Two Modalities:", row)
    max_of_three_keys: tuple[tuple[str, ScoreKind], ...] = (
        ("max_of_three", "joint"),
        ("max_of_three_conditional", "conditional"),
    )
    for key, score in max_of_three_keys:
        numbers[key] = [
            asdict(max_of_three_experiment(s2, seed=seed, score=score))
            for s2 in S2_VALUES
            for seed in seeds
        ]
        for row in numbers[key]:
            print(f"Max of Three ({score} score):", row)
    numbers["max_of_three_u0_marginal"] = [
        asdict(max_of_three_u0_marginal(s2, t))
        for s2 in S2_VALUES
        for t in (10.0, 5.0, 3.0, 2.0, 1.0)
    ]
    for row in numbers["max_of_three_u0_marginal"]:
        print("Max of Three, exact marginal of u_0:", row)
    runs = run_max_of_three_amortized(seeds)
    numbers["max_of_three_amortized"] = [asdict(r.outcome) for r in runs.values()]
    for run in runs.values():
        row = {k: v for k, v in asdict(run.outcome).items() if k != "trace"}
        print("Max of Three (amortized, exact critic):", row)
    (out / "negotiation_numbers.json").write_text(json.dumps(numbers, indent=2) + "\n")
    draw_gmm(out)
    draw_two_modalities(out)
    draw_max_of_three(out, score="joint")
    draw_max_of_three(out, score="conditional")
    draw_amortized_samples(out, runs)
    draw_amortized_trace(out, runs)
    return numbers
