"""Developer sessions: ``nox -l`` lists them with these docstrings.

Every session installs the project with ``constraints.txt`` so that torch stays the CPU wheel
(2.13.0) on machines without a GPU.  ``nox --no-venv -s NAME`` runs a session in the current
environment instead (skipping the install), e.g. inside the ``.venv`` of the README.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "typecheck", "lint"]
nox.options.reuse_existing_virtualenvs = True

PACKAGES = ["svnr_core", "svnr_rl", "verification"]


def _install(session: nox.Session) -> None:
    if isinstance(session.virtualenv, nox.virtualenv.PassthroughEnv):
        return  # --no-venv: use what is installed
    session.install("-c", "constraints.txt", "-e", ".[dev]")


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests and properties under the CI Hypothesis profile (excludes `slow`)."""
    _install(session)
    session.env["SVNR_HYPOTHESIS_PROFILE"] = "ci"
    session.run(
        "pytest",
        "-m",
        "not slow",
        "-p",
        "no:cacheprovider",
        "--benchmark-disable",
        *session.posargs,
    )


@nox.session
def props(session: nox.Session) -> None:
    """Properties only (verification/), under the `thorough` profile (1000 examples each)."""
    _install(session)
    session.env["SVNR_HYPOTHESIS_PROFILE"] = "thorough"
    session.run("pytest", "verification", "--benchmark-disable", *session.posargs)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on svnr_core, svnr_rl and verification."""
    _install(session)
    session.run("mypy", "--strict", *PACKAGES)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    _install(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def bench(session: nox.Session) -> None:
    """pytest-benchmark over benchmarks/; saves JSON under .benchmarks/.

    Extra arguments pass through, e.g. ``nox -s bench -- --benchmark-compare`` or
    ``nox -s bench -- -k soft_bellman``.
    """
    _install(session)
    session.run(
        "pytest",
        "benchmarks",
        "-p",
        "no:randomly",
        "--benchmark-only",
        "--benchmark-autosave",
        "--benchmark-columns=min,mean,median,stddev,rounds",
        "-s",
        *session.posargs,
    )


MUTATED_MODULES = [
    "soft_bellman",
    "factorization",
    "reasoning",
    "stein",
    "negotiation",
    "games",
    "differential_games",
    "schedules",
]


@nox.session
def mutants(session: nox.Session) -> None:
    """Mutation testing of svnr_core with mutmut (not in CI); see verification/mutants.md.

    Runs on one core under the CI Hypothesis profile, then prints the score per module and the
    surviving mutants.  Results are cached in mutants/ (git-ignored): a second run only tests
    mutants without a result; delete mutants/ for a fresh run (and after editing tests:
    mutmut 3.8 keeps its first copy of tests/ in mutants/tests).  ``nox -s mutants -- stein
    schedules`` re-runs all mutants of the named modules and reports only those.
    """
    if not isinstance(session.virtualenv, nox.virtualenv.PassthroughEnv):
        session.install("-c", "constraints.txt", "-e", ".[dev,mutation]")
    unknown = sorted(set(session.posargs) - set(MUTATED_MODULES))
    if unknown:
        session.error(f"not a mutated module: {unknown}; choose from {MUTATED_MODULES}")
    modules = list(session.posargs) or MUTATED_MODULES
    session.env.update(
        {
            "SVNR_HYPOTHESIS_PROFILE": "ci",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
        }
    )
    # Without arguments mutmut runs every mutant whose result is not cached in mutants/; naming
    # modules re-runs all of their mutants.
    globs = [f"svnr_core.{module}.*" for module in session.posargs]
    session.run("mutmut", "run", "--max-children", "1", *globs)
    session.run("python", "-m", "verification.mutation_report", *modules)
