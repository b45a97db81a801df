"""Notebook 00: solutions that only call the package's references."""
CHEATS = {
    "nll_with_stderr": '''def nll_with_stderr(log_q):
    estimate = metrics.nll(log_q)
    return estimate.value, estimate.stderr''',
    "noise_floor_estimate": '''def noise_floor_estimate(sample_fn, metric, n, repeats, seed):
    floor = metrics.noise_floor(sample_fn, metric, n, repeats=repeats, seed=seed)
    return floor.value, floor.stderr''',
    "ml_gaussian": '''def ml_gaussian(x):
    fitted = baselines.GaussianML.fit(x)
    return fitted.mean, fitted.cov''',
}
