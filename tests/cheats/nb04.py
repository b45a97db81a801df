"""Notebook 04: solutions that only call the package's references."""
CHEATS = {
    "coupling_forward": '''def coupling_forward(x, mask, s, t):
    return flows.coupling_forward(x, mask, s, t)''',
    "coupling_inverse": '''def coupling_inverse(z, mask, s, t):
    return flows.coupling_inverse(z, mask, s, t)''',
    "flow_log_prob": '''def flow_log_prob(layers, x):
    return flows.Flow(list(layers)).log_prob(x)''',
}
