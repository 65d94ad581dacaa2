"""The look shared by the joint-action figures: 3-D scatter plots of joint actions ``u`` on the
action box ``[-10, 10]^3`` coloured by their reward, in the manner of the paper's Fig. 3 and 5.

Every panel uses the same axes and the same colour range, so panels of one figure (and of
different figures) can be compared by eye and one colour bar serves a whole figure.
"""

from __future__ import annotations

from typing import Any

from verification.game_measures import FloatArray

__all__ = ["ACTION_BOX", "REWARD_COLOUR_RANGE", "scatter3d"]

#: Axis limits of every panel: the action box of both differential games.
ACTION_BOX = (-10.0, 10.0)

#: Reward range mapped onto the colour map: the optima are worth 10 (Two Modalities; the global
#: one of Max of Three) and the corners of the box far below 0; fixing the range (rather than
#: letting each panel scale to its own particles) keeps one colour bar valid for every panel.
REWARD_COLOUR_RANGE = (-20.0, 10.0)


def scatter3d(ax: Any, u: FloatArray, reward: FloatArray, title: str) -> Any:
    """Scatter the joint actions ``u [M, 3]`` on the 3-D axes ``ax``, coloured by ``reward
    [M]``; returns the collection (for the figure's colour bar)."""
    vmin, vmax = REWARD_COLOUR_RANGE
    sc = ax.scatter(u[:, 0], u[:, 1], u[:, 2], c=reward, cmap="viridis", s=6, vmin=vmin, vmax=vmax)
    ax.set_xlim(*ACTION_BOX)
    ax.set_ylim(*ACTION_BOX)
    ax.set_zlim(*ACTION_BOX)
    ax.set_xlabel("$u_1$")
    ax.set_ylabel("$u_2$")
    ax.set_zlabel("$u_3$")
    ax.set_title(title, fontsize=9)
    return sc
