"""Explorers: a figure that controls redraw in place, readable with and without a running kernel.

Each notebook ends its tour with one explorer (a slider over the noise level, the guidance scale, ...). Two
readers see it:

- someone reading the executed notebook with no kernel (on the web, or in JupyterLab before running anything)
  sees the figure at the default values and one line of text naming the controls, never a widget's raw repr
  such as ``interactive(children=(FloatSlider(...``;
- someone running the notebook moves a control and the **same** figure is redrawn in its place (not a second
  figure beside a stale one).

``explorer(draw, controls)`` does both: ``draw(**values)`` returns a matplotlib Figure (and does not show it),
``controls`` maps each keyword of ``draw`` to an ipywidgets control. ``show_widget`` is the display step on its
own: a widget whose plain-text form is a sentence of your choice.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..checks import check_callable

__all__ = ["explorer", "show_widget"]


def _display(*args: Any, **kwargs: Any) -> Any:
    from IPython.display import display  # imported late: the package works outside IPython too

    return display(*args, **kwargs)


def show_widget(widget: Any, text: str) -> None:
    """Display an ipywidgets ``widget`` whose plain-text form (what a page without a kernel or a widget manager
    shows) is ``text`` instead of the widget's constructor repr."""
    bundle = getattr(widget, "_repr_mimebundle_", None)
    if not callable(bundle):
        raise TypeError(f"widget must be an ipywidgets widget, got {type(widget).__name__}")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be a non-empty string describing the widget, got {text!r}")
    data = dict(bundle())
    data["text/plain"] = text
    _display(data, raw=True)


def explorer(draw: Callable[..., Figure], controls: Mapping[str, Any], *,
             note: str = "run this cell in JupyterLab to move them") -> None:
    """Show ``draw(**defaults)`` and, below it, the ``controls``; moving one redraws the figure in place.

    ``controls``: keyword of ``draw`` -> an ipywidgets control with a ``value`` (its default). ``draw`` must
    return a ``matplotlib.figure.Figure`` without showing it (build it with ``plt.subplots`` and return ``fig``).
    The plain-text fallback names the controls and their defaults, followed by ``note``.
    """
    import ipywidgets as widgets

    check_callable(draw, "draw", "draw(**values) -> matplotlib Figure")
    if not isinstance(controls, Mapping) or not controls:
        raise ValueError("controls must map at least one keyword of draw to an ipywidgets control")
    for name, control in controls.items():
        if not hasattr(control, "value") or not hasattr(control, "observe"):
            raise TypeError(f"controls[{name!r}] must be an ipywidgets control with a value, "
                            f"got {type(control).__name__}")
        if hasattr(control, "style") and hasattr(control.style, "description_width"):
            control.style.description_width = "initial"  # long labels are shown whole, not cut off

    def render() -> Figure:
        fig = draw(**{name: control.value for name, control in controls.items()})
        if not isinstance(fig, Figure):
            raise TypeError(f"draw must return a matplotlib Figure (and not show it), got {type(fig).__name__}")
        plt.close(fig)  # the display below shows it; closing keeps the inline backend from showing it twice
        return fig

    handle = _display(render(), display_id=True)

    def redraw(_change: Any) -> None:
        handle.update(render())

    for control in controls.values():
        control.observe(redraw, names="value")
    defaults = ", ".join(f"{name} = {control.value!r}" for name, control in controls.items())
    show_widget(widgets.HBox(list(controls.values())),
                f"[explorer] The figure above shows {defaults}. Controls: {', '.join(controls)}; {note}.")
