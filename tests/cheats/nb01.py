"""Notebook 01: solutions that only call the package's references."""
CHEATS = {
    "reparameterize": '''def reparameterize(mu, log_var, eps):
    return vae.reparameterize(mu, log_var, eps=eps)''',
    "gaussian_kl": '''def gaussian_kl(mu, log_var):
    return vae.gaussian_kl(mu, log_var)''',
    "elbo": '''def elbo(x, logits, mu, log_var, beta=1.0):
    return vae.bernoulli_log_likelihood(logits, x) - beta * vae.gaussian_kl(mu, log_var)''',
    "iwae_bound": '''def iwae_bound(log_px_z, z, mu, log_var):
    return vae.iwae_bound(log_px_z, z, mu, log_var)''',
}
