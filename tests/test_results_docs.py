"""The figures of issue 31's result pages are generated, never typed: each README table is
what its committed script makes of the committed data beside it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _between(text: str, marker: str) -> str:
    _, _, rest = text.partition(marker)
    inner, _, _ = rest.partition(marker)
    return inner.strip()


def test_the_fork_reference_table_is_its_run_files_summarized() -> None:
    folder = ROOT / "docs" / "results" / "accf_fork"
    mod = _module(folder / "summarize.py")
    summary = mod.summarize(folder / "run_results")
    assert summary == json.loads((folder / "summary.json").read_text())
    assert _between((folder / "README.md").read_text(), "<!-- table -->") == mod.table(summary)
    # the runs the README speaks of: ACCF on the paper's game, five seeds
    assert summary["ACCF s2=1.5 (paper's game)"]["seeds"] == [0, 1, 2, 3, 4]


def test_the_ablation_stage_table_is_its_json_rendered() -> None:
    folder = ROOT / "docs" / "results" / "accf_ablation"
    mod = _module(folder / "stage_shares.py")
    shares = json.loads((folder / "stage_shares.json").read_text())
    readme = (folder / "README.md").read_text()
    assert _between(readme, "<!-- stage table -->") == mod.table(shares)


def test_switch_step_finds_the_first_window_at_the_share() -> None:
    mod = _module(ROOT / "docs" / "results" / "accf_ablation" / "stage_shares.py")
    assert mod.switch_step([False] * 50 + [True] * 200) == 40  # 10 misses in [40, 140)
    assert mod.switch_step([True] * 99) is None  # shorter than one window
    assert mod.switch_step([True, False] * 100) is None  # never 90%
