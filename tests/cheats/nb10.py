"""Notebook 10: solutions that only call the package's references."""
CHEATS = {
    "masked_linear": '''class MyMaskedLinear(torch.nn.Linear):
    def __init__(self, in_features, out_features, mask):
        super().__init__(in_features, out_features)
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x):
        return autoregressive.MaskedLinear.forward(self, x)''',
    "made_masks": '''def masks_for(dim, hidden):
    return autoregressive.made_masks(dim, hidden)''',
    "paired_gap": '''def paired_gap(log_q, log_p):
    class Model:
        def log_likelihood(self, x):
            return protocol.LogLikelihood(log_q.double(), protocol.EXACT)

    class Data:
        def log_prob(self, x):
            return log_p.double()

    nll, gap, kind = comparison.evaluate.nll_gap(Model(), Data(), torch.zeros(log_q.shape[0], 2))
    return gap.value, gap.stderr''',
    "dequantisation_gap": '''def dequantisation_gap(x):
    from curriculum import flows
    log_q = lambda y: torch.log(3 * y[:, 0] ** 2 / 8)
    bound = flows.discrete_nll_bound(log_q, torch.full((2, 1), float(x), dtype=torch.float64), n_noise=100_000)
    return math.log(((x + 1) ** 3 - x ** 3) / 8) + bound.value''',
}
