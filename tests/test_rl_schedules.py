"""Alpha annealing schedules (svnr_core.schedules; App. F.2 and Eq. 20) and their config."""

from __future__ import annotations

import itertools
import math

import pytest

from svnr_core.schedules import (
    alpha_constant,
    alpha_exponential,
    alpha_linear,
    alpha_paper_f2,
    alpha_staged_f2,
)
from svnr_rl.config import AlphaConfig, ConfigError


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


def test_staged_f2_values_are_the_forks_three_stages() -> None:
    # Jarvis-K/rommeo experiment/res_gpf.py at -ms 5000 -alpha 10: F.2 below 5000 // 3 = 1666,
    # alpha' / 10 below 5000 // 2 = 2500, then 0.3
    def staged(t: float) -> float:
        return alpha_staged_f2(t, 10.0, second_start=1666, third_start=2500)

    assert staged(0) == pytest.approx(510.0)
    assert staged(20) == pytest.approx(10.0 + 500 * math.exp(-1.0))
    assert staged(1665) == pytest.approx(alpha_paper_f2(1665, 10.0))
    assert staged(1666) == pytest.approx(1.0)
    assert staged(2499) == pytest.approx(1.0)
    assert staged(2500) == pytest.approx(0.3)
    assert staged(1e9) == pytest.approx(0.3)
    # the second stage scales alpha', the third is absolute; the floor bounds every stage
    kw = {"second_start": 10.0, "third_start": 20.0, "second_scale": 0.5, "third_alpha": 0.2}
    assert alpha_staged_f2(15, 4.0, **kw) == pytest.approx(2.0)
    assert alpha_staged_f2(25, 4.0, **kw, floor=0.25) == 0.25
    assert alpha_staged_f2(15, 4.0, **kw, floor=3.0) == 3.0


def test_staged_f2_with_empty_later_stages_is_f2() -> None:
    # stage boundaries beyond the run leave App. F.2 as written
    for t in (0, 11, 50, 400, 4999):
        assert alpha_staged_f2(t, 0.7, second_start=1e9, third_start=1e9) == alpha_paper_f2(t, 0.7)


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
        (lambda: alpha_staged_f2(0, 1.0, second_start=5, third_start=4), "third_start"),
        (lambda: alpha_staged_f2(0, 1.0, second_start=-1, third_start=4), "second_start"),
        (lambda: alpha_staged_f2(0, 1.0, second_start=1, third_start=4, third_alpha=0), "third"),
        (
            lambda: alpha_staged_f2(0, 1.0, second_start=1, third_start=4, second_scale=0),
            "second_scale",
        ),
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
    staged = AlphaConfig(schedule="staged-f2", alpha_end=10.0, rate=0.1)
    for t in (0, 30, 1665, 1666, 2500):
        assert staged.value(t) == alpha_staged_f2(t, 10.0, second_start=1666, third_start=2500)


def test_staged_f2_config_refuses_reversed_stages() -> None:
    with pytest.raises(ConfigError, match=r"alpha\.third_start"):
        AlphaConfig(schedule="staged-f2", second_start=100.0, third_start=50.0)
    with pytest.raises(ConfigError, match=r"alpha\.third_alpha"):
        AlphaConfig(third_alpha=0.0)
