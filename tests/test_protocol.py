"""Every distribution and trained model follows one protocol: sample(n, generator), and a labelled
log-likelihood where the family has one. Metrics accept anything that follows it."""
from __future__ import annotations

import math

import pytest
import torch

from curriculum import baselines, diffusion, ebm, flows, gan, gaussians, metrics, nets, protocol, score, toy, vae
from curriculum import autoregressive, flow_matching


def _models():
    """(name, model, expected likelihood kind or None, entropy in nats or None) for one model of every family."""
    torch.manual_seed(0)
    gauss = gaussians.Gaussian(torch.tensor([1.0, -0.5]), torch.tensor([[1.0, 0.6], [0.6, 0.5]]))
    lvm = vae.LinearGaussianLVM(torch.randn(3, 2), torch.zeros(3), 0.5)
    net = nets.TimeMLP(2, hidden=16, depth=2, time_scale=1.0)
    flow = flows.realnvp(2, couplings=2, hidden=8).double()
    flow(torch.randn(64, 2, dtype=torch.float64))  # initialise the ActNorms
    return [
        ("ring", toy.get("ring"), protocol.EXACT, toy.get("ring").entropy().value),
        ("moons", toy.get("moons"), protocol.EXACT, toy.get("moons").entropy().value),
        ("checkerboard", toy.get("checkerboard"), protocol.EXACT, toy.get("checkerboard").entropy().value),
        ("1-D mixture", toy.two_gaussians_1d(), protocol.EXACT, None),
        ("gaussian", gauss, protocol.EXACT, gauss.entropy()),
        ("gaussian ML", baselines.GaussianML(gauss.mean, gauss.cov), protocol.EXACT, gauss.entropy()),
        ("diffusion gaussian", diffusion.GaussianData(gauss.mean, gauss.cov), protocol.EXACT, gauss.entropy()),
        ("linear-Gaussian LVM", lvm, protocol.EXACT, None),
        ("VAE", vae.VAE(data_dim=6, latent_dim=2, hidden=8, depth=1), protocol.LOWER_BOUND, None),
        ("RealNVP", flow, protocol.EXACT, None),
        ("EBM", ebm.EnergyModel(ebm.EnergyNet(2, hidden=8, depth=1), (-3, 3, -3, 3), 0.01, 5, resolution=100),
         protocol.QUADRATURE, None),
        ("GAN generator", gan.Generator(latent_dim=2, hidden=8, depth=1), None, None),
        ("score sampler", score.ScoreSampler(score.NoiseConditionalScore(2, hidden=8, depth=1),
                                             score.geometric_sigmas(1.0, 0.1, 3), n_steps=3, step_scale=1e-3), None, None),
        ("DDIM sampler", diffusion.DiffusionModel(net, diffusion.linear_schedule(100), (2,), num_steps=5), None, None),
        ("autoregressive MADE (binary)", autoregressive.BernoulliMADE(dim=6, hidden=16, depth=1).double(),
         protocol.EXACT, None),
        ("autoregressive mixture MADE", autoregressive.MixtureMADE(dim=2, components=3, hidden=8, depth=1).double(),
         protocol.EXACT, None),
        ("flow matching", flow_matching.FlowMatchingModel(flow_matching.VelocityField(2, hidden=8, depth=1), steps=4,
                                                          likelihood_steps=4), protocol.EXACT, None),
        ("flow matching, exact Gaussian field",  # the marginal field (6) from N(0, I) to the Gaussian above
         flow_matching.FlowMatchingModel(flow_matching.gaussian_marginal_velocity(gauss.mean.double(), gauss.cov.double()),
                                         steps=20, likelihood_steps=20), protocol.EXACT, gauss.entropy()),
    ]


MODELS = _models()
IDS = [m[0] for m in MODELS]


@pytest.mark.parametrize("name,model,kind,entropy", MODELS, ids=IDS)
def test_sample_takes_a_generator_and_repeats_with_its_seed(name, model, kind, entropy):
    assert isinstance(model, protocol.GenerativeModel)
    a = protocol.draw(model, 64, seed=3)
    b = protocol.draw(model, 64, seed=3)
    c = protocol.draw(model, 64, seed=4)
    assert a.shape[0] == 64 and torch.isfinite(a).all()
    assert torch.equal(a, b), "the same seed must give the same samples"
    assert not torch.equal(a, c), "another seed must give other samples"


@pytest.mark.parametrize("name,model,kind,entropy", MODELS, ids=IDS)
def test_log_likelihood_is_labelled_with_its_kind(name, model, kind, entropy):
    assert protocol.has_likelihood(model) == (kind is not None)
    if kind is None:
        with pytest.raises(TypeError, match="compare them by samples"):
            protocol.log_likelihood(model, protocol.draw(model, 4))
        return
    x = protocol.draw(model, 256, seed=1).to(torch.float64 if name != "VAE" else torch.float32)
    torch.manual_seed(0)  # the VAE's bound draws its importance samples from the global generator
    result = protocol.log_likelihood(model, x)
    assert result.kind == kind and result.values.shape == (256,)
    torch.manual_seed(0)
    estimate = metrics.nll(model, x)
    assert estimate.kind == kind
    assert estimate.value == pytest.approx(float(-result.values.double().mean()), rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("name,model,kind,entropy", [m for m in MODELS if m[3] is not None],
                         ids=[m[0] for m in MODELS if m[3] is not None])
def test_exact_likelihood_of_own_samples_estimates_the_entropy(name, model, kind, entropy):
    """E_p[-log p(X)] = H(p): the model's own samples scored by its own exact likelihood (Monte Carlo, 4 SE)."""
    x = protocol.draw(model, 50_000, seed=0).double()
    estimate = metrics.nll(model, x)
    assert abs(estimate.value - entropy) <= 4 * estimate.stderr + 1e-12  # the checkerboard's log p is constant


def test_vae_likelihood_is_its_iwae_bound():
    torch.manual_seed(0)
    model = vae.VAE(data_dim=6, latent_dim=2, hidden=8, depth=1)
    x = protocol.draw(model, 20, seed=0)
    bound = model.log_likelihood(x, k=50, generator=torch.Generator().manual_seed(1))
    assert bound.kind == protocol.LOWER_BOUND
    assert torch.equal(bound.values, model.iwae(x, 50, generator=torch.Generator().manual_seed(1)))


def test_vae_sample_is_the_binary_half_of_sample_means_and_images():
    torch.manual_seed(0)
    model = vae.VAE(data_dim=6, latent_dim=2, hidden=8, depth=1)
    probs, binary = model.sample_means_and_images(50, torch.Generator().manual_seed(5))
    assert torch.equal(model.sample(50, torch.Generator().manual_seed(5)), binary)
    assert set(binary.unique().tolist()) <= {0.0, 1.0} and ((probs > 0) & (probs < 1)).all()


def test_reference_distributions_keep_integer_seeds():
    ring = toy.get("ring")
    assert torch.equal(ring.sample(100, 7), ring.sample(100, seed=7))
    gauss = gaussians.Gaussian(torch.zeros(2), torch.eye(2))
    assert torch.equal(gauss.sample(10, 3), gauss.sample(10, torch.Generator().manual_seed(3)))
    with pytest.raises(ValueError, match="either generator or seed"):
        ring.sample(5, torch.Generator(), seed=1)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        gauss.sample(5, "seven")


def test_noise_floor_accepts_a_model():
    ring = toy.get("ring")
    floor = metrics.noise_floor(ring, metrics.sliced_wasserstein, 500, repeats=3)
    again = metrics.noise_floor(ring, metrics.sliced_wasserstein, 500, repeats=3)
    assert floor == again and 0 < floor.value < 0.5


def test_draw_and_log_likelihood_refuse_what_does_not_follow_the_protocol():
    with pytest.raises(TypeError, match="sample\\(n, generator=None\\)"):
        protocol.draw(torch.zeros(3), 5)

    class WrongLength:
        def sample(self, n, generator=None):
            return torch.zeros(n + 1, 2)

        def log_likelihood(self, x):
            return x.sum(1)

    with pytest.raises(ValueError, match="must return n = 5 samples"):
        protocol.draw(WrongLength(), 5)
    with pytest.raises(TypeError, match="must return a LogLikelihood"):
        protocol.log_likelihood(WrongLength(), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="kind must be one of"):
        protocol.LogLikelihood(torch.zeros(3), "approximately")
    with pytest.raises(TypeError, match="x is only used with a model"):
        metrics.nll(torch.zeros(3), torch.zeros(3, 2))


def test_mean_and_stderr_matches_the_formula():
    values = torch.tensor([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    mean, stderr = metrics.mean_and_stderr(values)
    assert torch.allclose(mean, torch.tensor([3.0, 2.0], dtype=torch.float64))
    assert torch.allclose(stderr, torch.tensor([2.0 / math.sqrt(3.0), 0.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="at least 2 samples"):
        metrics.mean_and_stderr(torch.zeros(1, 3))
