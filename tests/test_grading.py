"""Hiding an exercise's reference while the learner's function is graded."""
from __future__ import annotations

import pytest
import torch

from curriculum import baselines, ebm, gan, gaussians, grading, langevin, metrics, ode, score, vae
from curriculum import autoregressive, flow_matching, flows, latent_cfg
from curriculum import diffusion as diff
from curriculum.comparison import evaluate as comparison_evaluate

MARKED = [metrics.nll, metrics.noise_floor, gaussians.kl_standard_normal, vae.reparameterize, vae.VAE.iwae,
          baselines.GaussianML.fit, gan.optimal_discriminator, gan.discriminator_loss,
          gan.generator_loss_nonsaturating, gan.jsd_from_discriminator, diff.q_sample, diff.simple_loss,
          diff.ancestral_step, diff.ddim_step, vae.bernoulli_log_likelihood, vae.iwae_bound,
          langevin.langevin_step, langevin.ula_stationary_variance, ebm.contrastive_loss, ebm.ReplayBuffer.draw,
          score.dsm_loss, score.tweedie_denoise, score.annealed_langevin_level, flow_matching.linear_path,
          flow_matching.cfm_loss, flow_matching.sample, flow_matching.gaussian_marginal_velocity, ode.odeint,
          latent_cfg.attention, latent_cfg.drop_prompts, latent_cfg.guided_eps, latent_cfg.GaussianClasses.class_eps,
          latent_cfg.GaussianClasses.eps, autoregressive.MaskedLinear.forward, autoregressive.made_masks,
          comparison_evaluate.nll_gap, flows.discrete_nll_bound]


@pytest.mark.parametrize("ref", MARKED, ids=[r.__qualname__ for r in MARKED])
def test_every_exercise_reference_is_marked(ref):
    assert grading.is_reference(ref)


def test_a_solution_that_calls_the_reference_fails_however_it_reaches_it():
    mu, log_var = torch.zeros(2, 3), torch.zeros(2, 3)
    alias = vae.gaussian_kl  # imported before grading, as a learner might

    def cheat_by_name(mu, log_var):
        return vae.gaussian_kl(mu, log_var)

    def cheat_by_alias(mu, log_var):
        return alias(mu, log_var)

    def cheat_by_other_module(mu, log_var):
        return gaussians.kl_standard_normal(mu, log_var)

    def honest(mu, log_var):
        return 0.5 * (mu**2 + log_var.exp() - 1 - log_var).sum(-1)

    with grading.hidden(vae.gaussian_kl):
        for cheat in (cheat_by_name, cheat_by_alias, cheat_by_other_module):
            with pytest.raises(grading.ReferenceHidden, match="hidden while your function is graded"):
                cheat(mu, log_var)
        assert torch.equal(honest(mu, log_var), torch.zeros(2))
    assert torch.equal(cheat_by_alias(mu, log_var), torch.zeros(2))  # visible again after the block


def test_methods_and_classmethods_can_be_hidden_and_blocks_nest():
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    with grading.hidden(baselines.GaussianML.fit):
        with grading.hidden(baselines.GaussianML.fit, metrics.nll):
            with pytest.raises(grading.ReferenceHidden):
                metrics.nll(torch.zeros(3))
        with pytest.raises(grading.ReferenceHidden):  # still hidden by the outer block
            baselines.GaussianML.fit(x)
        metrics.nll(torch.zeros(3))  # only the inner block hid nll
    assert baselines.GaussianML.fit(x).dim == 2


def test_hidden_refuses_what_is_not_a_reference():
    with pytest.raises(TypeError, match="marked with curriculum.grading.reference"):
        with grading.hidden(torch.sigmoid):
            pass
    with pytest.raises(ValueError, match="at least one reference"):
        with grading.hidden():
            pass


def test_a_reference_keeps_its_name_and_documentation():
    assert vae.gaussian_kl.__name__ == "kl_standard_normal" and "KL" in vae.gaussian_kl.__doc__
    assert diff.q_sample.__wrapped__.__name__ == "q_sample"
