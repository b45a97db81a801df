"""Tests for curriculum.flows: every layer and whole flows invert to float64 precision, their log-determinants
equal autograd's Jacobians through slogdet, densities integrate to 1, likelihood and sampling agree, the
dequantisation bound holds with its exact value, and failures stop with named errors."""
from __future__ import annotations

import math

import pytest
import torch

from curriculum import flows, gaussians


def perturbed(module: torch.nn.Module, seed: int = 0, scale: float = 0.3) -> torch.nn.Module:
    """Random weights everywhere (a new coupling is the identity, which would make the tests trivial)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return module


def layers(dim: int) -> dict[str, flows.FlowLayer]:
    return {
        "affine": flows.AffineCoupling(dim, flows.alternating_mask(dim, 0), hidden=16),
        "affine-unbounded": flows.AffineCoupling(dim, flows.alternating_mask(dim, 1), hidden=16, scale_bound=None),
        "additive": flows.AdditiveCoupling(dim, flows.alternating_mask(dim, 1), hidden=16),
        "actnorm": flows.ActNorm(dim),
        "permutation": flows.Permutation(torch.randperm(dim, generator=torch.Generator().manual_seed(1))),
    }


def autograd_log_det(fn, x: torch.Tensor) -> torch.Tensor:
    """log |det J| of fn at each row of x, from the full Jacobian (independent of the layers' formulas)."""
    out = []
    for row in x:
        jac = torch.autograd.functional.jacobian(lambda v: fn(v[None])[0][0], row)
        out.append(torch.linalg.slogdet(jac).logabsdet)
    return torch.stack(out)


@pytest.mark.parametrize("dim", [2, 5])
@pytest.mark.parametrize("name", ["affine", "affine-unbounded", "additive", "actnorm", "permutation"])
def test_each_layer_inverts_and_its_log_det_matches_autograd(dim, name):
    layer = perturbed(layers(dim)[name]).double()
    x = torch.randn(6, dim, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    if isinstance(layer, flows.ActNorm):
        layer.initialized.fill_(True)  # keep the perturbed parameters rather than initialising from x
    z, log_det = layer(x)
    back, log_det_inverse = layer.inverse(z)
    assert torch.allclose(back, x, atol=1e-10, rtol=0)
    assert torch.allclose(log_det + log_det_inverse, torch.zeros(6, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(log_det, autograd_log_det(layer, x), atol=1e-10)
    assert torch.allclose(log_det_inverse, autograd_log_det(layer.inverse, z), atol=1e-10)


def test_additive_coupling_preserves_volume_exactly():
    layer = perturbed(flows.AdditiveCoupling(4, flows.alternating_mask(4, 0), hidden=16)).double()
    x = torch.randn(5, 4, dtype=torch.float64)
    z, log_det = layer(x)
    assert torch.equal(log_det, torch.zeros(5, dtype=torch.float64))
    assert torch.allclose(autograd_log_det(layer, x), torch.zeros(5, dtype=torch.float64), atol=1e-12)
    assert not torch.allclose(z, x)  # it does move points


def test_whole_flow_inverts_and_its_log_det_is_the_sum_checked_by_autograd():
    flow = perturbed(flows.realnvp(dim=3, couplings=4, hidden=16), seed=3).double()
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    z, log_det = flow(x)  # the first pass also initialises the ActNorms from x
    assert torch.allclose(flow.inverse(z)[0], x, atol=1e-10, rtol=0)
    assert torch.allclose(log_det, autograd_log_det(flow, x), atol=1e-9)
    assert torch.allclose(flow.inverse(z)[1], -log_det, atol=1e-10)
    assert flow.check_inverse(x, atol=1e-10) < 1e-10


def test_actnorm_initialises_to_unit_variance_on_its_first_batch():
    x = 3.0 + 2.0 * torch.randn(500, 2, generator=torch.Generator().manual_seed(0))
    z, _ = flows.ActNorm(2)(x)
    assert torch.allclose(z.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(z.std(0), torch.ones(2), atol=1e-4)


def test_an_actnorm_flow_is_the_gaussian_it_should_be():
    # x = mu + sigma z: log p(x) = sum_j log N(x_j; mu_j, sigma_j^2), the package's Gaussian log-density
    norm = flows.ActNorm(2).double()
    with torch.no_grad():
        norm.loc.copy_(torch.tensor([1.0, -2.0]))
        norm.log_scale.copy_(torch.log(torch.tensor([0.5, 3.0])))
    norm.initialized.fill_(True)
    flow = flows.Flow([norm])
    x = torch.randn(20, 2, dtype=torch.float64)
    expected = (gaussians.log_normal(x[:, 0], 1.0, 0.5) + gaussians.log_normal(x[:, 1], -2.0, 3.0))
    assert torch.allclose(flow.log_prob(x), expected, atol=1e-12)


def test_density_integrates_to_one_and_sampling_agrees_with_it():
    flow = perturbed(flows.realnvp(dim=2, couplings=4, hidden=16), seed=5, scale=0.2).double()
    flow(torch.randn(256, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(6)))  # ActNorm init
    ticks = torch.linspace(-10, 10, 801, dtype=torch.float64)
    grid = torch.cartesian_prod(ticks, ticks)
    cell = float(ticks[1] - ticks[0]) ** 2
    with torch.no_grad():
        log_q = flow.log_prob(grid)
    assert float(log_q.exp().sum() * cell) == pytest.approx(1.0, abs=2e-3)
    entropy = float(-(log_q.exp() * log_q).sum() * cell)  # -int q log q by quadrature
    samples = flow.sample(20_000, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        nll = -flow.log_prob(samples)
    assert abs(float(nll.mean()) - entropy) < 4 * float(nll.std() / math.sqrt(nll.numel())) + 2e-3


def test_intermediate_distributions_run_from_the_base_to_the_model():
    flow = perturbed(flows.realnvp(dim=2, couplings=3, hidden=16), seed=8).double()
    x = torch.randn(64, 2, dtype=torch.float64)
    flow(x)
    z = torch.randn(10, 2, dtype=torch.float64)
    path = flow.trajectory(z)
    assert len(path) == len(flow.layers) + 1 and torch.equal(path[0], z)
    assert torch.allclose(path[-1], flow.inverse(z)[0])
    base = -0.5 * (z ** 2).sum(1) - math.log(2 * math.pi)
    assert torch.allclose(flow.log_prob(z, last=0), base)  # q_0 is the base
    assert torch.allclose(flow.log_prob(path[-1], last=len(flow.layers)), flow.log_prob(path[-1]))
    k = 2
    assert torch.allclose(flow.sample(5, torch.Generator().manual_seed(1), last=k),
                          flow.inverse(torch.randn(5, 2, generator=torch.Generator().manual_seed(1),
                                                   dtype=torch.float64), last=k)[0])


def test_logit_transform_inverts_with_its_log_det():
    layer = flows.LogitTransform(3, upper=2.0, alpha=0.05)
    x = 2.0 * torch.rand(6, 3, dtype=torch.float64)
    z, log_det = layer(x)
    assert torch.allclose(layer.inverse(z)[0], x, atol=1e-12)
    assert torch.allclose(log_det, autograd_log_det(layer, x), atol=1e-10)


def test_dequantised_bound_has_its_exact_value_and_bounds_the_discrete_nll():
    # p(y) = y / 2 on [0, 2): the discrete model puts P(0) = 1/4; the bound is E_u[-log(u / 2)] = 1 + log 2.
    def log_p(y):
        return torch.log(y[:, 0] / 2)

    x = torch.zeros(200_000, 1)
    bound = flows.discrete_nll_bound(log_p, x, generator=torch.Generator().manual_seed(0))
    assert abs(bound.value - (1 + math.log(2))) < 4 * bound.stderr
    assert bound.value > math.log(4)  # -log P(0) = log 4: Jensen's gap is 1 + log 2 - log 4
    assert flows.bits_per_dim(64 * math.log(2), 64) == pytest.approx(1.0)


def test_failures_stop_with_named_errors():
    flow = flows.Flow([flows.LogitTransform(2)])
    with pytest.raises(flows.FlowError, match="layer 0 \\(LogitTransform\\)"):
        flow.log_prob(torch.tensor([[3.0, 0.5]]))  # outside [0, 1): log of a negative number
    wild = flows.AffineCoupling(2, flows.alternating_mask(2, 0), hidden=8, scale_bound=None)
    with torch.no_grad():
        # s = -20, t = 1: z = 1 + 2e-9 x, which float32 rounds to 1, so the inverse cannot recover x
        wild.net.net[-1].bias.copy_(torch.tensor([-20.0, -20.0, 1.0, 1.0]))
    with pytest.raises(flows.FlowError, match="does not reconstruct"):
        flows.Flow([wild]).check_inverse(torch.randn(8, 2))
    with pytest.raises(ValueError, match="mask"):
        flows.AffineCoupling(2, torch.tensor([True, True]))
    with pytest.raises(ValueError, match="x must hold integer"):
        flows.dequantize(torch.tensor([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="x must"):
        flows.realnvp(dim=2)(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="dim"):
        flows.realnvp(dim=1)
    with pytest.raises(ValueError, match="perm"):
        flows.Permutation(torch.tensor([0, 0, 1]))
