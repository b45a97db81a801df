"""The course's look: one seaborn theme, one palette, and the constants every figure shares.

Call ``set_style()`` once, in a notebook's setup cell. The constants are what the drawing modules agree on, so a
model family's figures match the rest of the course: the data always in ``DATA_COLOR``, a model in
``MODEL_COLOR``, densities in ``DENSITY_CMAP``.
"""
from __future__ import annotations

import seaborn as sns

__all__ = [
    "DEFAULT_EXTENT",
    "PALETTE",
    "COLORS",
    "DATA_COLOR",
    "MODEL_COLOR",
    "FIGSIZE",
    "DPI",
    "DENSITY_CMAP",
    "BACKGROUND_CMAP",
    "SEPARATOR_COLOR",
    "MARKER_SIZE",
    "set_style",
]

DEFAULT_EXTENT: tuple[float, float, float, float] = (-4.0, 4.0, -4.0, 4.0)  # (xmin, xmax, ymin, ymax)
PALETTE = "colorblind"  # seaborn palette; distinguishable with the common colour-vision deficiencies
FIGSIZE = (5.0, 3.6)  # inches; at DPI 100 a committed PNG stays a few tens of kB
DPI = 100
DENSITY_CMAP = "viridis"  # perceptually uniform, so brighter always means more probable
BACKGROUND_CMAP = "Blues"  # light density under a scatter of samples
SEPARATOR_COLOR = "white"  # between image tiles
MARKER_SIZE = 4.0  # scatter points small enough that thousands of samples still show the density

COLORS = sns.color_palette(PALETTE, 10)  # the palette in order: several curves or bars take colours i = 0, 1, ...
DATA_COLOR = COLORS[0]  # the data (ground truth) is always blue ...
MODEL_COLOR = COLORS[1]  # ... and the model's samples always orange


def set_style() -> None:
    """Apply the course's look: seaborn ``whitegrid``, the ``colorblind`` palette, 100 dpi, 5 x 3.6 inch figures.

    Idempotent: every call sets the same values, so calling it again (say, re-running a setup cell) changes nothing.
    """
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        rc={
            "figure.dpi": DPI,
            "savefig.dpi": DPI,
            "figure.figsize": FIGSIZE,
            "image.cmap": DENSITY_CMAP,
            "axes.titlesize": "medium",
            "legend.fontsize": "small",
        },
    )
