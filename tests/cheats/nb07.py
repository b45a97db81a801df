"""Notebook 07: solutions that only call the package's references."""
CHEATS = {
    "dsm_at_level": '''def dsm_at_level(score_fn, x, sigma, eps):
    torch.manual_seed(0)
    return score.dsm_loss(score_fn, x, torch.tensor([sigma], dtype=x.dtype))''',
    "tweedie": '''def tweedie(x_noisy, score_fn, sigma):
    return score.tweedie_denoise(x_noisy, score_fn, sigma)''',
    "langevin_level": '''def langevin_level(score_fn, x, sigma, step_size, n_steps, generator):
    return score.annealed_langevin_level(score_fn, x, sigma, step_size, n_steps, generator)''',
    "dsm_minimiser": '''def dsm_minimiser(mu, s, sigma):
    a = torch.zeros((), dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    data = mu + s * torch.randn(4096, 1, dtype=torch.float64)
    optimiser = torch.optim.LBFGS([a, b])
    def closure():
        optimiser.zero_grad()
        loss = score.dsm_loss(lambda y, level: a * y + b, data, torch.tensor([sigma], dtype=torch.float64))
        loss.backward()
        return loss
    optimiser.step(closure)
    return float(a), float(b)''',
}
