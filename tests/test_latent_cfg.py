"""Latent diffusion with classifier-free guidance: tokens, attention, the conditional denoiser, condition dropout,
guidance and exact Gaussian classes."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from curriculum import latent_cfg as lcfg

VOCAB = lcfg.Vocabulary.from_templates()


def test_vocabulary_encodes_pads_and_marks_unknown_words():
    tokens = VOCAB.encode(["A seven", "the digit 7", ""], length=4)
    assert tokens.shape == (3, 4) and tokens.dtype == torch.int64
    assert VOCAB.decode(tokens) == ["a seven", "the digit 7", ""]
    assert tokens[2, 0] == lcfg.EMPTY and (tokens[2, 1:] == lcfg.PAD).all()
    assert (tokens[0, 2:] == lcfg.PAD).all()
    unknown = VOCAB.encode(["an image of a seven"])
    assert (unknown[0, :3] == lcfg.UNK).all() and VOCAB.unknown_share("an image of a seven") == pytest.approx(0.6)
    assert VOCAB.unknown_share("the number 7") == 0.0  # known words, an unseen combination
    with pytest.raises(ValueError, match="more than length=2"):
        VOCAB.encode(["the digit 7"], length=2)
    with pytest.raises(TypeError, match="wrap a single prompt"):
        VOCAB.encode("seven")
    with pytest.raises(ValueError, match="label must be a digit"):
        lcfg.prompt(10)


def test_random_prompts_use_the_templates_and_the_generator():
    labels = torch.tensor([7, 3, 0])
    a = lcfg.random_prompts(labels, torch.Generator().manual_seed(1))
    assert a == lcfg.random_prompts(labels, torch.Generator().manual_seed(1))
    assert all(("seven" in p or "7" in p) for p in a[:1]) and all(("zero" in p or "0" in p) for p in a[2:])
    assert all(VOCAB.unknown_share(p) == 0 for p in lcfg.random_prompts(torch.arange(10).repeat(20)))


def _qkv(b=3, lq=2, lk=5, d=4, dv=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, lq, d, generator=g, dtype=torch.float64), torch.randn(b, lk, d, generator=g, dtype=torch.float64),
            torch.randn(b, lk, dv, generator=g, dtype=torch.float64))


def test_attention_matches_torch_and_respects_the_mask():
    q, k, v = _qkv()
    mask = torch.tensor([[True] * 5, [True, True, True, False, False], [True, False, False, False, False]])
    ours = lcfg.attention(q, k, v, mask)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, :])
    assert torch.allclose(ours, theirs, atol=1e-12)
    assert torch.allclose(lcfg.attention(q, k, v), F.scaled_dot_product_attention(q, k, v), atol=1e-12)
    assert torch.allclose(ours[2], v[2, :1].expand(2, -1))  # one visible key: its value, whatever the query
    with pytest.raises(ValueError, match="hides every key"):
        lcfg.attention(q, k, v, torch.zeros(3, 5, dtype=torch.bool))


def test_attention_is_invariant_to_permuting_keys_with_their_values():
    q, k, v = _qkv(seed=1)
    perm = torch.tensor([3, 0, 4, 1, 2])
    assert torch.allclose(lcfg.attention(q, k, v), lcfg.attention(q, k[:, perm], v[:, perm]), atol=1e-12)
    assert not torch.allclose(lcfg.attention(q, k, v), lcfg.attention(q, k[:, perm], v), atol=1e-3)


def test_padding_with_a_mask_changes_nothing_in_the_encoder_and_the_denoiser():
    torch.manual_seed(0)
    net = lcfg.ConditionalDenoiser(latent_dim=4, vocab_size=len(VOCAB), hidden=16, depth=2, text_dim=8).double()
    z, t = torch.randn(2, 4, dtype=torch.float64), torch.tensor([10, 500])
    short, long = VOCAB.encode(["a seven", "three"]), VOCAB.encode(["a seven", "three"], length=6)
    context_short, _ = net.text(short)
    context_long, mask_long = net.text(long)
    assert torch.allclose(context_short[0], context_long[0, :2], atol=1e-12)
    assert mask_long.tolist()[1] == [True] + [False] * 5
    assert torch.allclose(net(z, t, short), net(z, t, long), atol=1e-12)
    other = VOCAB.encode(["a nine", "three"])
    assert not torch.allclose(net(z, t, other)[0], net(z, t, short)[0], atol=1e-6), "the prompt must matter"
    with pytest.raises(ValueError, match="max_length"):
        net(z, t, VOCAB.encode(["a seven"] * 2, length=9))


def test_drop_prompts_replaces_whole_rows_at_the_stated_rate():
    tokens = VOCAB.encode(["the digit 7"] * 20_000)
    dropped = lcfg.drop_prompts(tokens, 0.3, torch.Generator().manual_seed(0))
    is_null = (dropped == lcfg.null_prompt(20_000, tokens.shape[1])).all(dim=1)
    kept = (dropped == tokens).all(dim=1)
    assert bool((is_null | kept).all()), "a row is either untouched or the empty prompt"
    assert abs(float(is_null.double().mean()) - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 20_000)
    assert torch.equal(lcfg.drop_prompts(tokens[:5], 0.0), tokens[:5])
    assert torch.equal(lcfg.drop_prompts(tokens[:5], 1.0), lcfg.null_prompt(5, tokens.shape[1]))
    with pytest.raises(ValueError, match="p_uncond"):
        lcfg.drop_prompts(tokens, 1.5)


def test_guidance_edges_and_the_batched_model():
    cond, uncond = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, -1.0]])
    assert torch.equal(lcfg.guided_eps(cond, uncond, 0.0), uncond)
    assert torch.equal(lcfg.guided_eps(cond, uncond, 1.0), cond)
    assert torch.allclose(lcfg.guided_eps(cond, uncond, 3.0), torch.tensor([[3.0, 8.0]]))
    with pytest.raises(ValueError, match="scale"):
        lcfg.guided_eps(cond, uncond, -1.0)
    torch.manual_seed(1)
    net = lcfg.ConditionalDenoiser(latent_dim=3, vocab_size=len(VOCAB), hidden=16, depth=1, text_dim=8)
    tokens = VOCAB.encode(["seven", "a two"])
    z, t = torch.randn(2, 3), torch.tensor([100, 900])
    guided = lcfg.guidance_model(net, tokens, 2.5)(z, t)
    separate = lcfg.guided_eps(net(z, t, tokens), net(z, t, lcfg.null_prompt(2, tokens.shape[1])), 2.5)
    assert torch.allclose(guided, separate, atol=1e-5)


def test_latent_scale_gives_unit_variance():
    z = 3.0 * torch.randn(5000, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64) + 1.0
    assert float((z * lcfg.latent_scale(z)).std()) == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(ValueError, match="constant"):
        lcfg.latent_scale(torch.ones(10, 2))


def _classes():
    return lcfg.GaussianClasses(torch.tensor([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.0]]), 0.5,
                                torch.tensor([0.5, 0.3, 0.2]))


def test_gaussian_classes_noise_predictors_are_minus_sigma_times_the_exact_scores():
    classes = _classes()
    alpha_bar = torch.linspace(1.0, 0.01, 11, dtype=torch.float64)
    x = torch.randn(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) * 2
    t = torch.tensor([0, 2, 5, 7, 9, 10])
    k = torch.tensor([0, 1, 2, 0, 1, 2])
    ab = alpha_bar[t][:, None]
    var = ab * 0.25 + 1 - ab

    def log_mixture(y):
        centres = ab.sqrt()[:, None, :] * classes.means[None]
        log_n = -((y[:, None] - centres) ** 2).sum(-1) / (2 * var) - torch.log(2 * math.pi * var)
        return torch.logsumexp(log_n + classes.weights.log(), dim=1)

    y = x.clone().requires_grad_(True)
    (score,) = torch.autograd.grad(log_mixture(y).sum(), y)
    assert torch.allclose(classes.eps(x, t, alpha_bar), -(1 - ab).sqrt() * score, atol=1e-12)
    own_score = -(x - ab.sqrt() * classes.means[k]) / var
    assert torch.allclose(classes.class_eps(x, t, k, alpha_bar), -(1 - ab).sqrt() * own_score, atol=1e-12)
    post = classes.class_posterior(x, t, alpha_bar)
    assert torch.allclose(post.sum(1), torch.ones(6, dtype=torch.float64))
    draws = classes.sample(40_000, k=1, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(draws.mean(0), classes.means[1], atol=4 * 0.5 / 200)
    with pytest.raises(ValueError, match="sum to 1"):
        lcfg.GaussianClasses(classes.means, 0.5, torch.tensor([0.5, 0.5, 0.5]))
