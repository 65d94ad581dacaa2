"""Example tests that kill surviving mutants of `svnr_core.differential_games`.

See verification/mutants.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from svnr_core.differential_games import DifferentialGame, max_of_three, two_modalities


def test_max_of_three_default_is_the_hardest_paper_setting() -> None:
    # Sec. 6: s2 in {3.0, 2.0, 1.5}; the preset defaults to the narrowest basin, 1.5.
    assert max_of_three().s2 == 1.5


@pytest.mark.parametrize("preset", [two_modalities, max_of_three])
@pytest.mark.parametrize("n_agents", [1, 0, 2.5])
def test_presets_reject_fewer_than_two_agents_by_name(
    preset: Callable[..., DifferentialGame], n_agents: object
) -> None:
    with pytest.raises(ValueError, match=rf"^n_agents must be an integer >= 2; got {n_agents}"):
        preset(n_agents=n_agents)


def test_gradient_at_a_tie_is_the_first_branchs() -> None:
    # reward_and_grad: "ties go to g_1: a valid subgradient of the max".
    game = DifferentialGame(
        n_agents=3,
        centre1=(-1.0, -1.0, -1.0),
        scale1=1.0,
        height1=1.0,
        c1=0.0,
        centre2=(1.0, 1.0, 1.0),
        s2=1.0,
        h2=1.0,
        c2=0.0,
    )
    reward, grad = game.reward_and_grad(np.zeros(3))
    assert float(reward) == -3.0
    np.testing.assert_array_equal(grad, [-2.0, -2.0, -2.0])


def test_reward_accepts_lists_and_integers_and_keeps_a_floating_dtype() -> None:
    # reward: "numpy arrays or torch tensors ... in the floating dtype of u"; other input is read
    # as float64.
    game = max_of_three()
    expected = game.reward(np.array([[7.0, 7.0, -4.0], [-5.0, -5.0, 3.0]]))
    np.testing.assert_array_equal(game.reward([[7, 7, -4], [-5, -5, 3]]), expected)
    ints = game.reward(np.array([[7, 7, -4], [-5, -5, 3]]))
    assert ints.dtype == np.float64
    np.testing.assert_array_equal(ints, expected)
    single = game.reward(np.array([7.0, 7.0, -4.0], dtype=np.float32))
    assert single.dtype == np.float32
    assert float(single) == pytest.approx(10.0)


def test_invalid_actions_and_centres_are_named() -> None:
    game = max_of_three()
    for bad in (np.zeros(2), np.float64(1.0)):
        with pytest.raises(
            ValueError, match=r"^u must have shape \[\.\.\., n_agents\] with n_agents = 3; got"
        ):
            game.reward(bad)
    with pytest.raises(ValueError, match=r"^u contains NaN or infinite entries"):
        game.reward(np.array([0.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match=r"^centre1 must be a sequence of 3 numbers; got 'abc'"):
        DifferentialGame(centre1="abc")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError,
        match=r"^centre2 must have one coordinate per agent \(length n_agents = 3\); got shape",
    ):
        DifferentialGame(centre2=(1.0, 2.0))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("scale1", 0.0, "must be a finite number > 0"),
        ("height1", math.inf, "must be a finite number > 0"),
        ("s2", -1.0, "must be a finite number > 0"),
        ("h2", 0.0, "must be a finite number > 0"),
        ("action_bound", math.nan, "must be a finite number > 0"),
        ("c1", math.inf, "must be finite"),
        ("c2", math.nan, "must be finite"),
        ("n_agents", 2.5, "must be an integer >= 2"),
    ],
)
def test_invalid_game_parameters_are_named(field: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field} {message}; got "):
        DifferentialGame(**{field: value})  # type: ignore[arg-type]


def test_non_finite_centre_coordinate_is_named() -> None:
    with pytest.raises(ValueError, match=r"^centre1\[1\] = .*nan.* is not finite"):
        DifferentialGame(centre1=(0.0, math.nan, 0.0))


def test_parameters_are_stored_as_python_floats_and_tuples() -> None:
    # __post_init__ normalises every field (lists -> float tuples, numpy scalars -> float).
    game = DifferentialGame(
        n_agents=np.int64(3),  # type: ignore[arg-type]
        centre1=[-5, -5, 3],  # type: ignore[arg-type]
        scale1=np.float32(3.0),  # type: ignore[arg-type]
        height1=1,
        c1=np.float32(0.5),  # type: ignore[arg-type]
        centre2=np.array([7, 7, -4]),  # type: ignore[arg-type]
        s2=2,
        h2=np.float32(1.0),  # type: ignore[arg-type]
        c2=10,
        action_bound=10,
    )
    assert type(game.n_agents) is int
    for name in ("centre1", "centre2"):
        centre = getattr(game, name)
        assert type(centre) is tuple
        assert all(type(x) is float for x in centre)
    for name in ("scale1", "height1", "c1", "s2", "h2", "c2", "action_bound"):
        assert type(getattr(game, name)) is float, name
