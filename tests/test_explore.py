"""Explorers: one figure, redrawn in place by its controls, and a clean text form for readers without a kernel."""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from curriculum import plots  # noqa: E402
from curriculum.plots import explore  # noqa: E402


class Handle:
    def __init__(self):
        self.updates = []

    def update(self, obj):
        self.updates.append(obj)


@pytest.fixture
def shown(monkeypatch):
    calls = []

    def fake_display(obj, **kwargs):
        calls.append((obj, kwargs))
        return Handle() if kwargs.get("display_id") else None

    monkeypatch.setattr(explore, "_display", fake_display)
    return calls


def draw(scale=1.0, name="a"):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, scale])
    ax.set_title(name)
    return fig


def test_explorer_shows_one_figure_then_controls_with_a_text_fallback_and_redraws_in_place(shown):
    scale = widgets.FloatSlider(value=2.0, min=0, max=5, description="a long description")
    name = widgets.Dropdown(options=["a", "b"], value="a")
    plots.explorer(draw, {"scale": scale, "name": name})
    (fig, first), (bundle, second) = shown
    assert first == {"display_id": True} and fig.axes[0].get_title() == "a"
    assert second == {"raw": True}
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("[explorer] The figure above shows scale = 2.0, name = 'a'.")
    assert "children=" not in bundle["text/plain"]
    assert scale.style.description_width == "initial"  # the label is not cut off
    name.value = "b"  # moving a control redraws the figure in the same output ...
    assert len(shown) == 2  # ... so nothing new is displayed


def test_redraw_updates_the_displayed_figure(monkeypatch):
    handles = []

    def fake_display(obj, **kwargs):
        if kwargs.get("display_id"):
            handles.append(Handle())
            return handles[-1]
        return None

    monkeypatch.setattr(explore, "_display", fake_display)
    scale = widgets.FloatSlider(value=1.0)
    plots.explorer(draw, {"scale": scale})
    scale.value = 3.0
    (handle,) = handles
    (new_fig,) = handle.updates
    assert new_fig.axes[0].lines[0].get_ydata()[1] == 3.0


def test_explorer_and_show_widget_refuse_bad_arguments(shown):
    with pytest.raises(ValueError, match="controls must map"):
        plots.explorer(draw, {})
    with pytest.raises(TypeError, match=r"controls\['scale'\] must be an ipywidgets control"):
        plots.explorer(draw, {"scale": 3})
    with pytest.raises(TypeError, match="draw must return a matplotlib Figure"):
        plots.explorer(lambda scale: None, {"scale": widgets.FloatSlider()})
    with pytest.raises(TypeError, match="widget must be an ipywidgets widget"):
        plots.show_widget("slider", "text")
    with pytest.raises(ValueError, match="text must be a non-empty string"):
        plots.show_widget(widgets.IntSlider(), " ")
