"""Networks: shapes, the time embedding's maths, zero-initialised U-Net output, gradients, dtype and validation."""
from __future__ import annotations


import pytest
import torch
from torch import nn

from curriculum.nets import (
    MLP,
    ConvDecoder,
    ConvEncoder,
    SinusoidalEmbedding,
    TimeMLP,
    UNet,
    append_dims,
    count_parameters,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _randomise_output_layer(net: UNet) -> None:
    """Replace the zero-initialised last conv by small random weights, so every path reaches the output."""
    with torch.no_grad():
        net.out_conv.weight.normal_(0.0, 0.1)
        net.out_conv.bias.normal_(0.0, 0.1)


# ---------------------------------------------------------------- append_dims
def test_append_dims_broadcasts_against_points_and_images():
    v = torch.tensor([1.0, 2.0, 3.0])
    assert append_dims(v, 2).shape == (3, 1)
    assert append_dims(v, 4).shape == (3, 1, 1, 1)
    assert append_dims(v, 1).shape == (3,)
    points, images = torch.ones(3, 2), torch.ones(3, 1, 8, 8)
    assert torch.equal((append_dims(v, points.ndim) * points)[:, 1], v)
    scaled = append_dims(v, images.ndim) * images
    assert scaled.shape == images.shape
    assert torch.equal(scaled.amax(dim=(1, 2, 3)), v) and torch.equal(scaled.amin(dim=(1, 2, 3)), v)
    assert append_dims(torch.ones(3, 5), 4).shape == (3, 5, 1, 1)


def test_append_dims_rejects_bad_input():
    with pytest.raises(ValueError, match="v"):
        append_dims(torch.ones(3, 2, 2), 2)
    with pytest.raises(TypeError, match="v"):
        append_dims([1.0, 2.0], 2)
    with pytest.raises(ValueError, match="ndim"):
        append_dims(torch.ones(3), 0)


# ---------------------------------------------------------------- sinusoidal embedding
def test_sinusoidal_embedding_shape_bounds_and_sin_cos_pairs():
    emb = SinusoidalEmbedding(16)
    t = torch.linspace(0, 1, 101)
    e = emb(t)
    assert e.shape == (101, 16)
    assert e.abs().max() <= 1.0
    sin, cos = e[:, :8], e[:, 8:]
    assert torch.allclose(sin**2 + cos**2, torch.ones_like(sin), atol=1e-6)
    # The first pair has frequency 1 after scaling t by 1000: (sin(1000 t), cos(1000 t)).
    assert torch.allclose(e[:, 0], torch.sin(1000.0 * t), atol=1e-4)
    assert torch.allclose(e[:, 8], torch.cos(1000.0 * t), atol=1e-4)


def test_sinusoidal_embedding_distinct_for_distinct_times():
    e = SinusoidalEmbedding(32)(torch.linspace(0, 1, 200, dtype=torch.float64))
    distances = torch.cdist(e, e) + torch.eye(200, dtype=torch.float64) * 1e9
    assert distances.min() > 1e-2
    # Integer steps with scale=1: steps 0..999 all distinct too.
    steps = SinusoidalEmbedding(32, scale=1.0)(torch.arange(1000))
    assert steps.dtype == torch.float32
    d = torch.cdist(steps, steps) + torch.eye(1000) * 1e9
    assert d.min() > 1e-3


def test_sinusoidal_embedding_scalar_and_dtype():
    emb = SinusoidalEmbedding(8)
    assert emb(0.25).shape == (1, 8)
    assert emb(torch.tensor(0.25)).shape == (1, 8)
    assert emb(torch.rand(4, dtype=torch.float64)).dtype == torch.float64
    with pytest.raises(ValueError, match="dim"):
        SinusoidalEmbedding(7)
    with pytest.raises(ValueError, match="t"):
        emb(torch.zeros(2, 3))


# ---------------------------------------------------------------- MLPs
def test_mlp_shapes():
    net = MLP(3, 5, hidden=16, depth=2)
    assert net(torch.randn(7, 3)).shape == (7, 5)
    assert sum(isinstance(m, nn.Linear) for m in net.modules()) == 3
    with pytest.raises(ValueError, match="x"):
        net(torch.randn(7, 4))


def test_time_mlp_shapes_scalar_time_and_out_dim():
    net = TimeMLP(dim=2, hidden=32)
    x = torch.randn(10, 2)
    assert net(x, torch.rand(10)).shape == (10, 2)
    assert torch.equal(net(x, 0.3), net(x, torch.full((10,), 0.3)))
    assert torch.equal(net(x, torch.tensor(0.3)), net(x, 0.3))
    assert TimeMLP(dim=2, hidden=32, out_dim=1)(x, 0.5).shape == (10, 1)


def test_time_mlp_time_changes_the_output():
    net = TimeMLP(dim=2, hidden=32)
    x = torch.randn(10, 2)
    assert not torch.allclose(net(x, 0.1), net(x, 0.9))


def test_time_mlp_labels_and_null_index():
    net = TimeMLP(dim=2, hidden=32, num_classes=3)
    assert net.null_class == 3
    x, t = torch.randn(6, 2), torch.rand(6)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    out_labels = net(x, t, y)
    out_null = net(x, t)
    assert torch.equal(out_null, net(x, t, torch.full((6,), 3)))  # y=None means the null label
    assert not torch.allclose(out_labels, out_null)
    with pytest.raises(ValueError, match="y"):
        net(x, t, torch.tensor([0, 1, 2, 3, 4, 0]))
    with pytest.raises(TypeError, match="y"):
        net(x, t, torch.zeros(6, dtype=torch.int32))
    with pytest.raises(ValueError, match="y"):
        net(x, t, torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="y"):
        TimeMLP(dim=2, hidden=32)(x, t, y)


def test_time_mlp_bad_inputs():
    net = TimeMLP(dim=2, hidden=32)
    with pytest.raises(ValueError, match="x"):
        net(torch.randn(5, 3), 0.5)
    with pytest.raises(TypeError, match="x"):
        net(torch.zeros(5, 2, dtype=torch.long), 0.5)
    with pytest.raises(ValueError, match="t"):
        net(torch.randn(5, 2), torch.rand(4))
    with pytest.raises(ValueError, match="t"):
        net(torch.randn(5, 2), torch.rand(5, 1))
    with pytest.raises(TypeError, match="t"):
        net(torch.randn(5, 2), "0.5")
    with pytest.raises(TypeError, match="x"):
        net(torch.randn(5, 2, dtype=torch.float64), 0.5)  # float32 net, float64 data: says how to fix it


# ---------------------------------------------------------------- encoder / decoder
@pytest.mark.parametrize("size", [8, 28])
def test_encoder_decoder_shapes(size):
    enc = ConvEncoder(size, channels=1, latent_dim=4, hidden=8)
    dec = ConvDecoder(4, size, channels=1, hidden=8)
    x = torch.randn(3, 1, size, size)
    mean, log_var = enc(x)
    assert mean.shape == log_var.shape == (3, 4)
    assert dec(mean).shape == (3, 1, size, size)
    rgb = ConvDecoder(4, size, channels=3, hidden=8)
    assert rgb(torch.randn(2, 4)).shape == (2, 3, size, size)
    assert ConvEncoder(size, channels=3, latent_dim=4, hidden=8)(torch.randn(2, 3, size, size))[0].shape == (2, 4)


def test_encoder_decoder_bad_inputs():
    with pytest.raises(ValueError, match="image_size"):
        ConvEncoder(16)
    with pytest.raises(ValueError, match="image_size"):
        ConvDecoder(4, 32)
    enc = ConvEncoder(8, latent_dim=4, hidden=8)
    with pytest.raises(ValueError, match="x"):
        enc(torch.randn(2, 3, 8, 8))  # wrong channel count
    with pytest.raises(ValueError, match="x"):
        enc(torch.randn(2, 1, 28, 28))
    with pytest.raises(ValueError, match="z"):
        ConvDecoder(4, 8, hidden=8)(torch.randn(2, 5))


# ---------------------------------------------------------------- U-Net
@pytest.mark.parametrize("size", [8, 28])
def test_unet_shapes_and_zero_output_at_init(size):
    net = UNet(size, channels=1, base=8, time_dim=16)
    x = torch.randn(2, 1, size, size)
    out = net(x, torch.rand(2))
    assert out.shape == x.shape
    assert torch.count_nonzero(out) == 0


def test_unet_multichannel_and_scalar_time():
    net = UNet(8, channels=3, base=8, time_dim=16)
    _randomise_output_layer(net)
    x = torch.randn(4, 3, 8, 8)
    assert net(x, 0.5).shape == (4, 3, 8, 8)
    assert torch.equal(net(x, 0.5), net(x, torch.full((4,), 0.5)))


def test_unet_gradients_reach_every_parameter():
    net = UNet(8, base=8, time_dim=16, num_classes=3)
    x, t, y = torch.randn(6, 1, 8, 8), torch.rand(6), torch.tensor([0, 1, 2, 3, 0, 1])
    # At init only the zero-initialised last conv gets a gradient (everything else is multiplied by its zeros) ...
    (net(x, t, y) - x).square().sum().backward()
    assert net.out_conv.weight.grad.abs().sum() > 0
    assert net.stem.weight.grad.abs().sum() == 0
    # ... once it is non-zero (after the first optimiser step), every parameter gets one.
    net.zero_grad()
    _randomise_output_layer(net)
    (net(x, t, y) - x).square().sum().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_unet_time_changes_the_output_after_one_step():
    net = UNet(8, base=8, time_dim=16)
    x = torch.randn(8, 1, 8, 8)
    before = (net(x, 0.1), net(x, 0.9))
    assert torch.equal(before[0], before[1])  # both exactly zero at init
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(2):  # step 1 moves the last conv; step 2 moves what feeds it, the time embedding included
        opt.zero_grad()
        (net(x, torch.rand(8)) - x).square().mean().backward()
        opt.step()
    assert not torch.allclose(net(x, 0.1), net(x, 0.9))


def test_unet_labels_and_null_index():
    net = UNet(8, base=8, time_dim=16, num_classes=10)
    _randomise_output_layer(net)
    assert net.null_class == 10
    x, t = torch.randn(4, 1, 8, 8), torch.rand(4)
    null = net(x, t)
    assert torch.equal(null, net(x, t, torch.full((4,), 10)))
    assert not torch.allclose(null, net(x, t, torch.tensor([0, 3, 5, 9])))
    with pytest.raises(ValueError, match="y"):
        net(x, t, torch.tensor([0, 3, 5, 11]))
    with pytest.raises(ValueError, match="y"):
        net(x, t, torch.tensor([0, -1, 5, 9]))
    with pytest.raises(TypeError, match="y"):
        net(x, t, torch.tensor([0.0, 3.0, 5.0, 9.0]))


def test_float64_follows_the_data():
    unet = UNet(8, base=8, time_dim=16).double()
    _randomise_output_layer(unet)
    x = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    assert unet(x, torch.rand(2, dtype=torch.float64)).dtype == torch.float64
    assert unet(x, 0.3).dtype == torch.float64
    mlp = TimeMLP(dim=2, hidden=16, num_classes=2).double()
    assert mlp(torch.randn(3, 2, dtype=torch.float64), 0.5, torch.tensor([0, 1, 2])).dtype == torch.float64
    enc, dec = ConvEncoder(8, latent_dim=2, hidden=8).double(), ConvDecoder(2, 8, hidden=8).double()
    mean, log_var = enc(x)
    assert mean.dtype == log_var.dtype == dec(mean).dtype == torch.float64


def test_unet_bad_inputs():
    with pytest.raises(ValueError, match="image_size"):
        UNet(32)
    with pytest.raises(ValueError, match="num_classes"):
        UNet(8, num_classes=0)
    with pytest.raises(ValueError, match="time_dim"):
        UNet(8, time_dim=15)
    with pytest.raises(ValueError, match="time_scale"):
        TimeMLP(time_scale=0.0)
    with pytest.raises(ValueError, match="base"):
        UNet(8, base=0)
    net = UNet(8, base=8, time_dim=16)
    with pytest.raises(ValueError, match="x"):
        net(torch.randn(2, 2, 8, 8), 0.5)  # channel count
    with pytest.raises(ValueError, match="x"):
        net(torch.randn(2, 1, 28, 28), 0.5)  # image size
    with pytest.raises(ValueError, match="x"):
        net(torch.randn(2, 64), 0.5)  # flattened
    with pytest.raises(ValueError, match="t"):
        net(torch.randn(2, 1, 8, 8), torch.rand(3))
    with pytest.raises(ValueError, match="y"):
        net(torch.randn(2, 1, 8, 8), 0.5, torch.tensor([0, 1]))  # unconditional net


def test_default_sizes_are_laptop_sized():
    """Pins the parameter counts reported in the docs (defaults: base=32, time_dim=64)."""
    assert count_parameters(UNet(8)) < 250_000
    assert count_parameters(UNet(28)) < 500_000
    assert count_parameters(TimeMLP()) < 150_000


def test_input_gradient_gives_each_rows_own_gradient_and_can_be_differentiated_again():
    from curriculum.tensors import input_gradient
    x = torch.randn(5, 1, 2, 2, dtype=torch.float64)
    assert torch.allclose(input_gradient(lambda v: 0.5 * (v.flatten(1) ** 2).sum(1), x), x)  # grad |x|^2/2 = x
    a = torch.tensor([1.5, -2.0], dtype=torch.float64, requires_grad=True)
    grad = input_gradient(lambda v: torch.sin(v @ a), torch.zeros(3, 2, dtype=torch.float64), create_graph=True)
    assert torch.allclose(grad.detach(), a.detach().expand(3, 2))  # cos(0) a
    (second,) = torch.autograd.grad(grad.sum(), a)  # d/da sum_b cos(x_b a) a = 3 (1, 1) at x = 0
    assert torch.allclose(second, torch.full((2,), 3.0, dtype=torch.float64))
    assert not input_gradient(lambda v: (v ** 2).sum(1), torch.ones(2, 2)).requires_grad
    with pytest.raises(ValueError, match="one value per row"):
        input_gradient(lambda v: v.sum(), torch.ones(3, 2))
