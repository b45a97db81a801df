"""Notebook 10's comparison: every recipe trains, saves, reloads and samples with the evaluations it claims; the
training is reproducible from its seed; the evaluation scores the truth at the limits and a collapsed model far
from them; the command writes weights; the shipped weights are all there and load."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from curriculum import comparison, protocol, toy
from curriculum.comparison import digits, evaluate, recipes, store
from curriculum.comparison.__main__ import main as command

TINY = recipes.Budget(steps=3, batch_size=16, hidden=8, depth=1)


def _states_equal(a: dict[str, nn.Module], b: dict[str, nn.Module]) -> bool:
    return all(torch.equal(x, y) for key in a for x, y in zip(a[key].state_dict().values(), b[key].state_dict().values()))


@pytest.mark.parametrize("family", recipes.TOY_FAMILIES)
def test_every_recipe_trains_reproducibly_and_reloads_the_same_model(family, tmp_path):
    ring = toy.get("ring")
    r = recipes.recipe(family)
    first, second = r.train(ring, 0, TINY), r.train(ring, 0, TINY)
    assert _states_equal(first, second), "the same seed must give the same weights"
    if family != "gaussian":
        assert not _states_equal(first, r.train(ring, 1, TINY)), "another seed must give other weights"
    path = store.path_for("ring", family, 0, tmp_path)
    store.save(path, first, {"steps": TINY.steps})
    loaded = r.build(TINY)
    assert store.load_state(path, loaded) == {"steps": TINY.steps}
    assert _states_equal(first, loaded)
    a = protocol.draw(r.model(first, ring), 32, seed=4)
    b = protocol.draw(r.model(loaded, ring), 32, seed=4)
    assert a.shape == (32, 2) and torch.isfinite(a).all() and torch.equal(a, b)
    assert protocol.has_likelihood(r.model(first, ring)) == (r.likelihood != "none")


def _count_calls(module: nn.Module, action) -> int:
    """Forward calls of ``module``'s first linear layer while ``action()`` runs: one per network evaluation."""
    first = next(m for m in module.modules() if isinstance(m, nn.Linear))
    calls = []
    hook = first.register_forward_hook(lambda *args: calls.append(1))
    try:
        action()
    finally:
        hook.remove()
    return len(calls)


NETWORK = {"gan": "generator", "wgan_gp": "generator", "realnvp": "flow", "ebm": "energy",
           "ddpm": "eps", "score": "score", "flow_matching": "velocity", "autoregressive": "made"}


@pytest.mark.parametrize("family", sorted(NETWORK))
def test_the_stated_network_evaluations_per_sample_are_what_the_sampler_runs(family):
    ring = toy.get("ring")
    r = recipes.recipe(family)
    modules = r.train(ring, 0, TINY)
    model = r.model(modules, ring)
    calls = _count_calls(modules[NETWORK[family]], lambda: protocol.draw(model, 10, seed=0))
    assert calls == r.nfe, f"{family}: {calls} evaluations per batch, the recipe states {r.nfe}"


def test_vae_samples_with_one_decoder_pass():
    ring = toy.get("ring")
    modules = recipes.recipe("vae").train(ring, 0, TINY)
    model = recipes.recipe("vae").model(modules, ring)
    assert _count_calls(modules["vae"].decoder, lambda: protocol.draw(model, 10, seed=0)) == 1
    assert _count_calls(modules["vae"].encoder, lambda: protocol.draw(model, 10, seed=0)) == 0


def test_measuring_the_truth_scores_the_limits():
    """The toy itself as the model: KL gap 0 (exactly: log q = log p), C2ST at chance, every mode covered at its
    fair share, 99% on the data."""
    ring = toy.get("ring")
    test = ring.sample(2000, seed=1).float()
    m = evaluate.measure_toy(ring, ring, test, nfe=0, threshold=evaluate.level_threshold(ring), timing=False)
    assert m.kind == "exact" and abs(m.gap.value) < 1e-5 and abs(m.nll.value - ring.entropy().value) < 4 * m.nll.stderr
    assert abs(m.c2st - 0.5) < 4 * math.sqrt(0.25 / 2000)
    assert m.modes == 8 and m.weakest > 0.75 and abs(m.hq - 0.99) < 4 * math.sqrt(0.99 * 0.01 / 2000)


class _Collapsed:
    """Every sample on one ring mode, with that mode's Gaussian as its (exact) density."""

    def __init__(self, ring):
        self.law = torch.distributions.MultivariateNormal(ring.means[0], 0.01 * torch.eye(2, dtype=torch.float64))

    def sample(self, n, generator=None):
        eps = torch.randn(n, 2, generator=generator, dtype=torch.float64)
        return self.law.loc + eps @ self.law.scale_tril.T

    def log_likelihood(self, x):
        return protocol.LogLikelihood(self.law.log_prob(x.double()), protocol.EXACT)


def test_measuring_a_collapsed_model_scores_one_mode_and_a_large_gap():
    ring = toy.get("ring")
    test = ring.sample(2000, seed=1).float()
    m = evaluate.measure_toy(_Collapsed(ring), ring, test, nfe=1, threshold=evaluate.level_threshold(ring),
                             timing=False)
    assert m.modes == 1 and m.weakest == 0.0 and m.hq > 0.98  # on the data, but one mode of eight
    assert m.c2st > 0.85 and m.gap.value > 10  # most test points are far out in its tails


def test_level_threshold_is_the_three_sigma_disc_on_the_ring():
    ring = toy.get("ring")
    level = evaluate.level_threshold(ring)
    radius = 0.1 * math.sqrt(2 * math.log(100))  # 1 - exp(-r^2 / 2 s^2) = 0.99
    edge = ring.means[:1] + torch.tensor([[radius, 0.0]], dtype=torch.float64)
    assert abs(float(ring.log_prob(edge)) - level) < 0.1  # the 1% quantile's s.e. is about 0.02 here


def test_spread_is_mean_and_sample_sd():
    assert evaluate.spread([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert evaluate.spread([4.0]) == (4.0, 0.0)


def test_missing_or_foreign_weights_are_named_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m curriculum.comparison train"):
        comparison.load_toy("ring", "gan", 0, root=tmp_path)
    path = store.path_for("ring", "gan", 0, tmp_path)
    store.save(path, {"something": nn.Linear(2, 2)}, {})
    with pytest.raises(ValueError, match="no weights for \\['generator'\\]"):
        comparison.load_toy("ring", "gan", 0, root=tmp_path)
    with pytest.raises(ValueError, match="family must be one of"):
        recipes.recipe("transformer")
    with pytest.raises(ValueError, match="seed must be"):
        store.path_for("ring", "gan", -1)


def test_the_command_trains_and_writes_what_it_is_asked(tmp_path, capsys):
    assert command(["train", "--data", "ring", "--family", "autoregressive", "--seed", "0", "--steps", "2",
                    "--out", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["ring-autoregressive-seed0.pt"]
    assert "ring   autoregressive   seed 0" in capsys.readouterr().out
    model, meta = comparison.load_toy("ring", "autoregressive", 0, root=tmp_path)
    assert meta["steps"] == 2 and meta["batch_size"] == recipes.Budget().batch_size
    for bad in (["train", "--seed", "-1"], ["train", "--steps", "0"], ["train", "--family", "transformer"]):
        with pytest.raises(SystemExit) as exit_info:
            command(bad)
        assert exit_info.value.code == 2


def test_every_shipped_model_is_there_at_the_stated_budget_and_samples():
    budget = recipes.Budget()
    for data in ("ring", "moons"):
        for family in recipes.TOY_FAMILIES:
            for seed in (0, 1, 2):
                model, meta = comparison.load_toy(data, family, seed)
                assert (meta["steps"], meta["batch_size"], meta["hidden"], meta["depth"]) == (
                    budget.steps, budget.batch_size, budget.hidden, budget.depth)
                assert torch.isfinite(protocol.draw(model, 8, seed=0)).all()
    for family in digits.DIGIT_FAMILIES:
        model, meta = comparison.load_digit(family)
        assert meta["steps"] == digits.DIGIT_STEPS
        assert protocol.draw(model, 4, seed=0).shape == (4, 64)
