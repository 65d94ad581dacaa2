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
