"""Alpha annealing schedules (svnr_core.schedules; App. F.2 and Eq. 20) and their config."""

from __future__ import annotations

import itertools
import math

import pytest

from svnr_core.schedules import alpha_constant, alpha_exponential, alpha_linear, alpha_paper_f2
from svnr_rl.config import AlphaConfig


def test_paper_f2_values() -> None:
    # flat at alpha_end + bonus until the delay, then exp(-rate (t - delay)) decay
    assert alpha_paper_f2(0, 0.1) == pytest.approx(500.1)
    assert alpha_paper_f2(10, 0.1) == pytest.approx(500.1)
    assert alpha_paper_f2(20, 0.1) == pytest.approx(0.1 + 500 * math.exp(-1.0))
    assert alpha_paper_f2(10_000, 0.1) == pytest.approx(0.1)
    assert alpha_paper_f2(10_000, 0.1, floor=0.5) == 0.5


def test_exponential_eq20_values() -> None:
    assert alpha_exponential(0, 1.0, 0.01, 2000) == pytest.approx(1.0)
    assert alpha_exponential(2000, 1.0, 0.01, 2000) == pytest.approx(0.01 + 0.99 / math.e)
    assert alpha_exponential(1e9, 1.0, 0.01, 2000) == pytest.approx(0.01)
    assert alpha_exponential(1e9, 1.0, 0.01, 2000, floor=0.05) == 0.05


def test_linear_values() -> None:
    # Table 8's "30% of T" at T = 5000: 1.0 -> 0.01 over 1500 steps, then flat
    assert alpha_linear(0, 1.0, 0.01, 1500) == 1.0
    assert alpha_linear(750, 1.0, 0.01, 1500) == pytest.approx(0.505)
    assert alpha_linear(1500, 1.0, 0.01, 1500) == pytest.approx(0.01)
    assert alpha_linear(4999, 1.0, 0.01, 1500) == pytest.approx(0.01)
    assert alpha_linear(4999, 1.0, 0.01, 1500, floor=0.1) == 0.1


def test_schedules_are_monotone_non_increasing() -> None:
    f2 = [alpha_paper_f2(t, 0.05, rate=0.008) for t in range(0, 3000, 7)]
    ex = [alpha_exponential(t, 1.0, 0.01, 300) for t in range(0, 3000, 7)]
    li = [alpha_linear(t, 1.0, 0.01, 300) for t in range(0, 3000, 7)]
    assert all(a >= b for a, b in itertools.pairwise(li))
    assert all(a >= b for a, b in itertools.pairwise(f2))
    assert all(a >= b for a, b in itertools.pairwise(ex))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: alpha_paper_f2(-1, 0.1), "step"),
        (lambda: alpha_paper_f2(0, 0.0), "alpha_end"),
        (lambda: alpha_paper_f2(0, 0.1, rate=0.0), "rate"),
        (lambda: alpha_paper_f2(0, 0.1, bonus=-1.0), "bonus"),
        (lambda: alpha_exponential(0, 1.0, 0.01, 0.0), "tau"),
        (lambda: alpha_exponential(0, -1.0, 0.01, 1.0), "alpha_start"),
        (lambda: alpha_linear(0, 1.0, 0.01, 0.0), "duration"),
        (lambda: alpha_linear(0, 1.0, 0.0, 10.0), "alpha_end"),
        (lambda: alpha_constant(0, float("nan")), "alpha"),
        (lambda: alpha_constant(0, 1.0, floor=-1.0), "floor"),
    ],
)
def test_invalid_arguments_are_named(call: object, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        call()  # type: ignore[operator]


def test_config_dispatches_to_the_core_schedules() -> None:
    assert AlphaConfig().value(100) == alpha_paper_f2(100, 0.05, rate=0.004)
    cfg = AlphaConfig(schedule="exponential", alpha_start=1.0, alpha_end=0.01, tau=50.0)
    assert cfg.value(10) == alpha_exponential(10, 1.0, 0.01, 50.0)
    assert AlphaConfig(schedule="constant", alpha_end=0.3).value(5) == 0.3
    lin = AlphaConfig(schedule="linear", alpha_start=1.0, alpha_end=0.1, duration=100.0)
    assert lin.value(50) == alpha_linear(50, 1.0, 0.1, 100.0)
