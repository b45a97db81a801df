"""Tests for curriculum.plots: each helper draws what it claims, checked on the artists it leaves on the Axes."""
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402

from curriculum import plots  # noqa: E402

LOG_2PI = math.log(2 * math.pi)


@pytest.fixture(autouse=True)
def _clean_matplotlib(monkeypatch):
    """No helper may call plt.show(); every figure is closed and rcParams restored after each test."""

    def refuse_show(*args, **kwargs):
        raise AssertionError("plotting helpers must not call plt.show()")

    monkeypatch.setattr(plt, "show", refuse_show)
    with matplotlib.rc_context():
        yield
    plt.close("all")


def gaussian_log_prob(mean=(0.0, 0.0), std=1.0):
    """log N(x; mean, std^2 I) in 2-D, written out independently of the module under test."""
    mean_t = torch.tensor(mean)

    def log_prob(x):
        z = (x - mean_t.to(x)) / std
        return -0.5 * (z**2).sum(dim=1) - LOG_2PI - 2 * math.log(std)

    return log_prob


def uniform_square_log_prob(x):
    """Uniform on [-1, 1]^2: log(1/4) inside, -inf outside."""
    inside = (x.abs() <= 1).all(dim=1)
    return torch.where(inside, torch.full_like(x[:, 0], math.log(0.25)), torch.full_like(x[:, 0], -math.inf))


def only_image(ax):
    assert len(ax.images) == 1
    return ax.images[0]


def pixel_centre(image, row, col):
    """Data coordinates of pixel (row, col) of an image drawn with origin='lower'."""
    left, right, bottom, top = image.get_extent()
    n_rows, n_cols = image.get_array().shape[:2]
    return (left + (col + 0.5) * (right - left) / n_cols, bottom + (row + 0.5) * (top - bottom) / n_rows)


def centred_average_loop(y, window):
    """Mean of the values around each step, in a symmetric window of at most ``window`` values."""
    out = []
    for k in range(len(y)):
        half = min((window - 1) // 2, k, len(y) - 1 - k)
        out.append(np.mean(y[k - half : k + half + 1]))
    return np.array(out)


# ---------------------------------------------------------------------------------------------------------------
# the package: every public name of its modules is a name of plots
# ---------------------------------------------------------------------------------------------------------------


def test_every_public_name_is_reexported():
    from curriculum.plots import curves, images, plane, style

    for module in (style, plane, images, curves):
        for name in module.__all__:
            assert getattr(plots, name) is getattr(module, name), f"plots.{name} is not {module.__name__}.{name}"
            assert name in plots.__all__


# ---------------------------------------------------------------------------------------------------------------
# set_style
# ---------------------------------------------------------------------------------------------------------------


def test_set_style_is_idempotent_and_sets_the_course_look():
    plots.set_style()
    first = dict(matplotlib.rcParams)
    plots.set_style()
    assert dict(matplotlib.rcParams) == first
    assert matplotlib.rcParams["figure.dpi"] == 100
    width, height = matplotlib.rcParams["figure.figsize"]
    assert width <= 6 and height <= 4.5  # small committed figures
    cycle = [c for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]]
    expected = [matplotlib.colors.to_hex(c) for c in sns.color_palette(plots.PALETTE)]
    assert [matplotlib.colors.to_hex(c) for c in cycle] == expected


# ---------------------------------------------------------------------------------------------------------------
# grid_points
# ---------------------------------------------------------------------------------------------------------------


def test_grid_points_layout():
    points, xx, yy = plots.grid_points((-1, 3, 0, 2), resolution=5)
    assert points.shape == (25, 2) and xx.shape == (5, 5) and yy.shape == (5, 5)
    assert points.dtype == xx.dtype == yy.dtype == torch.float32
    torch.testing.assert_close(xx[0], torch.tensor([-1.0, 0.0, 1.0, 2.0, 3.0]))  # a row runs along x
    torch.testing.assert_close(yy[:, 0], torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0]))  # a column runs along y
    torch.testing.assert_close(points[:, 0], xx.flatten())
    torch.testing.assert_close(points[:, 1], yy.flatten())
    assert points[0].tolist() == [-1.0, 0.0] and points[-1].tolist() == [3.0, 2.0]


# ---------------------------------------------------------------------------------------------------------------
# density_heatmap
# ---------------------------------------------------------------------------------------------------------------


def test_standard_normal_peaks_at_origin_and_integrates_to_one():
    resolution, half_width = 201, 6.0
    ax = plots.density_heatmap(gaussian_log_prob(), extent=(-6, 6, -6, 6), resolution=resolution)
    image = only_image(ax)
    density = np.asarray(image.get_array())
    assert density.shape == (resolution, resolution)
    row, col = np.unravel_index(np.argmax(density), density.shape)
    assert (row, col) == (100, 100)
    assert pixel_centre(image, row, col) == pytest.approx((0.0, 0.0), abs=1e-9)
    cell = (2 * half_width / (resolution - 1)) ** 2
    assert density.sum() * cell == pytest.approx(1.0, abs=1e-6)
    assert density.max() == pytest.approx(1 / (2 * math.pi), rel=1e-6)


def test_heatmap_orientation_follows_the_data():
    # An off-centre, asymmetric density: the peak must be drawn at (2, -1), not transposed or flipped.
    ax = plots.density_heatmap(gaussian_log_prob(mean=(2.0, -1.0), std=0.5), extent=(-4, 4, -4, 4), resolution=81)
    image = only_image(ax)
    density = np.asarray(image.get_array())
    row, col = np.unravel_index(np.argmax(density), density.shape)
    assert (row, col) == (30, 60)
    assert pixel_centre(image, row, col) == pytest.approx((2.0, -1.0), abs=1e-9)
    assert ax.get_xlim() == (-4, 4) and ax.get_ylim() == (-4, 4)


def test_heatmap_values_are_the_density_at_the_grid_points():
    log_prob = gaussian_log_prob(mean=(0.5, -0.3), std=1.3)
    extent, resolution = (-3, 2, -1, 4), 37
    points, _, _ = plots.grid_points(extent, resolution)
    expected_log = log_prob(points.double()).reshape(resolution, resolution).numpy()

    drawn = np.asarray(only_image(plots.density_heatmap(log_prob, extent, resolution)).get_array())
    np.testing.assert_allclose(drawn, np.exp(expected_log), rtol=1e-5)
    drawn_log = np.asarray(only_image(plots.density_heatmap(log_prob, extent, resolution, log=True)).get_array())
    np.testing.assert_allclose(drawn_log, expected_log, rtol=1e-5)


def test_minus_infinity_is_zero_density():
    resolution = 201
    ax = plots.density_heatmap(uniform_square_log_prob, extent=(-2, 2, -2, 2), resolution=resolution)
    density = np.asarray(only_image(ax).get_array())
    assert np.isfinite(density).all()
    points, _, _ = plots.grid_points((-2, 2, -2, 2), resolution)
    inside = (points.abs() <= 1).all(dim=1).reshape(resolution, resolution).numpy()
    np.testing.assert_allclose(density[inside], 0.25, rtol=1e-6)
    assert (density[~inside] == 0).all()
    assert density.sum() * (4 / (resolution - 1)) ** 2 == pytest.approx(1.0, abs=0.03)  # edge cells over-count

    log_image = only_image(plots.density_heatmap(uniform_square_log_prob, (-2, 2, -2, 2), resolution, log=True))
    drawn = log_image.get_array()
    assert np.ma.is_masked(drawn)
    np.testing.assert_array_equal(np.ma.getmaskarray(drawn), ~inside)  # zero density left blank on a log scale


def test_heatmap_evaluates_in_chunks_without_grad():
    calls = []

    def recording_log_prob(x):
        calls.append((x.shape[0], x.dtype, x.device.type, torch.is_grad_enabled()))
        return gaussian_log_prob()(x)

    plots.density_heatmap(recording_log_prob, resolution=50, chunk_size=1000)
    assert [c[0] for c in calls] == [1000, 1000, 500]
    assert all(c[1:] == (torch.float32, "cpu", False) for c in calls)


def test_heatmap_follows_a_float64_module():
    class Float64Gaussian(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mean = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
            self.seen = []

        def log_prob(self, x):
            self.seen.append(x.dtype)
            return -0.5 * ((x - self.mean) ** 2).sum(dim=1) - LOG_2PI

    model = Float64Gaussian()
    ax = plots.density_heatmap(model.log_prob, resolution=21)
    assert set(model.seen) == {torch.float64}
    assert np.isfinite(np.asarray(only_image(ax).get_array())).all()


def test_heatmap_colorbar_and_title():
    ax = plots.density_heatmap(gaussian_log_prob(), resolution=20, colorbar=True, title="N(0, I)")
    assert ax.get_title() == "N(0, I)"
    assert len(ax.figure.axes) == 2  # the panel and its colorbar


# ---------------------------------------------------------------------------------------------------------------
# samples_over_density
# ---------------------------------------------------------------------------------------------------------------


def test_samples_over_density_subsamples_deterministically():
    samples = torch.randn(5000, 2, generator=torch.Generator().manual_seed(3))
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()

    ax_a = plots.samples_over_density(samples, gaussian_log_prob(), max_points=2000)
    ax_b = plots.samples_over_density(samples, None, max_points=2000)
    shown_a = np.asarray(ax_a.collections[-1].get_offsets())
    shown_b = np.asarray(ax_b.collections[-1].get_offsets())

    assert shown_a.shape == (2000, 2)
    np.testing.assert_array_equal(shown_a, shown_b)  # same subset every call
    rows = {tuple(r) for r in samples.double().numpy()}
    assert all(tuple(r) in rows for r in shown_a)  # a subset of the samples ...
    index = {tuple(r): i for i, r in enumerate(samples.double().numpy())}
    order = [index[tuple(r)] for r in shown_a]
    assert order == sorted(order) and len(set(order)) == 2000  # ... without repeats, in their original order
    assert torch.equal(torch.get_rng_state(), torch_state)  # the global RNGs are left alone
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])

    assert len(ax_a.images) == 1 and len(ax_b.images) == 0  # density drawn only when asked for
    assert ax_a.get_xlim() == (-4, 4) and ax_a.get_ylim() == (-4, 4)


def test_samples_over_density_draws_all_points_below_max():
    samples = np.random.default_rng(0).normal(size=(300, 2))
    ax = plots.samples_over_density(samples, max_points=2000, color="tab:red", title="few")
    np.testing.assert_allclose(np.asarray(ax.collections[-1].get_offsets()), samples)
    ax = plots.samples_over_density(samples, max_points=None)
    assert len(ax.collections[-1].get_offsets()) == 300
    assert ax.get_title() == "" and plots.samples_over_density(samples, title="t").get_title() == "t"


def test_samples_over_density_without_extent_fits_the_samples():
    samples = torch.tensor([[10.0, 20.0], [30.0, 40.0]])
    ax = plots.samples_over_density(samples, extent=None)
    x0, x1 = ax.get_xlim()
    assert x0 < 10 and x1 > 30
    with pytest.raises(ValueError, match="extent"):
        plots.samples_over_density(samples, gaussian_log_prob(), extent=None)


# ---------------------------------------------------------------------------------------------------------------
# scatter_compare
# ---------------------------------------------------------------------------------------------------------------


def test_scatter_compare_draws_both_sets_with_a_legend():
    real = torch.randn(100, 2, dtype=torch.float64)
    generated = np.random.default_rng(1).normal(size=(50, 2)) + 3
    ax = plots.scatter_compare(real, generated, labels=("truth", "flow"), extent=(-5, 8, -5, 8))
    real_drawn, gen_drawn = ax.collections
    np.testing.assert_allclose(np.asarray(real_drawn.get_offsets()), real.numpy())
    np.testing.assert_allclose(np.asarray(gen_drawn.get_offsets()), generated)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["truth", "flow"]
    assert not np.allclose(real_drawn.get_facecolor()[0][:3], gen_drawn.get_facecolor()[0][:3])
    assert ax.get_xlim() == (-5, 8)

    ax = plots.scatter_compare(real, generated, max_points=10)
    assert [len(c.get_offsets()) for c in ax.collections] == [10, 10]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["data", "model"]


# ---------------------------------------------------------------------------------------------------------------
# vector_field
# ---------------------------------------------------------------------------------------------------------------


def only_quiver(ax):
    quivers = [c for c in ax.collections if isinstance(c, Quiver)]
    assert len(quivers) == 1
    return quivers[0]


def test_vector_field_arrows_are_fn_at_the_grid_points():
    resolution = 7
    ax = plots.vector_field(lambda x: torch.stack([-x[:, 0], 2 * x[:, 1]], dim=1), (-3, 3, -3, 3), resolution)
    quiver = only_quiver(ax)
    assert quiver.N == resolution**2
    points, _, _ = plots.grid_points((-3, 3, -3, 3), resolution)
    np.testing.assert_allclose(quiver.X, points[:, 0].numpy())
    np.testing.assert_allclose(quiver.Y, points[:, 1].numpy())
    np.testing.assert_allclose(np.asarray(quiver.U), -points[:, 0].numpy(), atol=1e-6)
    np.testing.assert_allclose(np.asarray(quiver.V), 2 * points[:, 1].numpy(), atol=1e-6)


def test_vector_field_normalize_gives_unit_arrows_and_zero_stays_zero():
    ax = plots.vector_field(lambda x: -3 * x, (-3, 3, -3, 3), resolution=7, normalize=True)
    quiver = only_quiver(ax)
    lengths = np.hypot(np.asarray(quiver.U), np.asarray(quiver.V))
    at_origin = (np.asarray(quiver.X) == 0) & (np.asarray(quiver.Y) == 0)
    assert at_origin.sum() == 1 and lengths[at_origin] == 0
    np.testing.assert_allclose(lengths[~at_origin], 1.0, rtol=1e-6)


def test_vector_field_allows_autograd_scores():
    log_prob = gaussian_log_prob(mean=(1.0, -1.0))

    def score(x):  # grad_x log p(x), computed by autograd
        x = x.clone().requires_grad_(True)
        return torch.autograd.grad(log_prob(x).sum(), x)[0]

    quiver = only_quiver(plots.vector_field(score, resolution=5))
    np.testing.assert_allclose(np.asarray(quiver.U), 1.0 - quiver.X, atol=1e-5)  # score = mean - x
    np.testing.assert_allclose(np.asarray(quiver.V), -1.0 - quiver.Y, atol=1e-5)


def test_vector_field_follows_a_float64_module():
    field = torch.nn.Linear(2, 2).double()  # a float32 input would fail inside the layer
    quiver = only_quiver(plots.vector_field(field, resolution=4))
    points, _, _ = plots.grid_points(plots.DEFAULT_EXTENT, 4)
    with torch.no_grad():
        expected = field(points.double()).numpy()
    np.testing.assert_allclose(np.asarray(quiver.U), expected[:, 0])
    np.testing.assert_allclose(np.asarray(quiver.V), expected[:, 1])


# ---------------------------------------------------------------------------------------------------------------
# image_grid
# ---------------------------------------------------------------------------------------------------------------


def tile(array, index, nrow, height, width, padding):
    top = (index // nrow) * (height + padding)
    left = (index % nrow) * (width + padding)
    return array[top : top + height, left : left + width]


def test_image_grid_gray_tiles_equal_the_inputs():
    images = torch.rand(5, 1, 4, 3, generator=torch.Generator().manual_seed(0))
    ax = plots.image_grid(images, nrow=3, title="samples")
    image = only_image(ax)
    drawn = image.get_array()
    assert drawn.shape == (2 * 4 + 1, 3 * 3 + 2)
    for i in range(5):
        np.testing.assert_allclose(np.ma.getdata(tile(drawn, i, 3, 4, 3, 1)), images[i, 0].numpy(), rtol=1e-6)
        assert not np.ma.getmaskarray(tile(drawn, i, 3, 4, 3, 1)).any()
    mask = np.ma.getmaskarray(drawn)
    assert mask[4].all() and mask[:, 3].all() and mask[:, 7].all()  # separators
    assert mask[5:, 8:].all()  # the unused sixth tile
    assert image.norm.vmin == 0 and image.norm.vmax == 1
    assert not ax.axison and ax.get_title() == "samples"


def test_image_grid_rgb_tiles_equal_the_inputs():
    images = torch.rand(4, 3, 5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    drawn = np.asarray(only_image(plots.image_grid(images, nrow=2, padding=2)).get_array())
    assert drawn.shape == (2 * 5 + 2, 2 * 6 + 2, 3)
    for i in range(4):
        np.testing.assert_allclose(tile(drawn, i, 2, 5, 6, 2), images[i].permute(1, 2, 0).numpy())
    np.testing.assert_allclose(drawn[5:7], 1.0)  # white separator rows


def test_image_grid_rescales_rgb_and_passes_vmin_vmax_for_gray():
    images = torch.randint(0, 256, (2, 3, 4, 4), generator=torch.Generator().manual_seed(2)).to(torch.uint8)
    drawn = np.asarray(only_image(plots.image_grid(images, vmin=0, vmax=255, padding=0)).get_array())
    np.testing.assert_allclose(drawn[:, :4], images[0].permute(1, 2, 0).numpy() / 255)
    gray = only_image(plots.image_grid(torch.zeros(3, 8, 8), vmin=-1, vmax=1))
    assert (gray.norm.vmin, gray.norm.vmax) == (-1, 1)


def test_image_grid_accepts_bhw_and_numpy():
    images = np.random.default_rng(3).random((6, 8, 8))
    a = only_image(plots.image_grid(images, nrow=4)).get_array()
    b = only_image(plots.image_grid(torch.from_numpy(images).unsqueeze(1).float(), nrow=4)).get_array()
    np.testing.assert_allclose(np.ma.filled(a, -1), np.ma.filled(b, -1), rtol=1e-6)
    assert a.shape == (2 * 8 + 1, 4 * 8 + 3)
    single = only_image(plots.image_grid(images[:2], nrow=8)).get_array()
    assert single.shape == (8, 2 * 8 + 1)  # fewer images than nrow: one row, no empty columns


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 10),
    nrow=st.integers(1, 5),
    height=st.integers(1, 4),
    width=st.integers(1, 4),
    padding=st.integers(0, 2),
    channels=st.sampled_from([1, 3]),
)
def test_image_grid_every_tile_is_its_image(batch, nrow, height, width, padding, channels):
    images = torch.rand(batch, channels, height, width, generator=torch.Generator().manual_seed(batch))
    ax = plots.image_grid(images, nrow=nrow, padding=padding)
    drawn = np.ma.getdata(only_image(ax).get_array())
    ncols = min(nrow, batch)
    rows = math.ceil(batch / ncols)
    assert drawn.shape[:2] == (rows * height + (rows - 1) * padding, ncols * width + (ncols - 1) * padding)
    for i in range(batch):
        expected = images[i, 0].numpy() if channels == 1 else images[i].permute(1, 2, 0).numpy()
        np.testing.assert_allclose(tile(drawn, i, ncols, height, width, padding), expected, rtol=1e-6)
    plt.close("all")


# ---------------------------------------------------------------------------------------------------------------
# loss_curve
# ---------------------------------------------------------------------------------------------------------------


def test_loss_curve_single_sequence():
    history = [3.0, 2.5, 2.2, 2.0, 1.9]
    ax = plots.loss_curve(history, title="training")
    assert len(ax.lines) == 1
    np.testing.assert_allclose(ax.lines[0].get_ydata(), history)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.arange(5))
    as_tensors = plots.loss_curve([torch.tensor(v) for v in history])  # a list of loss.detach() values
    np.testing.assert_allclose(as_tensors.lines[0].get_ydata(), history)
    assert ax.get_legend() is None and ax.get_title() == "training"
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "loss"


def test_loss_curve_smoothing_is_a_centred_moving_average_over_every_step():
    y = np.random.default_rng(0).normal(size=50).cumsum() + 100
    ax = plots.loss_curve(torch.tensor(y), smooth=5)
    raw, smoothed = ax.lines
    np.testing.assert_allclose(raw.get_ydata(), y)
    np.testing.assert_allclose(smoothed.get_ydata(), centred_average_loop(y, 5))
    np.testing.assert_allclose(smoothed.get_xdata(), np.arange(50))  # starts at the first step
    assert raw.get_alpha() < 1 and (smoothed.get_alpha() in (None, 1))

    ramp = np.linspace(5.0, 1.0, 40)  # a straight line: a lagging (trailing) average would sit above it
    np.testing.assert_allclose(plots.loss_curve(ramp, smooth=9).lines[1].get_ydata(), ramp)

    ax = plots.loss_curve([1.0, 2.0, 3.0], smooth=100)  # the window is cut to the curve's length
    assert ax.lines[1].get_ydata().tolist() == [1.0, 2.0, 3.0]


def test_loss_curve_named_curves_have_a_legend():
    history = {"train": np.linspace(3, 1, 40), "val": [2.0] * 40}
    ax = plots.loss_curve(history, smooth=10)
    assert len(ax.lines) == 4  # raw + smoothed per curve
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "val"]

    ax = plots.loss_curve(history, logy=True)
    assert len(ax.lines) == 2 and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "val"]
    assert ax.lines[0].get_color() != ax.lines[1].get_color()


# ---------------------------------------------------------------------------------------------------------------
# bar_with_floor
# ---------------------------------------------------------------------------------------------------------------


def bars_of(ax):
    (container,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    return container


def test_bar_with_floor_draws_bars_and_a_dashed_floor():
    values = {"gaussian": 0.31, "flow": torch.tensor(0.05), "diffusion": np.float64(0.02)}
    ax = plots.bar_with_floor(values, floor=0.015, ylabel="MMD", title="vs. the floor")
    bars = bars_of(ax).patches
    assert [b.get_height() for b in bars] == pytest.approx([0.31, 0.05, 0.02])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(values)
    floors = [line for line in ax.lines if line.get_label() == "noise floor"]
    assert len(floors) == 1 and floors[0].get_linestyle() == "--"
    assert list(floors[0].get_ydata()) == [0.015, 0.015]
    assert "noise floor" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_ylabel() == "MMD"


def test_bar_with_floor_keeps_a_high_floor_in_view_and_draws_errors():
    ax = plots.bar_with_floor(
        {"a": 0.5, "b": 1.0}, floor=2.0, errors={"a": 0.1, "b": 0.2}, floor_err=0.3, floor_label="data vs data"
    )
    low, high = ax.get_ylim()
    assert low <= 0 and high >= 2.3
    assert bars_of(ax).errorbar is not None
    _, _, (error_lines,) = bars_of(ax).errorbar.lines  # (data line, caps, vertical bars)
    spans = np.asarray([segment[:, 1] for segment in error_lines.get_segments()])
    np.testing.assert_allclose(spans, [[0.4, 0.6], [0.8, 1.2]])
    assert "data vs data" in [t.get_text() for t in ax.get_legend().get_texts()]


# ---------------------------------------------------------------------------------------------------------------
# the course's model protocol: sample(n, generator) and log_prob(x) in place of points and functions
# ---------------------------------------------------------------------------------------------------------------


class StandardGaussian:
    """N(0, I) in 2-D with the protocol's two methods; records the generators it was handed."""

    def __init__(self, shift=0.0):
        self.shift = shift
        self.generators = []

    def sample(self, n, generator=None):
        self.generators.append(generator)
        return torch.randn(n, 2, generator=generator) + self.shift

    def log_prob(self, x):
        return gaussian_log_prob(mean=(self.shift, self.shift))(x)


class CallableGaussian(StandardGaussian, torch.nn.Module):
    """Callable like an nn.Module, whose forward is not its density: log_prob must be the method used."""

    def __init__(self):
        StandardGaussian.__init__(self)
        torch.nn.Module.__init__(self)

    def forward(self, x):
        return torch.zeros(x.shape[0], 3)


def randn_points(n, seed, dtype=torch.float32):
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=dtype).double().numpy()


def offsets(collection):
    return np.asarray(collection.get_offsets())


def test_heatmap_of_a_model_uses_its_log_prob_method():
    model = StandardGaussian(shift=0.5)
    from_method = np.asarray(only_image(plots.density_heatmap(model.log_prob, resolution=31)).get_array())
    from_model = np.asarray(only_image(plots.density_heatmap(model, resolution=31)).get_array())
    np.testing.assert_array_equal(from_model, from_method)
    callable_model = np.asarray(only_image(plots.density_heatmap(CallableGaussian(), resolution=31)).get_array())
    assert callable_model.max() == pytest.approx(1 / (2 * math.pi), rel=1e-3)


def test_samples_over_density_draws_max_points_from_a_model_with_the_seed():
    model = StandardGaussian()
    torch_state = torch.get_rng_state()
    ax = plots.samples_over_density(model, model, max_points=300, resolution=10, seed=7)
    assert torch.equal(torch.get_rng_state(), torch_state)  # a private generator, not the global RNG
    assert all(isinstance(g, torch.Generator) for g in model.generators)
    np.testing.assert_allclose(offsets(ax.collections[-1]), randn_points(300, 7), rtol=1e-6)
    assert len(ax.images) == 1  # the density comes from model.log_prob

    again = plots.samples_over_density(model, max_points=300, seed=7)
    np.testing.assert_array_equal(offsets(again.collections[-1]), offsets(ax.collections[-1]))
    other = plots.samples_over_density(model, max_points=300, seed=8)
    assert not np.allclose(offsets(other.collections[-1]), offsets(ax.collections[-1]))
    assert len(offsets(plots.samples_over_density(model, max_points=None).collections[-1])) == 2000


def test_scatter_compare_draws_real_and_generated_from_models():
    ax = plots.scatter_compare(StandardGaussian(), StandardGaussian(shift=3.0), max_points=100, seed=2)
    real_drawn, gen_drawn = ax.collections
    np.testing.assert_allclose(offsets(real_drawn), randn_points(100, 2), rtol=1e-6)
    np.testing.assert_allclose(offsets(gen_drawn), randn_points(100, 3) + 3.0, rtol=1e-6)  # seed + 1

    model = StandardGaussian()
    same_model = plots.scatter_compare(model, model, max_points=None)
    assert [len(c.get_offsets()) for c in same_model.collections] == [2000, 2000]
    assert not np.allclose(offsets(same_model.collections[0]), offsets(same_model.collections[1]))

    mixed = plots.scatter_compare(POINTS, model, max_points=30, seed=5)  # points and a model side by side
    np.testing.assert_allclose(offsets(mixed.collections[0]), POINTS.numpy())
    np.testing.assert_allclose(offsets(mixed.collections[1]), randn_points(30, 6), rtol=1e-6)


class ShiftedModule(torch.nn.Module):
    """N((1, 1), I) as an nn.Module in float64, drawing on its parameter's device; records the generators' devices."""

    def __init__(self):
        super().__init__()
        self.shift = torch.nn.Parameter(torch.full((2,), 1.0, dtype=torch.float64))
        self.devices = []

    def sample(self, n, generator=None):
        self.devices.append(generator.device)
        noise = torch.randn(n, 2, generator=generator, device=self.shift.device, dtype=self.shift.dtype)
        return noise + self.shift


def test_a_module_model_draws_with_a_generator_on_its_device():
    model = ShiftedModule()
    ax = plots.samples_over_density(model, max_points=50)
    assert model.devices == [model.shift.device]
    np.testing.assert_allclose(offsets(ax.collections[-1]), randn_points(50, 0, torch.float64) + 1.0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_cuda_module_model_draws_with_a_cuda_generator():
    model = ShiftedModule().cuda()
    ax = plots.scatter_compare(model, model, max_points=50, seed=4)
    assert [d.type for d in model.devices] == ["cuda", "cuda"]
    again = plots.scatter_compare(model, model, max_points=50, seed=4)
    for first, second in zip(ax.collections, again.collections):
        np.testing.assert_array_equal(offsets(first), offsets(second))


class NoMethods:
    pass


class WrongShapeSampler:
    def sample(self, n, generator=None):
        return torch.zeros(n, 3)


class TooFewSampler:
    def sample(self, n, generator=None):
        return torch.zeros(n - 1, 2)


MODEL_BAD_INPUTS = [
    ("samples-no-sample", lambda: plots.samples_over_density(NoMethods()), TypeError,
     ["samples", "sample(n, generator)", "NoMethods"]),
    ("log_prob_fn-no-log_prob", lambda: plots.density_heatmap(NoMethods()), TypeError,
     ["log_prob_fn", "log_prob(x)", "NoMethods"]),
    ("over-density-no-log_prob", lambda: plots.samples_over_density(POINTS, NoMethods()), TypeError,
     ["log_prob_fn", "log_prob(x)"]),
    ("real-no-sample", lambda: plots.scatter_compare(NoMethods(), POINTS), TypeError, ["real", "sample(n, generator)"]),
    ("generated-no-sample", lambda: plots.scatter_compare(POINTS, [[0.0, 0.0]]), TypeError,
     ["generated", "sample(n, generator)", "list"]),
    ("sample-wrong-shape", lambda: plots.samples_over_density(WrongShapeSampler(), max_points=5), ValueError,
     ["drawn from samples", "(*, 2)", "(5, 3)"]),
    ("sample-too-few", lambda: plots.scatter_compare(POINTS, TooFewSampler(), max_points=5), ValueError,
     ["TooFewSampler.sample", "n = 5", "(4, 2)"]),
    ("seed-negative", lambda: plots.samples_over_density(StandardGaussian(), seed=-1), ValueError, ["seed"]),
    ("seed-float", lambda: plots.scatter_compare(POINTS, POINTS, seed=0.5), TypeError, ["seed"]),
]


@pytest.mark.parametrize("make_call, error, fragments", [case[1:] for case in MODEL_BAD_INPUTS],
                         ids=[case[0] for case in MODEL_BAD_INPUTS])
def test_bad_models_raise_saying_what_was_expected(make_call, error, fragments):
    with pytest.raises(error) as raised:
        make_call()
    assert all(fragment in str(raised.value) for fragment in fragments), str(raised.value)


# ---------------------------------------------------------------------------------------------------------------
# shared behaviour: returned Axes, composition, dtypes, devices
# ---------------------------------------------------------------------------------------------------------------

POINTS = torch.randn(30, 2, generator=torch.Generator().manual_seed(4))
DRAWERS = {
    "density_heatmap": lambda ax: plots.density_heatmap(gaussian_log_prob(), resolution=10, ax=ax),
    "samples_over_density": lambda ax: plots.samples_over_density(POINTS, gaussian_log_prob(), resolution=10, ax=ax),
    "scatter_compare": lambda ax: plots.scatter_compare(POINTS, POINTS + 1, ax=ax),
    "vector_field": lambda ax: plots.vector_field(lambda x: -x, resolution=5, ax=ax),
    "image_grid": lambda ax: plots.image_grid(torch.rand(4, 1, 8, 8), ax=ax),
    "loss_curve": lambda ax: plots.loss_curve([1.0, 0.5], ax=ax),
    "bar_with_floor": lambda ax: plots.bar_with_floor({"m": 1.0}, 0.5, ax=ax),
}


@pytest.mark.parametrize("name", list(DRAWERS))
def test_helpers_draw_on_the_given_axes_or_a_new_figure(name):
    fig, axes = plt.subplots(1, 2)
    assert DRAWERS[name](axes[1]) is axes[1]
    assert axes[1].has_data() and not axes[0].has_data()
    before = plt.get_fignums()
    created = DRAWERS[name](None)
    assert isinstance(created, Axes) and created.figure is not fig
    assert len(plt.get_fignums()) == len(before) + 1


def test_float64_numpy_and_grad_tensors_draw_the_same_points():
    base = torch.randn(40, 2, generator=torch.Generator().manual_seed(5))
    variants = [base, base.double(), base.double().numpy(), base.clone().requires_grad_(True)]
    drawn = [np.asarray(plots.samples_over_density(v).collections[-1].get_offsets()) for v in variants]
    for other in drawn[1:]:
        np.testing.assert_allclose(other, drawn[0], rtol=1e-6)
    plots.samples_over_density(base.to(torch.bfloat16))  # a reduced-precision dtype is fine too


def test_heatmap_accepts_a_numpy_returning_log_prob():
    def numpy_log_prob(x):
        return (-0.5 * (x.numpy() ** 2).sum(axis=1) - LOG_2PI).astype(np.float64)

    drawn = np.asarray(only_image(plots.density_heatmap(numpy_log_prob, resolution=11)).get_array())
    assert drawn.max() == pytest.approx(1 / (2 * math.pi))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_tensors_and_functions():
    cuda = torch.device("cuda")
    samples = torch.randn(100, 2, device=cuda)
    seen = []

    def log_prob(x):
        seen.append(x.device.type)
        return gaussian_log_prob()(x)

    ax = plots.samples_over_density(samples, log_prob, resolution=10, device=cuda)
    assert set(seen) == {"cuda"}
    np.testing.assert_allclose(np.asarray(ax.collections[-1].get_offsets()), samples.cpu().numpy())
    plots.vector_field(torch.nn.Linear(2, 2).to(cuda), resolution=4)  # follows the module onto the GPU
    plots.image_grid(torch.rand(4, 3, 8, 8, device=cuda))
    plots.loss_curve({"train": torch.rand(10, device=cuda)})
    plots.bar_with_floor({"m": torch.tensor(1.0, device=cuda)}, torch.tensor(0.5, device=cuda))


# ---------------------------------------------------------------------------------------------------------------
# bad inputs: every error names the argument
# ---------------------------------------------------------------------------------------------------------------

LP = gaussian_log_prob()
BAD_INPUTS = [
    ("extent-length", lambda: plots.grid_points((0, 1, 0)), ValueError, "extent"),
    ("extent-order", lambda: plots.density_heatmap(LP, extent=(1, 0, 0, 1)), ValueError, "extent"),
    ("extent-nan", lambda: plots.vector_field(lambda x: x, extent=(0, 1, 0, math.nan)), ValueError, "extent"),
    ("extent-string", lambda: plots.grid_points("0101"), TypeError, "extent"),
    ("extent-bool", lambda: plots.grid_points((False, True, 0, 1)), TypeError, "extent"),
    ("resolution-zero", lambda: plots.grid_points(resolution=0), ValueError, "resolution"),
    ("resolution-one", lambda: plots.density_heatmap(LP, resolution=1), ValueError, "resolution"),
    ("resolution-float", lambda: plots.vector_field(lambda x: x, resolution=2.5), TypeError, "resolution"),
    ("resolution-bool", lambda: plots.grid_points(resolution=True), TypeError, "resolution"),
    ("log_prob_fn-not-callable", lambda: plots.density_heatmap("normal"), TypeError, "log_prob_fn"),
    ("log_prob_fn-shape", lambda: plots.density_heatmap(lambda x: LP(x)[:, None], resolution=5), ValueError,
     "log_prob_fn"),
    ("log_prob_fn-nan", lambda: plots.density_heatmap(lambda x: LP(x) * math.nan, resolution=5), ValueError,
     "log_prob_fn"),
    ("log_prob_fn-returns-float", lambda: plots.density_heatmap(lambda x: 0.0, resolution=5), TypeError,
     "log_prob_fn"),
    ("chunk_size", lambda: plots.density_heatmap(LP, chunk_size=0), ValueError, "chunk_size"),
    ("cmap", lambda: plots.density_heatmap(LP, resolution=5, cmap="no-such-map"), ValueError, "cmap"),
    ("log-not-bool", lambda: plots.density_heatmap(LP, resolution=5, log="yes"), TypeError, "log"),
    ("ax", lambda: plots.density_heatmap(LP, resolution=5, ax="left"), TypeError, "ax"),
    ("title", lambda: plots.loss_curve([1.0], title=3), TypeError, "title"),
    ("samples-shape", lambda: plots.samples_over_density(torch.zeros(5, 3)), ValueError, "samples"),
    ("samples-type", lambda: plots.samples_over_density([[0.0, 1.0]]), TypeError, "samples"),
    ("samples-empty", lambda: plots.samples_over_density(torch.zeros(0, 2)), ValueError, "samples"),
    ("samples-nan", lambda: plots.samples_over_density(torch.tensor([[0.0, math.nan]])), ValueError, "samples"),
    ("samples-complex", lambda: plots.samples_over_density(torch.zeros(3, 2, dtype=torch.complex64)), TypeError,
     "samples"),
    ("max_points", lambda: plots.samples_over_density(POINTS, max_points=0), ValueError, "max_points"),
    ("color", lambda: plots.samples_over_density(POINTS, color="not-a-colour"), ValueError, "color"),
    ("real", lambda: plots.scatter_compare(torch.zeros(4), POINTS), ValueError, "real"),
    ("generated", lambda: plots.scatter_compare(POINTS, np.zeros((4, 2, 1))), ValueError, "generated"),
    ("labels", lambda: plots.scatter_compare(POINTS, POINTS, labels="ab"), TypeError, "labels"),
    ("fn-not-callable", lambda: plots.vector_field(None), TypeError, "fn"),
    ("fn-shape", lambda: plots.vector_field(lambda x: x[:, :1], resolution=3), ValueError, "fn"),
    ("fn-inf", lambda: plots.vector_field(lambda x: x / 0, resolution=3), ValueError, "fn"),
    ("normalize", lambda: plots.vector_field(lambda x: x, normalize=1), TypeError, "normalize"),
    ("images-channels", lambda: plots.image_grid(torch.zeros(2, 2, 4, 4)), ValueError, "images"),
    ("images-channels-last", lambda: plots.image_grid(torch.zeros(2, 4, 4, 3)), ValueError, "channels-last"),
    ("images-rank", lambda: plots.image_grid(torch.zeros(4, 4)), ValueError, "images"),
    ("images-empty", lambda: plots.image_grid(torch.zeros(0, 1, 4, 4)), ValueError, "images"),
    ("images-nan", lambda: plots.image_grid(torch.full((1, 1, 2, 2), math.nan)), ValueError, "images"),
    ("images-type", lambda: plots.image_grid([[0.0]]), TypeError, "images"),
    ("nrow", lambda: plots.image_grid(torch.zeros(2, 4, 4), nrow=0), ValueError, "nrow"),
    ("vmin-vmax", lambda: plots.image_grid(torch.zeros(2, 4, 4), vmin=1, vmax=1), ValueError, "vmin"),
    ("padding", lambda: plots.image_grid(torch.zeros(2, 4, 4), padding=-1), ValueError, "padding"),
    ("history-empty", lambda: plots.loss_curve([]), ValueError, "history"),
    ("history-string", lambda: plots.loss_curve("loss"), TypeError, "history"),
    ("history-nan", lambda: plots.loss_curve([1.0, math.nan]), ValueError, "history"),
    ("history-2d", lambda: plots.loss_curve(torch.zeros(3, 2)), ValueError, "history"),
    ("history-named-empty", lambda: plots.loss_curve({"train": []}), ValueError, "history['train']"),
    ("history-empty-dict", lambda: plots.loss_curve({}), ValueError, "history"),
    ("history-key", lambda: plots.loss_curve({1: [1.0]}), TypeError, "history"),
    ("smooth", lambda: plots.loss_curve([1.0], smooth=-1), ValueError, "smooth"),
    ("logy", lambda: plots.loss_curve({"elbo": [-3.0, -1.0]}, logy=True), ValueError, "logy"),
    ("values-empty", lambda: plots.bar_with_floor({}, 0.0), ValueError, "values"),
    ("values-type", lambda: plots.bar_with_floor([1.0], 0.0), TypeError, "values"),
    ("values-entry", lambda: plots.bar_with_floor({"a": "high"}, 0.0), TypeError, "values['a']"),
    ("floor", lambda: plots.bar_with_floor({"a": 1.0}, math.inf), ValueError, "floor"),
    ("errors", lambda: plots.bar_with_floor({"a": 1.0}, 0.0, errors={"b": 0.1}), ValueError, "errors"),
    ("floor_err", lambda: plots.bar_with_floor({"a": 1.0}, 0.0, floor_err=-0.1), ValueError, "floor_err"),
]


@pytest.mark.parametrize("make_call, error, argument", [case[1:] for case in BAD_INPUTS],
                         ids=[case[0] for case in BAD_INPUTS])
def test_bad_inputs_raise_naming_the_argument(make_call, error, argument):
    with pytest.raises(error) as raised:
        make_call()
    assert argument in str(raised.value)


def test_validation_happens_before_any_figure_is_made():
    before = plt.get_fignums()
    with pytest.raises(ValueError):
        plots.image_grid(torch.zeros(2, 2, 4, 4))
    with pytest.raises(ValueError):
        plots.samples_over_density(torch.zeros(5, 3))
    assert plt.get_fignums() == before
