"""pytest plugin for ``nox -s mutants``: a mutant of a module runs only that module's test files.

mutmut 3 runs, for each mutant, every test that called the mutated function during its stats
run, including tests of *other* modules that reach it indirectly (a negotiation test calls the
Stein kernel through ``negotiate``).  On one core that does not fit the time budget, so this
plugin (loaded with ``-p verification.mutation_selection`` from ``[tool.mutmut]`` in
pyproject.toml) deselects, inside a mutant's test run, every test outside the files that
exercise the mutant's module directly (:data:`TEST_FILES`).  mutmut names the mutant under test
in the environment variable ``MUTANT_UNDER_TEST`` (``svnr_core.<module>.<function>__mutmut_<k>``);
when it is unset, empty or not such a name (mutmut's stats, clean and forced-fail runs, and
every ordinary pytest run) the plugin does nothing.

A mutant whose covering tests all lie outside its module's files is reported by mutmut as
"no tests" (pytest exit code 5) and counts against the score (verification/mutants.md).
"""

from __future__ import annotations

import os

import pytest

#: Test files (paths relative to the repository root) that exercise each mutated module.
TEST_FILES: dict[str, tuple[str, ...]] = {
    "soft_bellman": (
        "tests/test_soft_bellman.py",
        "tests/test_mutants_soft_bellman.py",
        "verification/test_eq1_boltzmann.py",
        "verification/test_eq6_soft_bellman.py",
        "verification/test_lemma_4_1.py",
        "verification/test_lemma_4_2.py",
        "verification/test_thm_4_3.py",
    ),
    "factorization": (
        "tests/test_factorization.py",
        "tests/test_mutants_factorization.py",
        "verification/test_thm_c1_nested.py",
        "verification/test_app_e8_projection.py",
    ),
    "reasoning": (
        "tests/test_reasoning.py",
        "tests/test_mutants_reasoning.py",
        "verification/test_def_2_1_ero.py",
        "verification/test_def_2_2_pro.py",
        "verification/test_def_2_3_consistent.py",
        "verification/test_thm_3_1_3_2.py",
        "verification/test_app_e8_projection.py",
    ),
    "stein": (
        "tests/test_stein.py",
        "tests/test_mutants_stein.py",
        "verification/test_eq12_svgd.py",
        "verification/test_eq5_local_kernel.py",
        "verification/test_ksd.py",
    ),
    "negotiation": (
        "tests/test_negotiation.py",
        "tests/test_mutants_negotiation.py",
        "verification/test_app_e4_negotiation.py",
    ),
    "games": (
        "tests/test_games.py",
        "tests/test_mutants_games.py",
        "verification/test_eq6_soft_bellman.py",
        "verification/test_lemma_4_1.py",
    ),
    "differential_games": (
        "tests/test_mutants_differential_games.py",
        "verification/test_differential_games.py",
        "verification/test_eq5_conditional_target.py",
    ),
    "schedules": (
        "tests/test_rl_schedules.py",
        "tests/test_mutants_schedules.py",
    ),
}


def module_under_test(mutant: str) -> str | None:
    """``"stein"`` for ``"svnr_core.stein.x__kernel__mutmut_3"``; None for anything else."""
    package, _, rest = mutant.partition(".")
    module, _, function = rest.partition(".")
    if package != "svnr_core" or "__mutmut_" not in function:
        return None
    return module


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests outside the mutated module's files (only inside a mutant's run)."""
    module = module_under_test(os.environ.get("MUTANT_UNDER_TEST", ""))
    if module is None or module not in TEST_FILES:
        return
    files = TEST_FILES[module]
    keep = [item for item in items if item.nodeid.split("::", 1)[0] in files]
    drop = [item for item in items if item.nodeid.split("::", 1)[0] not in files]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
