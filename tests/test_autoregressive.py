"""Autoregressive models: the masks make every output depend only on earlier inputs, so the chain rule gives a
normalised density; checked by Jacobian sparsity, enumeration and quadrature."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from curriculum import autoregressive as ar
from curriculum import metrics


def test_mask_product_connects_output_d_only_to_earlier_inputs():
    for dim, hidden in ((2, [5]), (5, [7, 3]), (8, [16, 16, 16])):
        masks = ar.made_masks(dim, hidden, outputs_per_dim=2)
        reach = masks[0]
        for mask in masks[1:]:
            reach = (mask @ reach > 0).float()  # (outputs, inputs): is there any path?
        out_degree = torch.arange(1, dim + 1).repeat_interleave(2)
        allowed = out_degree[:, None] > torch.arange(1, dim + 1)[None, :]
        assert not bool((reach.bool() & ~allowed).any()), "a path from x_j to an output of degree <= j"
        assert bool(reach[out_degree == dim].bool()[:, : dim - 1].any()), "the last output sees earlier inputs"


def test_bernoulli_made_jacobian_is_strictly_lower_triangular():
    torch.manual_seed(0)
    model = ar.BernoulliMADE(dim=6, hidden=32, depth=2).double()
    x = torch.rand(6, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda v: model.logits(v[None])[0], x)  # (6, 6): d logit_d / d x_j
    upper = torch.triu(torch.ones(6, 6, dtype=torch.bool))
    assert bool((jac[upper] == 0).all()), "logit d must not depend on x_j for j >= d"
    assert float(jac[~upper].abs().min()) > 0, "and it does depend on every earlier coordinate"


def test_bernoulli_made_is_normalised_and_samples_its_own_law():
    torch.manual_seed(1)
    model = ar.BernoulliMADE(dim=6, hidden=16, depth=1).double()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)  # a far-from-uniform law
    states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=6)), dtype=torch.float64)
    with torch.no_grad():
        probs = model.log_prob(states).exp()
    assert abs(float(probs.sum()) - 1) < 1e-12, "the 64 probabilities of the chain rule sum to 1"
    draws = model.sample(40_000, torch.Generator().manual_seed(2))
    codes = (draws * 2 ** torch.arange(5, -1, -1, dtype=torch.float64)).sum(1).long()
    freq = torch.bincount(codes, minlength=64).double() / 40_000
    se = (probs * (1 - probs) / 40_000).sqrt()
    assert bool(((freq - probs).abs() <= 4 * se + 1e-4).all()), "sample frequencies match the enumerated law"


def test_mixture_made_density_integrates_to_one_and_its_samples_have_its_entropy():
    torch.manual_seed(3)
    model = ar.MixtureMADE(dim=2, components=3, hidden=16, depth=2).double()
    ticks = torch.linspace(-12, 12, 801, dtype=torch.float64)
    grid = torch.cartesian_prod(ticks, ticks)
    cell = float(ticks[1] - ticks[0]) ** 2
    with torch.no_grad():
        log_q = model.log_prob(grid)
    mass = float(log_q.exp().sum() * cell)
    entropy = float(-(log_q.exp() * log_q).sum() * cell)
    assert abs(mass - 1) < 1e-3
    own = model.sample(20_000, torch.Generator().manual_seed(4))
    nll = metrics.nll(model.log_likelihood(own).values)
    assert abs(nll.value - entropy) < 4 * nll.stderr + 1e-3


def test_mixture_made_first_coordinate_ignores_the_input():
    torch.manual_seed(5)
    model = ar.MixtureMADE(dim=3, components=2, hidden=8, depth=1).double()
    x = torch.randn(4, 3, dtype=torch.float64)
    a, b = model.conditionals(x), model.conditionals(x + torch.tensor([5.0, -2.0, 7.0], dtype=torch.float64))
    assert all(torch.allclose(p[:, 0], q[:, 0]) for p, q in zip(a, b)), "p(x_1) is a fixed mixture"
    shifted_last = model.conditionals(x + torch.tensor([0.0, 0.0, 9.0], dtype=torch.float64))
    assert all(torch.allclose(p, q) for p, q in zip(a, shifted_last)), "no conditional sees the last coordinate"


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="dim >= 2"):
        ar.made_masks(1, [4])
    with pytest.raises(ValueError, match="only 0 and 1"):
        ar.MaskedLinear(2, 2, torch.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="binary"):
        ar.BernoulliMADE(dim=4, hidden=8, depth=1).log_prob(torch.full((2, 4), 0.5))
    with pytest.raises(ValueError, match="at least one hidden width"):
        ar.made_masks(3, [])
    assert math.isfinite(float(ar.MixtureMADE(dim=2).log_prob(torch.zeros(1, 2)).detach().sum()))
