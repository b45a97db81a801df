"""Adversarial generative models: the original GAN (notebook 02) and the Wasserstein GAN (notebook 03).

=================  ==================================================================================
``jsd``            the original game on logits, the optimal discriminator, the JSD by quadrature
``wasserstein``    the critic's objective, gradient penalty, weight clipping, a critic trained as a W1 meter
``networks``       generator, discriminator and critic MLPs
``training``       the one adversarial loop (``train_gan``) with either objective, coverage over seeds
=================  ==================================================================================

Every public name is also available here, so ``gan.train_gan``, ``gan.gradient_penalty`` and so on work.
"""
from .jsd import (GENERATOR_LOSSES, discriminator_loss, generator_loss_saturating, generator_loss_nonsaturating,
                  generator_logit_gradient, optimal_discriminator, jsd_grid, gan_value_grid, jsd_from_discriminator,
                  JensenShannonLoss)
from .networks import (Generator, Discriminator, Critic)
from .training import (LOSSES, GanConfig, GanResult, AdversarialStep, train_gan, coverage_over_seeds, coverage_of)
from .wasserstein import (critic_loss, generator_loss_wasserstein, interpolates, gradient_norms, gradient_penalty,
                          clip_weights_, clipped_share, dual_value, lipschitz_estimate, WassersteinLoss, CriticConfig,
                          CriticResult, train_critic)

__all__ = [
    "GENERATOR_LOSSES", "discriminator_loss", "generator_loss_saturating", "generator_loss_nonsaturating",
    "generator_logit_gradient", "optimal_discriminator", "jsd_grid", "gan_value_grid", "jsd_from_discriminator",
    "JensenShannonLoss",
    "Generator", "Discriminator", "Critic",
    "LOSSES", "GanConfig", "GanResult", "AdversarialStep", "train_gan", "coverage_over_seeds", "coverage_of",
    "critic_loss", "generator_loss_wasserstein", "interpolates", "gradient_norms", "gradient_penalty",
    "clip_weights_", "clipped_share", "dual_value", "lipschitz_estimate", "WassersteinLoss", "CriticConfig",
    "CriticResult", "train_critic",
]
