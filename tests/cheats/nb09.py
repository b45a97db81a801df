"""Notebook 09: solutions that only call the package's references."""
CHEATS = {
    "path_sample": '''def path_sample(x0, x1, t):
    return fm.linear_path(x0, x1, t)''',
    "cfm": '''def cfm(velocity, x0, x1, t):
    return fm.cfm_loss(velocity, x0, x1, t)''',
    "euler_sample": '''def euler_sample(velocity, x0, n_steps):
    return ode.odeint(velocity, x0, 0.0, 1.0, steps=n_steps, method="euler")''',
    "marginal_velocity_1d": '''def marginal_velocity_1d(x, t, mu, s):
    field = fm.gaussian_marginal_velocity(torch.tensor([float(mu)]), torch.tensor([[float(s) ** 2]]))
    return field(x[:, None], torch.full((x.shape[0],), float(t)))[:, 0]''',
}
