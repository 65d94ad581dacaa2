"""Example tests that kill surviving mutants of `svnr_core.schedules`.

See verification/mutants.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from svnr_core.schedules import alpha_constant, alpha_exponential, alpha_linear, alpha_paper_f2

NAN = float("nan")

# Every argument of every schedule, with a value that must be rejected, and the message start:
# the error names exactly the argument (not a neighbour, not a mangled name).
INVALID: list[tuple[Callable[[], float], str, str]] = [
    (lambda: alpha_paper_f2(-1, 0.1), "step", "must be >= 0"),
    (lambda: alpha_paper_f2(NAN, 0.1), "step", "must be finite"),
    (lambda: alpha_paper_f2(0, 0.0), "alpha_end", "must be > 0"),
    (lambda: alpha_paper_f2(0, 0.1, bonus=-1.0), "bonus", "must be >= 0"),
    (lambda: alpha_paper_f2(0, 0.1, rate=-1.0), "rate", "must be > 0"),
    (lambda: alpha_paper_f2(0, 0.1, delay=-1.0), "delay", "must be >= 0"),
    (lambda: alpha_paper_f2(0, 0.1, delay=NAN), "delay", "must be finite"),
    (lambda: alpha_paper_f2(0, 0.1, floor=-1.0), "floor", "must be >= 0"),
    (lambda: alpha_exponential(-1, 1.0, 0.01, 10.0), "step", "must be >= 0"),
    (lambda: alpha_exponential(NAN, 1.0, 0.01, 10.0), "step", "must be finite"),
    (lambda: alpha_exponential(0, 0.0, 0.01, 10.0), "alpha_start", "must be > 0"),
    (lambda: alpha_exponential(0, 1.0, 0.0, 10.0), "alpha_end", "must be > 0"),
    (lambda: alpha_exponential(0, 1.0, NAN, 10.0), "alpha_end", "must be finite"),
    (lambda: alpha_exponential(0, 1.0, 0.01, -1.0), "tau", "must be > 0"),
    (lambda: alpha_exponential(0, 1.0, 0.01, 10.0, floor=-1.0), "floor", "must be >= 0"),
    (lambda: alpha_linear(-1, 1.0, 0.01, 10.0), "step", "must be >= 0"),
    (lambda: alpha_linear(0, 0.0, 0.01, 10.0), "alpha_start", "must be > 0"),
    (lambda: alpha_linear(0, 1.0, 0.0, 10.0), "alpha_end", "must be > 0"),
    (lambda: alpha_linear(0, 1.0, 0.01, NAN), "duration", "must be finite"),
    (lambda: alpha_linear(0, 1.0, 0.01, -1.0), "duration", "must be > 0"),
    (lambda: alpha_linear(0, 1.0, 0.01, 10.0, floor=-1.0), "floor", "must be >= 0"),
    (lambda: alpha_constant(-1, 1.0), "step", "must be >= 0"),
    (lambda: alpha_constant(NAN, 1.0), "step", "must be finite"),
    (lambda: alpha_constant(0, 0.0), "alpha", "must be > 0"),
    (lambda: alpha_constant(0, 1.0, floor=-1.0), "floor", "must be >= 0"),
]


@pytest.mark.parametrize(("call", "name", "reason"), INVALID)
def test_schedule_errors_start_with_the_exact_argument_name(
    call: Callable[[], float], name: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=f"^{name} {reason}; got "):
        call()


def test_constant_schedule_has_no_floor_by_default() -> None:
    # App. F.2 / Table 8 "instant" schedule: a constant below 1 is returned unchanged.
    assert alpha_constant(0, 0.3) == 0.3
    assert alpha_constant(7, 1e-3) == 1e-3
    assert alpha_exponential(0, 0.2, 0.1, 5.0) == pytest.approx(0.2)
    assert alpha_paper_f2(1e6, 0.05) == pytest.approx(0.05, abs=1e-12)
    assert math.isclose(alpha_constant(0, 0.3, floor=0.5), 0.5)
