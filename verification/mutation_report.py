"""Mutation score per module of svnr_core from mutmut's results (``nox -s mutants``).

mutmut 3 keeps one ``mutants/svnr_core/<module>.py.meta`` JSON file per mutated module, with
the exit code of the test run of every mutant and its duration.  This script turns them into a
table per module and lists the surviving mutants.  Mutants named in backticks in the
"Equivalent mutants" section of ``verification/mutants.md`` (one per line, with the reason) are
counted as equivalent: they leave the score's denominator.

    python -m verification.mutation_report                 # every module found
    python -m verification.mutation_report stein games     # some modules
    python -m verification.mutation_report --fail-under 90 # exit 1 if a module scores lower

Score = detected / (mutants - equivalent), where detected = killed + timeout + crashed; every
mutant that is not detected and not listed as equivalent (survived, no covering test, not run)
counts against it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# mutmut 3's exit codes (mutmut.stats.status_by_exit_code), folded into the columns below.
_KILLED = {1, 3}
_TIMEOUT = {24, -24, 36, 152, 255}
_CRASHED = {-11, -9}
_SURVIVED = {0}
_NO_TESTS = {5, 33}

_EQUIVALENT_NAME = re.compile(r"`(svnr_core\.[^`\s]+__mutmut_\d+)`")


@dataclass
class ModuleScore:
    """Counts of one module's mutants by outcome."""

    module: str
    killed: int = 0
    timeout: int = 0
    crashed: int = 0
    survived: list[str] = field(default_factory=list)
    no_tests: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    equivalent: list[str] = field(default_factory=list)
    detected_but_listed_equivalent: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return (
            self.killed
            + self.timeout
            + self.crashed
            + len(self.survived)
            + len(self.no_tests)
            + len(self.not_run)
            + len(self.other)
            + len(self.equivalent)
        )

    @property
    def detected(self) -> int:
        return self.killed + self.timeout + self.crashed

    @property
    def score(self) -> float:
        """Percentage of the non-equivalent mutants that the tests detect (100 if none)."""
        denominator = self.total - len(self.equivalent)
        return 100.0 if denominator == 0 else 100.0 * self.detected / denominator


def equivalent_mutants(markdown: Path) -> set[str]:
    """Mutant names in backticks in the "Equivalent mutants" section of ``markdown``."""
    if not markdown.exists():
        return set()
    names: set[str] = set()
    in_section = False
    for line in markdown.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            in_section = "equivalent mutants" in line.lower()
            continue
        if in_section:
            names.update(_EQUIVALENT_NAME.findall(line))
    return names


def score_module(module: str, meta: Mapping[str, object], equivalent: set[str]) -> ModuleScore:
    """Fold one ``.meta`` file (already parsed) into a :class:`ModuleScore`."""
    result = ModuleScore(module=module)
    exit_codes = meta.get("exit_code_by_key", {})
    durations = meta.get("durations_by_key", {})
    if not isinstance(exit_codes, dict) or not isinstance(durations, dict):
        raise ValueError(f"{module}: not a mutmut 3 meta file")
    for name, code in sorted(exit_codes.items()):
        seconds = durations.get(name, 0.0)
        if isinstance(seconds, int | float):
            result.seconds += float(seconds)
        detected = code in _KILLED or code in _TIMEOUT or code in _CRASHED
        if name in equivalent:
            if detected:
                result.detected_but_listed_equivalent.append(name)
            else:
                result.equivalent.append(name)
                continue
        if code in _KILLED:
            result.killed += 1
        elif code in _TIMEOUT:
            result.timeout += 1
        elif code in _CRASHED:
            result.crashed += 1
        elif code in _SURVIVED:
            result.survived.append(name)
        elif code in _NO_TESTS:
            result.no_tests.append(name)
        elif code is None:
            result.not_run.append(name)
        else:
            result.other.append(f"{name} (exit code {code})")
    return result


def load_scores(root: Path, modules: Sequence[str], equivalent: set[str]) -> list[ModuleScore]:
    """Scores of ``modules`` (every module with a meta file when empty) under ``root``."""
    meta_dir = root / "mutants" / "svnr_core"
    if not modules:
        modules = sorted(p.name.removesuffix(".py.meta") for p in meta_dir.glob("*.py.meta"))
    scores = []
    for module in modules:
        path = meta_dir / f"{module}.py.meta"
        if not path.exists():
            raise FileNotFoundError(f"{path}: run `nox -s mutants` (or `mutmut run`) first")
        meta = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError(f"{path}: not a mutmut 3 meta file")
        scores.append(score_module(module, meta, equivalent))
    return scores


def format_table(scores: Sequence[ModuleScore]) -> str:
    """A Markdown table: one row per module and a total row."""
    header = (
        "| module | mutants | killed | timeout | survived | no tests | not run | equivalent "
        "| score | test time (s) |"
    )
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def row(name: str, rows: Sequence[ModuleScore]) -> str:
        total = sum(s.total for s in rows)
        equivalent = sum(len(s.equivalent) for s in rows)
        detected = sum(s.detected for s in rows)
        denominator = total - equivalent
        score = 100.0 if denominator == 0 else 100.0 * detected / denominator
        return (
            f"| {name} | {total} | {sum(s.killed + s.crashed for s in rows)} "
            f"| {sum(s.timeout for s in rows)} | {sum(len(s.survived) for s in rows)} "
            f"| {sum(len(s.no_tests) for s in rows)} "
            f"| {sum(len(s.not_run) + len(s.other) for s in rows)} | {equivalent} "
            f"| {score:.1f}% | {sum(s.seconds for s in rows):.0f} |"
        )

    lines.extend(row(s.module, [s]) for s in scores)
    if len(scores) > 1:
        lines.append(row("**all**", scores))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("modules", nargs="*", help="modules of svnr_core (default: all found)")
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository root")
    parser.add_argument(
        "--equivalent",
        type=Path,
        default=None,
        help="Markdown file listing equivalent mutants (default: verification/mutants.md)",
    )
    parser.add_argument("--fail-under", type=float, default=None, help="minimum score per module")
    args = parser.parse_args(argv)
    root: Path = args.root
    markdown: Path = args.equivalent or root / "verification" / "mutants.md"
    scores = load_scores(root, list(args.modules), equivalent_mutants(markdown))

    print(format_table(scores))
    for s in scores:
        undetected = s.survived + s.no_tests + s.not_run + s.other
        if undetected:
            print(f"\n{s.module}: {len(undetected)} undetected (`mutmut show NAME` for the diff)")
            for name in s.survived:
                print(f"  survived   {name}")
            for name in s.no_tests:
                print(f"  no tests   {name}")
            for name in s.not_run:
                print(f"  not run    {name}")
            for name in s.other:
                print(f"  other      {name}")
        for name in s.detected_but_listed_equivalent:
            print(f"  listed as equivalent in {markdown} but detected: {name}")

    if args.fail_under is not None:
        low = [s.module for s in scores if s.score < args.fail_under]
        if low:
            print(f"\nbelow {args.fail_under}%: {', '.join(low)}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
