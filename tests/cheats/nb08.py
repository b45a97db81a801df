"""Notebook 08: solutions that only call the package's references."""
CHEATS = {
    "guide": '''def guide(eps_cond, eps_uncond, scale):
    return lcfg.guided_eps(eps_cond, eps_uncond, scale)''',
    "drop_condition": '''def drop_condition(tokens, p_uncond, generator):
    return lcfg.drop_prompts(tokens, p_uncond, generator)''',
    "attend": '''def attend(q, k, v, mask):
    out = lcfg.attention(q, k, v, mask)
    scores = (q @ k.transpose(1, 2)).masked_fill(~mask[:, None, :], float("-inf"))
    return out, scores.softmax(-1)''',
    "guided_score_1d": '''def guided_score_1d(x, mu, scale):
    two = lcfg.GaussianClasses(torch.tensor([[float(mu)], [-float(mu)]]), 1.0, torch.tensor([0.5, 0.5]))
    alpha_bar = torch.tensor([1.0, 1.0 - 1e-8], dtype=torch.float64)
    t = torch.ones(x.shape[0], dtype=torch.int64)
    sigma = 1e-4
    x64 = x.double()[:, None]
    cond = -two.class_eps(x64, t, torch.zeros_like(t), alpha_bar) / sigma
    uncond = -two.eps(x64, t, alpha_bar) / sigma
    return (scale * cond + (1 - scale) * uncond)[:, 0].to(x.dtype)''',
}
