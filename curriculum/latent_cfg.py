r"""Latent diffusion with classifier-free guidance, in miniature: what a text-to-image system adds to a diffusion
model (Rombach et al., 2022; Ho and Salimans, 2022). The autoencoder (notebook 01's ``vae``) and the schedule,
loss and samplers (notebook 06's ``diffusion``) are reused as they are; the notebook composes them with this
module, which holds only what is new:

- **prompts to tokens**: ``Vocabulary``, word-level, with ``<pad>``, ``<unk>`` and ``<empty>`` (the null prompt);
- **attention** (3) with a key mask, ``CrossAttention`` (queries from the image latent's hidden state, keys and
  values from the prompt's tokens) and a tiny ``TextEncoder`` (embeddings and one masked self-attention layer);
- ``ConditionalDenoiser`` :math:`\varepsilon_\theta(z_t, t, \text{tokens})`: the course's time-conditioned MLP
  layers, each followed by cross-attention to the prompt;
- **condition dropout** ``drop_prompts`` and **guidance** ``guided_eps`` (2), ``guidance_model`` for any sampler;
- ``latent_scale``, the factor that brings the latent to unit variance;
- ``GaussianClasses``: Gaussian classes in closed form under a noise schedule (4), for exact checks.

Guidance-scale convention, everywhere: :math:`s = 0` is the unconditional model, :math:`s = 1` the plain
conditional one, :math:`s > 1` extrapolates past it (Stable Diffusion's ``guidance_scale``; Ho and Salimans'
:math:`w = s - 1`).

.. math::

    \operatorname{attention}(Q, K, V) = \operatorname{softmax}\big(QK^\top/\sqrt{d} + M\big)\,V,
    \qquad M_{ij} = -\infty \text{ where key } j \text{ is padding}                                             (3)

    \tilde\varepsilon_s(x, t, c) = \varepsilon_\theta(x, t, \varnothing)
    + s\,\big(\varepsilon_\theta(x, t, c) - \varepsilon_\theta(x, t, \varnothing)\big)                         (2)

    p_t(x \mid k) = N\big(\sqrt{\bar\alpha_t}\,\mu_k,\ (\bar\alpha_t\tau^2 + 1 - \bar\alpha_t) I\big), \quad
    \varepsilon^*(x, t, k) = \sqrt{1 - \bar\alpha_t}\,\frac{x - \sqrt{\bar\alpha_t}\,\mu_k}
    {\bar\alpha_t\tau^2 + 1 - \bar\alpha_t}                                                                   (4)

and the unconditional :math:`\varepsilon^*(x, t)` is the class posterior :math:`p_t(k \mid x)` average of (4).
The numbers are notebook 08's; its (1) is classifier guidance with an explicit classifier, not built here.

Shapes: latents ``z (B, D)``; steps ``t (B,)``; tokens ``(B, L)`` int64, ``PAD`` after the words; a key mask
``(B, L)`` bool, True for a real token; a text context ``(B, L, d)``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from .checks import check_nonnegative_float, check_positive_int, check_probability, check_tensor
from .grading import reference
from .nets import SinusoidalEmbedding

__all__ = ["PAD", "UNK", "EMPTY", "SPECIAL_TOKENS", "DIGIT_WORDS", "TRAIN_TEMPLATES", "UNSEEN_TEMPLATES", "prompt",
           "random_prompts", "Vocabulary", "key_mask", "null_prompt", "attention", "CrossAttention", "TextEncoder",
           "ConditionalDenoiser", "drop_prompts", "guided_eps", "guidance_model", "latent_scale", "GaussianClasses"]

PAD, UNK, EMPTY = 0, 1, 2
SPECIAL_TOKENS = ("<pad>", "<unk>", "<empty>")
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# How the training prompts phrase a digit; the unseen phrasings reuse known words in new orders and add new ones.
TRAIN_TEMPLATES = ("{word}", "a {word}", "the digit {digit}", "digit {word}", "a {digit}", "the number {word}")
UNSEEN_TEMPLATES = ("the number {digit}", "digit {digit}", "a picture of {word}", "{word} please")


def prompt(label: int, template: str = "{word}") -> str:
    """The prompt for digit ``label`` in ``template`` (``{word}``: "seven", ``{digit}``: "7")."""
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label <= 9:
        raise ValueError(f"label must be a digit 0..9, got {label!r}")
    return template.format(word=DIGIT_WORDS[label], digit=str(label))


def random_prompts(labels: torch.Tensor, generator: torch.Generator | None = None,
                   templates: Sequence[str] = TRAIN_TEMPLATES) -> list[str]:
    """One prompt per label ``(B,)``, each in a template drawn uniformly from ``templates``."""
    check_tensor(labels, "labels", ndim=1, dtype=torch.int64)
    if not templates:
        raise ValueError("templates must hold at least one template")
    picks = torch.randint(len(templates), (labels.shape[0],), generator=generator)
    return [prompt(int(y), templates[int(k)]) for y, k in zip(labels, picks)]


class Vocabulary:
    """Word-level tokens: lower-cased, split on spaces; a word outside the vocabulary becomes ``<unk>``, the empty
    prompt is the single token ``<empty>`` (the null condition of classifier-free guidance)."""

    def __init__(self, words: Iterable[str]) -> None:
        extra = sorted({w.lower() for w in words} - set(SPECIAL_TOKENS))
        self.words = (*SPECIAL_TOKENS, *extra)
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def from_templates(cls, templates: Sequence[str] = TRAIN_TEMPLATES) -> Vocabulary:
        """Every word of every digit's prompt in ``templates``."""
        return cls(w for t in templates for y in range(10) for w in prompt(y, t).split())

    def __len__(self) -> int:
        return len(self.words)

    def split(self, text: str) -> list[str]:
        if not isinstance(text, str):
            raise TypeError(f"a prompt must be a str, got {type(text).__name__}")
        return text.lower().split()

    def encode(self, prompts: Sequence[str], length: int | None = None) -> torch.Tensor:
        """Prompts -> tokens ``(B, length)`` int64, padded with ``PAD``; ``length`` defaults to the longest."""
        if isinstance(prompts, str) or not isinstance(prompts, Sequence) or not prompts:
            raise TypeError("prompts must be a non-empty list of strings (wrap a single prompt in a list)")
        ids = [[self.index.get(w, UNK) for w in self.split(p)] or [EMPTY] for p in prompts]
        longest = max(len(i) for i in ids)
        length = longest if length is None else check_positive_int(length, "length")
        if longest > length:
            raise ValueError(f"a prompt has {longest} words, more than length={length}")
        return torch.tensor([i + [PAD] * (length - len(i)) for i in ids], dtype=torch.int64)

    def decode(self, tokens: torch.Tensor) -> list[str]:
        """Tokens ``(B, L)`` -> prompts, padding dropped and ``<empty>`` shown as ``""``."""
        check_tensor(tokens, "tokens", ndim=2, dtype=torch.int64)
        return [" ".join(self.words[i] for i in row.tolist() if i not in (PAD, EMPTY)) for row in tokens]

    def unknown_share(self, text: str) -> float:
        """The share of the words of ``text`` that are not in the vocabulary."""
        words = self.split(text)
        return sum(w not in self.index for w in words) / max(len(words), 1)


def key_mask(tokens: torch.Tensor) -> torch.Tensor:
    """``(B, L)`` bool: True for a real token, False for padding."""
    check_tensor(tokens, "tokens", ndim=2, dtype=torch.int64)
    return tokens != PAD


def null_prompt(batch: int, length: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """``batch`` copies of the empty prompt, ``(batch, length)``: ``<empty>`` then padding."""
    tokens = torch.full((check_positive_int(batch, "batch"), check_positive_int(length, "length")), PAD,
                        dtype=torch.int64, device=device)
    tokens[:, 0] = EMPTY
    return tokens


# --------------------------------------------------------------------------------------------------------------
# Attention and the text encoder
# --------------------------------------------------------------------------------------------------------------
@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(3): ``q (B, Lq, d)``, ``k (B, Lk, d)``, ``v (B, Lk, dv)``, ``mask (B, Lk)`` bool (True: attend) ->
    ``(B, Lq, dv)``. Every query needs at least one key it may attend to."""
    check_tensor(q, "q", ndim=3, floating=True)
    check_tensor(k, "k", shape=(q.shape[0], None, q.shape[2]), floating=True)
    check_tensor(v, "v", shape=(q.shape[0], k.shape[1], None), floating=True)
    scores = q @ k.transpose(1, 2) / math.sqrt(q.shape[2])  # (B, Lq, Lk): q_i . k_j / sqrt(d)
    if mask is not None:
        check_tensor(mask, "mask", shape=(q.shape[0], k.shape[1]), dtype=torch.bool)
        if not bool(mask.any(dim=1).all()):
            raise ValueError("mask hides every key of some row; each row needs at least one real token")
        scores = scores.masked_fill(~mask[:, None, :], float("-inf"))  # M_ij = -inf for padding
    return scores.softmax(dim=-1) @ v


class CrossAttention(nn.Module):
    """Multi-head attention of queries ``h (B, Lq, query_dim)`` (the image side) to a context ``(B, Lk, context_dim)``
    (the prompt side) under its key ``mask``: ``(B, Lq, query_dim)``. Self-attention is ``h`` attending to itself."""

    def __init__(self, query_dim: int, context_dim: int, heads: int = 2, head_dim: int = 16) -> None:
        super().__init__()
        self.heads, self.head_dim = check_positive_int(heads, "heads"), check_positive_int(head_dim, "head_dim")
        inner = heads * head_dim
        self.to_q = nn.Linear(check_positive_int(query_dim, "query_dim"), inner, bias=False)
        self.to_k = nn.Linear(check_positive_int(context_dim, "context_dim"), inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        self.out = nn.Linear(inner, query_dim)

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # (B, L, heads * hd) -> (B * heads, L, hd)
        b, length, _ = x.shape
        return x.view(b, length, self.heads, self.head_dim).transpose(1, 2).reshape(b * self.heads, length, -1)

    def forward(self, h: torch.Tensor, context: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        check_tensor(h, "h", ndim=3, floating=True)
        check_tensor(context, "context", shape=(h.shape[0], None, None), floating=True)
        q, k, v = self._split(self.to_q(h)), self._split(self.to_k(context)), self._split(self.to_v(context))
        heads_mask = None if mask is None else mask.repeat_interleave(self.heads, dim=0)
        out = attention(q, k, v, heads_mask)  # (B * heads, Lq, hd)
        b, lq = h.shape[0], h.shape[1]
        return self.out(out.view(b, self.heads, lq, self.head_dim).transpose(1, 2).reshape(b, lq, -1))


class TextEncoder(nn.Module):
    """``tokens (B, L)`` -> ``(context (B, L, dim), mask (B, L))``: token and position embeddings, then one
    pre-norm block of masked self-attention and an MLP, both residual (so word order can matter)."""

    def __init__(self, vocab_size: int, dim: int = 32, max_length: int = 8, heads: int = 2) -> None:
        super().__init__()
        self.max_length = check_positive_int(max_length, "max_length")
        self.tokens = nn.Embedding(check_positive_int(vocab_size, "vocab_size"), check_positive_int(dim, "dim"))
        self.positions = nn.Embedding(max_length, dim)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.self_attention = CrossAttention(dim, dim, heads=heads, head_dim=dim // heads)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.SiLU(), nn.Linear(2 * dim, dim))

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = key_mask(tokens)
        if tokens.shape[1] > self.max_length:
            raise ValueError(f"tokens has length {tokens.shape[1]}, above max_length={self.max_length}")
        if int(tokens.max()) >= self.tokens.num_embeddings or int(tokens.min()) < 0:
            raise ValueError(f"tokens must lie in [0, {self.tokens.num_embeddings}) (the vocabulary's size)")
        x = self.tokens(tokens) + self.positions(torch.arange(tokens.shape[1], device=tokens.device))
        y = self.norm1(x)
        x = x + self.self_attention(y, y, mask)
        return x + self.mlp(self.norm2(x)), mask


class ConditionalDenoiser(nn.Module):
    r""":math:`\varepsilon_\theta(z_t, t, \text{tokens})`: ``(B, latent_dim), (B,), (B, L) -> (B, latent_dim)``.
    Each of ``depth`` layers computes ``h <- SiLU(W h + b + P emb(t))`` (the course's ``TimeMLP`` layer), then
    ``h <- h + CrossAttention(LayerNorm(h), text)``: one query per sample, from its hidden state, reads the prompt.
    The empty prompt (``null_prompt``) is the unconditional branch."""

    def __init__(self, latent_dim: int, vocab_size: int, hidden: int = 128, depth: int = 3, text_dim: int = 32,
                 max_length: int = 8, time_dim: int = 32, time_scale: float = 1.0, heads: int = 2) -> None:
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        check_positive_int(hidden, "hidden")
        self.text = TextEncoder(vocab_size, text_dim, max_length, heads)
        self.time = nn.Sequential(SinusoidalEmbedding(time_dim, scale=time_scale), nn.Linear(time_dim, hidden),
                                  nn.SiLU(), nn.Linear(hidden, hidden))
        depth = check_positive_int(depth, "depth")
        self.layers = nn.ModuleList(nn.Linear(latent_dim if i == 0 else hidden, hidden) for i in range(depth))
        self.time_proj = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(depth))
        self.cross = nn.ModuleList(CrossAttention(hidden, text_dim, heads) for _ in range(depth))
        self.act = nn.SiLU()
        self.out = nn.Linear(hidden, latent_dim)

    def forward(self, z: torch.Tensor, t: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        check_tensor(z, "z", shape=(None, self.latent_dim), floating=True)
        check_tensor(tokens, "tokens", shape=(z.shape[0], None), dtype=torch.int64)
        context, mask = self.text(tokens)
        emb = self.act(self.time(t.to(z.dtype).reshape(-1).expand(z.shape[0])))  # (B, hidden)
        h = z
        for layer, proj, norm, cross in zip(self.layers, self.time_proj, self.norms, self.cross):
            h = self.act(layer(h) + proj(emb))
            h = h + cross(norm(h)[:, None, :], context, mask)[:, 0]
        return self.out(h)


# --------------------------------------------------------------------------------------------------------------
# Classifier-free guidance
# --------------------------------------------------------------------------------------------------------------
@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def drop_prompts(tokens: torch.Tensor, p_uncond: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Condition dropout: each row of ``tokens (B, L)`` becomes the empty prompt with probability ``p_uncond``
    (one uniform draw per row from ``generator``), so one network learns both branches of (2)."""
    check_tensor(tokens, "tokens", ndim=2, dtype=torch.int64)
    p_uncond = check_probability(p_uncond, "p_uncond")
    drop = torch.rand(tokens.shape[0], generator=generator) < p_uncond
    null = null_prompt(tokens.shape[0], tokens.shape[1], tokens.device)
    return torch.where(drop.to(tokens.device)[:, None], null, tokens)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def guided_eps(eps_cond: torch.Tensor, eps_uncond: torch.Tensor, scale: float) -> torch.Tensor:
    """(2): ``eps_uncond + scale * (eps_cond - eps_uncond)``; scale 0 unconditional, 1 conditional."""
    check_tensor(eps_uncond, "eps_uncond", shape=tuple(eps_cond.shape), floating=True)
    scale = check_nonnegative_float(scale, "scale")
    return eps_uncond + scale * (eps_cond - eps_uncond)


def guidance_model(denoiser: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
                   tokens: torch.Tensor, scale: float) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """An ``eps_model(x_t, t)`` for any sampler: (2) with the prompts ``tokens (B, L)``, both branches evaluated
    in one batch of ``2B`` rows (two evaluations per step, run as one call)."""
    check_tensor(tokens, "tokens", ndim=2, dtype=torch.int64)
    scale = check_nonnegative_float(scale, "scale")
    null = null_prompt(tokens.shape[0], tokens.shape[1], tokens.device)

    def eps_model(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if x_t.shape[0] != tokens.shape[0]:
            raise ValueError(f"x_t has {x_t.shape[0]} rows but there are {tokens.shape[0]} prompts")
        both = denoiser(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([tokens, null]))
        eps_cond, eps_uncond = both.chunk(2)
        return guided_eps(eps_cond, eps_uncond, scale)

    return eps_model


def latent_scale(latents: torch.Tensor) -> float:
    """The latent scale factor: one over the standard deviation of all entries of ``latents (N, D)`` (float64),
    so that the scaled latent has unit variance, the scale the noise schedule's signal-to-noise ratios assume."""
    check_tensor(latents, "latents", ndim=2, floating=True)
    std = float(latents.detach().double().std())
    if not std > 0:
        raise ValueError("latents must not be constant")
    return 1.0 / std


class GaussianClasses:
    """Classes ``k`` with data ``N(means[k], std^2 I)`` and prior ``weights``: every noise predictor of (4) in closed
    form under a schedule's ``alpha_bar`` ``(T + 1,)`` (index t, ``alpha_bar[0] = 1``), for exact checks."""

    def __init__(self, means: torch.Tensor, std: float, weights: torch.Tensor) -> None:
        check_tensor(means, "means", ndim=2, floating=True)
        check_tensor(weights, "weights", shape=(means.shape[0],), floating=True)
        if bool((weights <= 0).any()) or abs(float(weights.sum()) - 1) > 1e-6:
            raise ValueError("weights must be positive and sum to 1")
        self.means, self.weights = means.double(), weights.double()
        self.std = float(std)
        if not self.std > 0:
            raise ValueError(f"std must be positive, got {std}")

    def _noised(self, alpha_bar: torch.Tensor, t: torch.Tensor, x: torch.Tensor):
        ab = alpha_bar.to(x)[t][:, None]  # (B, 1)
        var = ab * self.std ** 2 + 1 - ab  # Var of p_t(x | k) per coordinate
        centres = ab.sqrt()[:, None, :] * self.means.to(x)[None]  # (B, K, D)
        return ab, var, centres

    def class_posterior(self, x: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
        """:math:`p_t(k \\mid x)` ``(B, K)`` (at ``t = 0``: the data's own classifier)."""
        _, var, centres = self._noised(alpha_bar, t, x)
        log_lik = -((x[:, None, :] - centres) ** 2).sum(-1) / (2 * var)  # + a constant shared by all k
        return (log_lik + self.weights.to(x).log()).softmax(dim=1)

    @reference  # an exercise's reference: graded tests hide it (curriculum.grading)
    def class_eps(self, x: torch.Tensor, t: torch.Tensor, k: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
        """(4) for classes ``k (B,)``."""
        ab, var, centres = self._noised(alpha_bar, t, x)
        return (1 - ab).sqrt() * (x - centres[torch.arange(x.shape[0]), k]) / var

    @reference  # an exercise's reference: graded tests hide it (curriculum.grading)
    def eps(self, x: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
        """The unconditional predictor: (4) averaged over :math:`p_t(k \\mid x)`."""
        ab, var, centres = self._noised(alpha_bar, t, x)
        post = self.class_posterior(x, t, alpha_bar)  # (B, K)
        return (1 - ab).sqrt() * (x - (post[:, :, None] * centres).sum(1)) / var

    def sample(self, n: int, k: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points ``(n, D)`` float64 of class ``k`` (or of the mixture when ``k`` is None)."""
        n = check_positive_int(n, "n")
        if k is None:
            labels = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        else:
            labels = torch.full((n,), int(k), dtype=torch.int64)
        noise = torch.randn(n, self.means.shape[1], dtype=torch.float64, generator=generator)
        return self.means[labels] + self.std * noise
