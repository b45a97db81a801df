"""Notebook 06: solutions that only call the package's references."""
CHEATS = {
    "q_sample": '''def q_sample(schedule, x0, t, eps):
    return diff.q_sample(schedule, x0, t, eps)''',
    "simple_loss": '''def simple_loss(eps_model, schedule, x0, t, eps):
    return diff.simple_loss(eps_model, schedule, x0, t, eps)''',
    "p_sample_step": '''def p_sample_step(schedule, x_t, t, eps_theta, z, variance="posterior"):
    return diff.ancestral_step(schedule, x_t, t, eps_theta, noise=z, variance=variance)''',
    "ddim_step": '''def ddim_step(schedule, x_t, t, s, eps_theta, eta, z):
    return diff.ddim_step(schedule, x_t, t, s, eps_theta, eta=eta, noise=z)''',
}
