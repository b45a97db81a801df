"""Notebook 02: solutions that only call the package's references."""
CHEATS = {
    "optimal_discriminator": '''def optimal_discriminator(log_p_data, log_p_g):
    return gan.optimal_discriminator(log_p_data, log_p_g)''',
    "discriminator_loss": '''def discriminator_loss(real_logits, fake_logits):
    return gan.discriminator_loss(real_logits, fake_logits)''',
    "generator_loss_nonsaturating": '''def generator_loss_nonsaturating(fake_logits):
    return gan.generator_loss_nonsaturating(fake_logits)''',
    "jsd_estimate": '''def jsd_estimate(real_logits, fake_logits):
    return gan.jsd_from_discriminator(real_logits, fake_logits)''',
}
