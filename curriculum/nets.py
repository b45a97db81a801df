"""Networks sized for a laptop CPU: time embedding, MLPs, a conv encoder/decoder and a small U-Net.

The networks are plain function approximators. They know nothing about diffusion, flows or VAEs: a model
``net(x, t, y)`` maps data of shape ``(B, *dims)``, a time per sample and an optional class label to an
output of the same shape; what that output *means* (``eps_theta``, a velocity ``v_theta``, a score) is decided by
the loss that trains it.

Symbols and shapes

==================  ==========================================================================
``B``               batch size
``x``               data, ``(B, dim)`` points or ``(B, C, H, W)`` images
``t``               time, ``(B,)`` or a scalar broadcast to the batch; continuous ``t`` in [0, 1]
                    by default (multiplied by ``time_scale = 1000`` inside the embedding), or
                    integer steps ``0..T-1`` with ``time_scale=1.0``
``y``               class labels ``(B,)`` int64 in ``[0, num_classes]``; the extra index
                    ``num_classes`` is the "null" label used by classifier-free guidance
``emb``             the conditioning vector built from ``t`` (and ``y``), ``(B, emb_dim)``
==================  ==========================================================================

The device and dtype follow the data: embeddings are computed on ``x.device`` in ``x.dtype``; call
``net.double()`` and pass float64 inputs for float64 checks.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .checks import check_positive_float, check_positive_int, check_tensor
from .tensors import append_dims  # re-exported: notebooks import it from here

__all__ = [
    "append_dims",
    "SinusoidalEmbedding",
    "MLP",
    "TimeMLP",
    "ConvEncoder",
    "ConvDecoder",
    "UNet",
    "count_parameters",
]

IMAGE_SIZES = (8, 28)
# Number of 2x downsamplings for each supported image size: 8 -> 4; 28 -> 14 -> 7.
_LEVELS = {8: 1, 28: 2}


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------
def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars in ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _check_image_size(image_size: object) -> int:
    if isinstance(image_size, bool) or image_size not in IMAGE_SIZES:
        raise ValueError(f"image_size must be one of {IMAGE_SIZES}, got {image_size!r}")
    return int(image_size)


def _check_dtype_matches(module: nn.Module, x: torch.Tensor, name: str = "x") -> None:
    param = next(module.parameters(), None)
    if param is not None and x.dtype != param.dtype:
        raise TypeError(f"{name} has dtype {x.dtype} but the network's parameters are {param.dtype}; "
                        f"convert one of them (e.g. net.double() for float64 inputs, or {name}.float())")


def _batch_times(t: object, x: torch.Tensor) -> torch.Tensor:
    """``t`` as a ``(B,)`` tensor with ``x``'s dtype and device (a scalar is broadcast to the batch)."""
    batch = x.shape[0]
    if isinstance(t, bool):
        raise TypeError(f"t must be a number or a tensor of shape () or ({batch},), got {t!r}")
    if isinstance(t, (int, float)):
        return torch.full((batch,), float(t), dtype=x.dtype, device=x.device)
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"t must be a number or a tensor of shape () or ({batch},), got {type(t).__name__}")
    if t.ndim == 0:
        t = t.expand(batch)
    elif t.shape != (batch,):
        raise ValueError(f"t must have shape () or ({batch},) to match x's batch size, got {tuple(t.shape)}")
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"t must be real-valued (float or integer steps), got dtype {t.dtype}")
    return t.to(dtype=x.dtype, device=x.device)


def _batch_labels(y: object, x: torch.Tensor, num_classes: int | None) -> torch.Tensor | None:
    """Validate labels; ``None`` means the null label ``num_classes`` for every sample."""
    batch = x.shape[0]
    if num_classes is None:
        if y is not None:
            raise ValueError("y was given but the network was built with num_classes=None; "
                             "build it with num_classes=K to condition on labels")
        return None
    if y is None:
        return torch.full((batch,), num_classes, dtype=torch.long, device=x.device)
    check_tensor(y, "y", shape=(batch,), dtype=torch.int64)
    if y.numel() and (int(y.min()) < 0 or int(y.max()) > num_classes):
        raise ValueError(f"y must hold labels in [0, {num_classes}] ({num_classes} is the null label), "
                         f"got values in [{int(y.min())}, {int(y.max())}]")
    return y.to(x.device)


# --------------------------------------------------------------------------------------------------------------
# Time embedding and MLPs
# --------------------------------------------------------------------------------------------------------------
class SinusoidalEmbedding(nn.Module):
    """Transformer-style sinusoidal features of a scalar time.

    For ``k = 0..dim/2-1``: ``omega_k = max_period^(-k / (dim/2))`` and
    ``emb(t) = [sin(s t omega_0), ..., sin(s t omega_{dim/2-1}), cos(s t omega_0), ..., cos(s t omega_{dim/2-1})]``
    with ``s = scale``. ``scale=1000`` (default) spreads continuous ``t`` in [0, 1] over the same range of
    phases as integer diffusion steps 0..999; pass ``scale=1.0`` for integer steps.
    Column ``k`` and column ``k + dim/2`` are a (sin, cos) pair, so their squares sum to 1.

    Input ``t``: ``(B,)`` (or a scalar, treated as ``(1,)``). Output: ``(B, dim)`` in ``t``'s floating dtype
    (float32 for integer ``t``), on ``t``'s device.
    """

    def __init__(self, dim: int, max_period: float = 10_000.0, scale: float = 1000.0) -> None:
        super().__init__()
        check_positive_int(dim, "dim")
        if dim % 2:
            raise ValueError(f"dim must be even (sin and cos halves), got {dim}")
        self.dim = dim
        self.max_period = check_positive_float(max_period, "max_period")
        self.scale = check_positive_float(scale, "scale")

    def forward(self, t: torch.Tensor | float) -> torch.Tensor:
        if isinstance(t, (int, float)) and not isinstance(t, bool):
            t = torch.tensor([float(t)])
        check_tensor(t, "t")
        if t.ndim == 0:
            t = t.reshape(1)
        if t.ndim != 1:
            raise ValueError(f"t must have shape (B,) or (), got {tuple(t.shape)}")
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        half = self.dim // 2
        k = torch.arange(half, device=t.device, dtype=t.dtype)
        omega = torch.exp(-math.log(self.max_period) * k / half)  # omega_k = max_period^(-k/half)
        phase = (self.scale * t)[:, None] * omega[None, :]  # (B, half)
        return torch.cat([torch.sin(phase), torch.cos(phase)], dim=1)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, max_period={self.max_period:g}, scale={self.scale:g}"


class MLP(nn.Module):
    """A plain MLP: ``depth`` hidden layers of width ``hidden``, each followed by ``activation``.

    ``(B, in_dim) -> (B, out_dim)``.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 128, depth: int = 3,
                 activation: Callable[[], nn.Module] = nn.SiLU) -> None:
        super().__init__()
        self.in_dim = check_positive_int(in_dim, "in_dim")
        self.out_dim = check_positive_int(out_dim, "out_dim")
        check_positive_int(hidden, "hidden")
        check_positive_int(depth, "depth")
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), activation()]
            width = hidden
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", shape=(None, self.in_dim), floating=True)
        _check_dtype_matches(self, x)
        return self.net(x)


class _Conditioning(nn.Module):
    """``emb = MLP(sinusoidal(t)) + label_embedding(y)``: the conditioning vector ``(B, emb_dim)``."""

    def __init__(self, time_dim: int, emb_dim: int, num_classes: int | None, time_scale: float) -> None:
        super().__init__()
        check_positive_int(time_dim, "time_dim")
        if time_dim % 2:
            raise ValueError(f"time_dim must be even (sin and cos halves), got {time_dim}")
        check_positive_float(time_scale, "time_scale")
        self.time_embedding = SinusoidalEmbedding(time_dim, scale=time_scale)
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.num_classes = num_classes
        # One extra row, index num_classes, is the learned "null" label of classifier-free guidance.
        self.label_embedding = None if num_classes is None else nn.Embedding(num_classes + 1, emb_dim)

    def forward(self, t: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        emb = self.time_mlp(self.time_embedding(t))
        if self.label_embedding is not None:
            emb = emb + self.label_embedding(y)
        return emb


def _check_num_classes(num_classes: object) -> int | None:
    return None if num_classes is None else check_positive_int(num_classes, "num_classes")


class TimeMLP(nn.Module):
    """A time- (and optionally label-) conditioned MLP for 2-D (or any ``dim``) points.

    ``forward(x (B, dim), t (B,) or scalar, y=None (B,) int64) -> (B, out_dim)`` with ``out_dim = dim`` by default.
    Each hidden layer computes ``h <- SiLU(W h + b + P emb)``: the conditioning vector ``emb`` is projected and
    added to every layer's pre-activation. With ``num_classes=K``, labels live in ``0..K-1`` and ``K`` (also
    ``y=None``) is the null label for classifier-free guidance; ``self.null_class == K``.
    """

    def __init__(self, dim: int = 2, hidden: int = 128, depth: int = 3, time_dim: int = 32,
                 out_dim: int | None = None, num_classes: int | None = None, time_scale: float = 1000.0) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.out_dim = dim if out_dim is None else check_positive_int(out_dim, "out_dim")
        check_positive_int(hidden, "hidden")
        check_positive_int(depth, "depth")
        self.num_classes = _check_num_classes(num_classes)
        self.null_class = self.num_classes
        self.cond = _Conditioning(time_dim, hidden, self.num_classes, time_scale)
        self.layers = nn.ModuleList(nn.Linear(dim if i == 0 else hidden, hidden) for i in range(depth))
        self.cond_proj = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.act = nn.SiLU()
        self.out = nn.Linear(hidden, self.out_dim)

    def forward(self, x: torch.Tensor, t: torch.Tensor | float, y: torch.Tensor | None = None) -> torch.Tensor:
        check_tensor(x, "x", shape=(None, self.dim), floating=True)
        _check_dtype_matches(self, x)
        t = _batch_times(t, x)
        y = _batch_labels(y, x, self.num_classes)
        emb = self.act(self.cond(t, y))  # (B, hidden)
        h = x
        for layer, proj in zip(self.layers, self.cond_proj):
            h = self.act(layer(h) + proj(emb))
        return self.out(h)


# --------------------------------------------------------------------------------------------------------------
# Convolutional encoder and decoder (VAEs)
# --------------------------------------------------------------------------------------------------------------
def _check_image(x: object, channels: int, image_size: int, name: str = "x") -> torch.Tensor:
    check_tensor(x, name, shape=(None, channels, image_size, image_size), floating=True)
    return x  # type: ignore[return-value]


class ConvEncoder(nn.Module):
    """Image to the parameters of a diagonal Gaussian: ``(B, C, H, W) -> (mean, log_var)``, each ``(B, latent_dim)``.

    A 3x3 conv, then one strided conv per level (8 -> 4, or 28 -> 14 -> 7) with SiLU, flattened into a
    linear head. ``log_var`` is unconstrained (the caller decides how to keep it in range).
    """

    def __init__(self, image_size: int, channels: int = 1, latent_dim: int = 16, hidden: int = 32) -> None:
        super().__init__()
        self.image_size = _check_image_size(image_size)
        self.channels = check_positive_int(channels, "channels")
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        check_positive_int(hidden, "hidden")
        levels = _LEVELS[self.image_size]
        layers: list[nn.Module] = [nn.Conv2d(channels, hidden, 3, padding=1), nn.SiLU()]
        width = hidden
        for _ in range(levels):
            layers += [nn.Conv2d(width, 2 * hidden, 3, stride=2, padding=1), nn.SiLU()]
            width = 2 * hidden
        self.features = nn.Sequential(*layers, nn.Flatten())
        side = self.image_size // 2**levels
        self.head = nn.Linear(width * side * side, 2 * latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _check_image(x, self.channels, self.image_size)
        _check_dtype_matches(self, x)
        mean, log_var = self.head(self.features(x)).chunk(2, dim=1)
        return mean, log_var


class ConvDecoder(nn.Module):
    """Latent to image: ``(B, latent_dim) -> (B, C, H, W)`` unconstrained (Bernoulli logits or Gaussian means).

    A linear layer to a ``(2*hidden, side, side)`` map, one 4x4 transposed conv (x2 upsampling) per level, and a
    final 3x3 conv. No output activation: the caller chooses sigmoid, a likelihood, or nothing.
    """

    def __init__(self, latent_dim: int, image_size: int, channels: int = 1, hidden: int = 32) -> None:
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.image_size = _check_image_size(image_size)
        self.channels = check_positive_int(channels, "channels")
        check_positive_int(hidden, "hidden")
        levels = _LEVELS[self.image_size]
        self.side = self.image_size // 2**levels
        self.width = 2 * hidden
        self.project = nn.Linear(latent_dim, self.width * self.side * self.side)
        layers: list[nn.Module] = [nn.SiLU()]
        width = self.width
        for i in range(levels):
            out = hidden if i == levels - 1 else 2 * hidden
            layers += [nn.ConvTranspose2d(width, out, 4, stride=2, padding=1), nn.SiLU()]  # side -> 2 side
            width = out
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        check_tensor(z, "z", shape=(None, self.latent_dim), floating=True)
        _check_dtype_matches(self, z, "z")
        h = self.project(z).reshape(z.shape[0], self.width, self.side, self.side)
        return self.body(h)


# --------------------------------------------------------------------------------------------------------------
# U-Net
# --------------------------------------------------------------------------------------------------------------
def _groups(channels: int) -> int:
    """GroupNorm groups: 8 when the channel count allows it (the usual choice for small nets)."""
    return math.gcd(channels, 8)


class ResBlock(nn.Module):
    """``x + F(x, emb)``: GroupNorm, SiLU, 3x3 conv, add the projected ``emb`` per channel, GroupNorm, SiLU, conv.

    ``(B, c_in, H, W), (B, emb_dim) -> (B, c_out, H, W)``; a 1x1 conv matches channels on the skip path.
    """

    def __init__(self, c_in: int, c_out: int, emb_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb_proj = nn.Linear(emb_dim, c_out)
        self.norm2 = nn.GroupNorm(_groups(c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act(self.norm1(x)))
        h = h + append_dims(self.emb_proj(emb), h.ndim)  # (B, c_out) -> (B, c_out, 1, 1)
        h = self.conv2(self.act(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    """A small U-Net for 8x8 or 28x28 images: ``forward(x (B,C,H,W), t (B,) or scalar, y=None) -> (B,C,H,W)``.

    Resolution levels 8 -> 4 (8x8 images) or 28 -> 14 -> 7 (28x28), ``base`` channels at full resolution and
    ``2*base`` below. Down the U: one residual block per level, whose output is kept as a skip, then a 3x3
    stride-2 conv. At the bottom: one residual block. Up the U: nearest-neighbour x2 upsampling, concatenate
    the skip of that level, one residual block. The conditioning ``emb = MLP(sinusoidal(t)) + label_embedding(y)``
    (``emb_dim = 4*base``) is added inside every block. The last conv is zero-initialised, so an untrained net
    outputs exactly 0 (a neutral start for ``eps_theta``, a velocity or a score); its gradient is not zero, so
    the first optimiser step brings the rest of the net into play. With ``num_classes=K``, ``K`` (and
    ``y=None``) is the null label for classifier-free guidance.
    """

    def __init__(self, image_size: int, channels: int = 1, base: int = 32, time_dim: int = 64,
                 num_classes: int | None = None, time_scale: float = 1000.0) -> None:
        super().__init__()
        self.image_size = _check_image_size(image_size)
        self.channels = check_positive_int(channels, "channels")
        check_positive_int(base, "base")
        self.num_classes = _check_num_classes(num_classes)
        self.null_class = self.num_classes
        levels = _LEVELS[self.image_size]
        emb_dim = 4 * base
        self.cond = _Conditioning(time_dim, emb_dim, self.num_classes, time_scale)
        widths = [base] + [2 * base] * levels  # channels at resolution level 0 (full), 1, ..., levels (bottom)

        self.stem = nn.Conv2d(channels, base, 3, padding=1)
        self.down_blocks = nn.ModuleList(ResBlock(widths[max(i - 1, 0)], widths[i], emb_dim) for i in range(levels))
        self.downsample = nn.ModuleList(nn.Conv2d(widths[i], widths[i], 3, stride=2, padding=1)
                                        for i in range(levels))
        self.mid_block = ResBlock(widths[levels - 1], widths[levels], emb_dim)
        # up_blocks[i] runs at level i: input = upsampled level i+1 features + skip of level i.
        self.up_blocks = nn.ModuleList(ResBlock(widths[i + 1] + widths[i], widths[i], emb_dim) for i in range(levels))
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.out_norm = nn.GroupNorm(_groups(base), base)
        self.out_conv = nn.Conv2d(base, channels, 3, padding=1)
        nn.init.zeros_(self.out_conv.weight)
        nn.init.zeros_(self.out_conv.bias)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, t: torch.Tensor | float, y: torch.Tensor | None = None) -> torch.Tensor:
        _check_image(x, self.channels, self.image_size)
        _check_dtype_matches(self, x)
        t = _batch_times(t, x)
        y = _batch_labels(y, x, self.num_classes)
        emb = self.act(self.cond(t, y))  # (B, 4*base)

        h = self.stem(x)
        skips = []
        for block, down in zip(self.down_blocks, self.downsample):
            h = block(h, emb)
            skips.append(h)
            h = down(h)  # (H, W) -> (H/2, W/2)
        h = self.mid_block(h, emb)
        for i in reversed(range(len(self.up_blocks))):
            h = self.upsample(h)  # (H/2, W/2) -> (H, W)
            h = self.up_blocks[i](torch.cat([h, skips[i]], dim=1), emb)
        return self.out_conv(self.act(self.out_norm(h)))
