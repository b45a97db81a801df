"""Notebook 05: solutions that only call the package's references."""
CHEATS = {
    "langevin_step": '''def langevin_step(x, score, step_size, generator):
    return langevin.langevin_step(x, score, step_size, generator)''',
    "contrastive_loss": '''def contrastive_loss(energy_real, energy_fake, alpha):
    return ebm.contrastive_loss(energy_real, energy_fake, alpha)''',
    "draw_starts": '''def draw_starts(points, n, reinit, low, high, generator):
    buffer = ebm.ReplayBuffer(points.shape[0], (float(low[0]), float(high[0]), float(low[1]), float(high[1])), reinit)
    buffer.points = points.clone()
    return buffer.draw(n, generator), buffer.slots''',
    "ula_variance": '''def ula_variance(s, h, sigma):
    return langevin.ula_stationary_variance(s, h)''',
}
