r"""The one interface every distribution and every trained model of the course follows.

A **generative model** here is anything with

- ``sample(n, generator=None) -> Tensor (n, *dims)``: ``n`` independent draws, their randomness taken from the
  ``torch.Generator`` passed in (on the device where the model samples), so the same seeded generator gives
  the same points; ``None`` uses torch's global generator. For backward compatibility the course's reference
  distributions also accept an integer seed in place of the generator.

and, where its family has one,

- ``log_likelihood(x) -> LogLikelihood``: per-point log-likelihoods ``(N,)`` of data ``x (N, *dims)``,
  labelled with what they are: ``exact`` (a closed form or a change of variables), ``lower bound`` (an ELBO or
  an importance-weighted bound, true in expectation) or ``quadrature`` (a normaliser computed numerically on a
  grid, with the grid's error).

Reference distributions with a closed-form density (the toys, ``gaussians.Gaussian``, the fitted baselines)
also offer ``log_prob(x) -> (N,)``, the exact log-density itself; density plots draw that.

Metrics (``curriculum.metrics``) and plots (``curriculum.plots``) accept anything that follows it, so the
comparison notebook can loop over every family with the same code. ``draw`` is the helper that turns a model
and a seed into a tensor of samples.

Symbols: ``n`` number of draws; ``x`` data ``(N, *dims)``; ``generator`` a ``torch.Generator``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch

from .checks import check_choice, check_nonnegative_int, check_positive_int, check_seed_or_generator, check_tensor

__all__ = [
    "EXACT",
    "LOWER_BOUND",
    "QUADRATURE",
    "LIKELIHOOD_KINDS",
    "LogLikelihood",
    "GenerativeModel",
    "HasLikelihood",
    "as_generator",
    "numpy_seed",
    "model_device",
    "draw",
    "log_likelihood",
    "has_likelihood",
]

EXACT = "exact"
LOWER_BOUND = "lower bound"
QUADRATURE = "quadrature"
LIKELIHOOD_KINDS = (EXACT, LOWER_BOUND, QUADRATURE)


@dataclass(frozen=True)
class LogLikelihood:
    """Per-point log-likelihoods ``values (N,)`` in nats and what kind of number they are (``kind``)."""

    values: torch.Tensor
    kind: str

    def __post_init__(self) -> None:
        check_tensor(self.values, "values", ndim=1, floating=True)
        check_choice(self.kind, "kind", LIKELIHOOD_KINDS)


@runtime_checkable
class GenerativeModel(Protocol):
    """Draws samples: ``sample(n, generator=None) -> (n, *dims)``."""

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor: ...


@runtime_checkable
class HasLikelihood(Protocol):
    """Scores data: ``log_likelihood(x (N, *dims)) -> LogLikelihood`` with values ``(N,)``."""

    def log_likelihood(self, x: torch.Tensor) -> LogLikelihood: ...


def as_generator(generator: torch.Generator | int | None = None, seed: int | None = None,
                 device: torch.device | str = "cpu") -> torch.Generator | None:
    """The ``torch.Generator`` a ``sample`` call should use: ``generator`` as given; an integer seed (passed as
    ``seed=`` or, for the reference distributions' older ``sample(n, seed)`` form, in place of the generator)
    gives a fresh generator on ``device`` seeded with it; neither gives ``None`` (torch's global generator)."""
    check_seed_or_generator(generator)
    if seed is not None:
        if generator is not None:
            raise ValueError("pass either generator or seed, not both")
        check_nonnegative_int(seed, "seed")
        generator = seed
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    return torch.Generator(device=device).manual_seed(generator)


def numpy_seed(generator: torch.Generator | None) -> int:
    """A NumPy seed drawn from ``generator`` (or from torch's global generator when ``None``), for reference
    distributions that sample with NumPy: seeding torch then seeds them too."""
    return int(torch.randint(0, 2**62, (1,), generator=generator).item())


def model_device(model: object) -> torch.device:
    """Where ``model`` samples: the device of its first parameter or buffer, else the CPU."""
    if isinstance(model, torch.nn.Module):
        for tensor in (*model.parameters(), *model.buffers()):
            return tensor.device
    return torch.device("cpu")


def draw(model: object, n: int, seed: int = 0, *, device: torch.device | str | None = None) -> torch.Tensor:
    """``n`` samples ``(n, *dims)`` from any ``GenerativeModel``, from a generator seeded with ``seed`` on
    ``device`` (default: where the model lives). Gradients are off: samples are for measuring and plotting."""
    if not callable(getattr(model, "sample", None)):
        raise TypeError(f"model must have a sample(n, generator=None) method (a GenerativeModel), "
                        f"got {type(model).__name__}")
    check_positive_int(n, "n")
    check_nonnegative_int(seed, "seed")
    gen = torch.Generator(device=device if device is not None else model_device(model)).manual_seed(seed)
    with torch.no_grad():
        samples = model.sample(n, gen)
    check_tensor(samples, f"{type(model).__name__}.sample(n, generator)", min_ndim=1)
    if samples.shape[0] != n:
        raise ValueError(f"{type(model).__name__}.sample(n, generator) must return n = {n} samples, "
                         f"got shape {tuple(samples.shape)}")
    return samples


def has_likelihood(model: object) -> bool:
    """Whether ``model`` offers ``log_likelihood``."""
    return callable(getattr(model, "log_likelihood", None))


def log_likelihood(model: object, x: torch.Tensor) -> LogLikelihood:
    """``model.log_likelihood(x)``, checked: a ``LogLikelihood`` with one value per row of ``x``."""
    if not has_likelihood(model):
        raise TypeError(f"model must have a log_likelihood(x) method returning a LogLikelihood, got "
                        f"{type(model).__name__} (GANs and diffusion samplers have none: compare them by samples)")
    result = model.log_likelihood(x)
    if not isinstance(result, LogLikelihood):
        raise TypeError(f"{type(model).__name__}.log_likelihood(x) must return a LogLikelihood, "
                        f"got {type(result).__name__}")
    if result.values.shape[0] != x.shape[0]:
        raise ValueError(f"{type(model).__name__}.log_likelihood(x) must give one value per row of x "
                         f"({x.shape[0]}), got {result.values.shape[0]}")
    return result
