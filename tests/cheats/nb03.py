"""Notebook 03: solutions that only call the package's references."""
CHEATS = {
    "critic_loss": '''def critic_loss(real_scores, fake_scores):
    return wgan.critic_loss(real_scores, fake_scores)''',
    "gradient_penalty": '''def gradient_penalty(critic, real, fake, generator=None):
    return wgan.gradient_penalty(critic, real, fake, generator)''',
    "clip_weights": '''def clip_weights(critic, clip):
    wgan.clip_weights_(critic, clip)''',
    "w1_line_samples": '''def w1_line_samples(x, y):
    return transport.wasserstein1_points(x[:, None], y[:, None])''',
}
