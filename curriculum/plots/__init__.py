"""The course's figure style and plotting helpers.

Every notebook draws with these, so the pictures look alike from the first toy distribution to the last image
sampler. ``from curriculum import plots`` gives every helper as ``plots.<name>``:

- ``set_style()``, once in the setup cell: one seaborn theme, one palette, small figures.
- the plane: ``grid_points``, ``density_heatmap``, ``samples_over_density``, ``scatter_compare``, ``vector_field``
- images: ``image_grid``
- training and evaluation: ``loss_curve``, ``bar_with_floor``
- explorers: ``explorer`` (a figure that controls redraw in place), ``show_widget`` (a widget with a clean text form)

Each drawing helper takes an optional ``ax`` (a new figure is made when it is None) and returns the Axes it drew
on, so panels compose: ``fig, axes = plt.subplots(1, 3)`` and one helper per panel. None calls ``plt.show()``.

Data may be torch tensors (any device, any real dtype, ``requires_grad`` or not) or NumPy arrays; it is copied to
the CPU before drawing. Where a helper takes points or a log-density function, it also takes a model of the
course's protocol: ``sample(n, generator=None) -> Tensor (n, D)`` and ``log_prob(x: Tensor (N, D)) -> Tensor (N,)``
(details in ``_models``). Functions of the plane receive float32 points on the CPU, unless ``device`` names another
device or the function is an ``nn.Module`` (or one of its methods), whose parameters' device and dtype are then
followed.

Modules:

- ``style``      ``set_style`` and the shared constants: palette, ``DATA_COLOR``, ``MODEL_COLOR``, colormaps, sizes
- ``plane``      2-D figures: grid, density heatmap, samples over a density, two sample sets, vector field
- ``images``     ``image_grid``
- ``curves``     ``loss_curve``, ``bar_with_floor``
- ``explore``    ``explorer``, ``show_widget``: the notebooks' interactive explorers
- ``_validate``  argument checks and conversions (tensor or array, points, extent, colour, colormap)
- ``_models``    calling functions of the plane and models of the protocol (device, dtype, seeded sampling)
- ``_axes``      a new or given Axes, and the title that finishes it

A new model family puts the figures only it needs in a new module ``plots/<family>.py`` (say ``plots/flows.py``),
built on the shared pieces above (``style`` for colours, ``_validate`` for arguments, ``_axes`` for the Axes,
``plane`` for the grid and the 2-D panels), and re-exports its public names here.
"""
from . import curves, explore, images, plane, style
from .curves import bar_with_floor, loss_curve
from .explore import explorer, show_widget
from .images import image_grid
from .plane import density_heatmap, grid_points, samples_over_density, scatter_compare, vector_field
from .style import (BACKGROUND_CMAP, COLORS, DATA_COLOR, DEFAULT_EXTENT, DENSITY_CMAP, DPI, FIGSIZE, MARKER_SIZE,
                    MODEL_COLOR, PALETTE, SEPARATOR_COLOR, set_style)

__all__ = [*style.__all__, *plane.__all__, *images.__all__, *curves.__all__, *explore.__all__]
