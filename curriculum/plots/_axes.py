"""The two steps every drawing helper shares: get the Axes to draw on, and finish it with its title.

A helper takes ``ax=None`` to mean "a new figure" and returns the Axes it drew on, so panels compose; none calls
``plt.show()``.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes


def axes_or_new(ax: object) -> Axes:
    """``ax`` itself, or the Axes of a new figure when it is None."""
    if ax is None:
        _, new_ax = plt.subplots()
        return new_ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def finish(ax: Axes, title: str | None) -> Axes:
    """Set the title (when given) and return ``ax``, the last line of every helper."""
    if title is not None:
        ax.set_title(title)
    return ax
