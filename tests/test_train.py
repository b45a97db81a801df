"""The training loop: learning, determinism, data forms, divergence errors, checkpoints, config validation."""
from __future__ import annotations

import math
import os

import pytest
import torch
from torch import nn

from curriculum import io as cio
from curriculum.train import FitResult, TrainConfig, TrainingDiverged, fit, load_checkpoint, save_checkpoint

W_TRUE = torch.tensor([[2.0], [-1.0], [0.5]])


@pytest.fixture(autouse=True)
def _no_progress_bars(monkeypatch):
    monkeypatch.setenv("CURRICULUM_PROGRESS", "0")


def regression_data(n=512, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = x @ W_TRUE + 0.1 + 0.01 * torch.randn(n, 1, generator=g)
    return x, y


def make_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))


def mse(model, batch):
    x, y = batch
    return (model(x) - y).square().mean()


def noisy_mse(model, batch):
    """Uses the global RNG inside the loss, as diffusion losses do (torch.randn_like)."""
    x, y = batch
    return (model(x + 0.1 * torch.randn_like(x)) - y).square().mean()


# ---------------------------------------------------------------- learning and determinism
def test_fit_reduces_the_loss():
    model = make_model()
    result = fit(model, mse, regression_data(), steps=300, batch_size=64, lr=1e-2)
    assert isinstance(result, FitResult)
    assert result.steps == 300 and len(result.history) == 300
    assert result.final_loss < 0.05 * result.history[0]
    assert result.final_loss == pytest.approx(sum(result.history[-30:]) / 30)
    assert result.seconds > 0 and result.logs == {}
    assert model.training  # mode restored


def test_same_seed_same_history_other_seed_different():
    data = regression_data()
    runs = [fit(make_model(), noisy_mse, data, steps=30, batch_size=32, seed=s).history for s in (0, 0, 1)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_model_mode_is_restored():
    model = make_model().eval()
    fit(model, mse, regression_data(), steps=2)
    assert not model.training


def test_tensor_data_minibatches_cover_each_epoch():
    data = torch.arange(10.0).reshape(10, 1)
    seen = []

    def loss_fn(model, batch):
        assert batch.shape == (4, 1)
        seen.extend(batch[:, 0].tolist())
        return model(batch).mean() * 0 + model.weight.sum() ** 2

    fit(nn.Linear(1, 1), loss_fn, data, steps=5, batch_size=4)
    # 20 draws = two full epochs, each a reshuffled permutation of the 10 rows.
    assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:]) == list(range(10))
    assert seen[:10] != seen[10:]


def test_batch_larger_than_dataset():
    data = torch.randn(5, 3)
    fit(nn.Linear(3, 1), lambda m, b: m(b).square().mean(), data, steps=2, batch_size=12)


def test_tuple_data_keeps_rows_aligned():
    x = torch.arange(20.0).reshape(20, 1)
    labels = torch.arange(20)

    def loss_fn(model, batch):
        xb, yb = batch
        assert yb.dtype == torch.int64 and torch.equal(xb[:, 0].long(), yb)
        return model(xb).square().mean()

    result = fit(nn.Linear(1, 1), loss_fn, (x, labels), steps=6, batch_size=8)
    assert len(result.history) == 6


def test_callable_data_gets_batch_size_and_a_seeded_generator():
    calls = []

    def sample_batch(batch_size, generator):
        assert isinstance(generator, torch.Generator)
        x = torch.randn(batch_size, 3, generator=generator)
        calls.append(x)
        return x, x @ W_TRUE

    a = fit(make_model(), mse, sample_batch, steps=50, batch_size=16, lr=1e-2)
    assert len(calls) == 50 and calls[0].shape == (16, 3)
    b = fit(make_model(), mse, sample_batch, steps=50, batch_size=16, lr=1e-2)
    assert a.history == b.history
    assert torch.equal(calls[0], calls[50])
    assert a.final_loss < a.history[0]


def test_dict_losses_are_logged():
    def loss_fn(model, batch):
        x, y = batch
        err = (model(x) - y).square().mean()
        reg = sum(p.square().sum() for p in model.parameters())
        return {"loss": err + 1e-3 * reg, "mse": err, "reg": reg.item()}

    result = fit(make_model(), loss_fn, regression_data(), steps=12, batch_size=32)
    assert set(result.logs) == {"mse", "reg"}
    assert len(result.logs["mse"]) == len(result.logs["reg"]) == 12
    assert all(isinstance(v, float) for v in result.logs["mse"])
    assert result.history[0] == pytest.approx(result.logs["mse"][0] + 1e-3 * result.logs["reg"][0], rel=1e-5)


def test_config_and_overrides():
    config = TrainConfig(steps=3, batch_size=8)
    assert len(fit(make_model(), mse, regression_data(), config).history) == 3
    assert len(fit(make_model(), mse, regression_data(), config, steps=5).history) == 5
    with pytest.raises(TypeError, match="steps"):
        fit(make_model(), mse, regression_data())
    with pytest.raises(TypeError, match="learning_rate"):
        fit(make_model(), mse, regression_data(), config, learning_rate=0.1)


def test_custom_optimizer_and_grad_clip():
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    result = fit(model, mse, regression_data(), steps=100, batch_size=64, optimizer=opt, grad_clip=1.0)
    assert result.final_loss < result.history[0]
    assert opt.state_dict()["param_groups"][0]["lr"] == 0.05
    with pytest.raises(TypeError, match="optimizer"):
        fit(make_model(), mse, regression_data(), steps=1, optimizer="adam")


def test_cosine_lr_schedule_anneals_every_group_to_zero():
    model = make_model()
    opt = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.1},
                           {"params": model[2].parameters(), "lr": 0.02}])
    seen = []

    def recording_mse(m, batch):
        seen.append([group["lr"] for group in opt.param_groups])
        return mse(m, batch)

    steps = 8
    fit(model, recording_mse, regression_data(), steps=steps, batch_size=32, optimizer=opt, lr_schedule="cosine")
    for k, lrs in enumerate(seen, start=1):
        factor = (1 + math.cos(math.pi * (k - 1) / steps)) / 2  # lr_k = lr_0 (1 + cos(pi (k-1)/K)) / 2
        assert lrs == pytest.approx([0.1 * factor, 0.02 * factor], rel=1e-12)
    assert seen[0] == [0.1, 0.02]
    assert 0 < seen[-1][0] < 0.1 * 0.05  # the last step runs at a small but non-zero rate


def test_constant_lr_schedule_leaves_the_rate_alone():
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    seen = []

    def recording_mse(m, batch):
        seen.append(opt.param_groups[0]["lr"])
        return mse(m, batch)

    fit(model, recording_mse, regression_data(), steps=3, batch_size=32, optimizer=opt)
    assert seen == [0.3, 0.3, 0.3]


def test_progress_bar_shows_the_running_loss(capsys):
    import time

    def slow_mse(model, batch):
        time.sleep(0.02)  # slow enough for tqdm to redraw (it redraws at most every 0.1 s)
        return mse(model, batch)

    fit(make_model(), slow_mse, regression_data(), steps=15, batch_size=32, progress=True, log_every=2)
    assert "loss=" in capsys.readouterr().err


def test_progress_can_be_switched_off(capsys):
    fit(make_model(), mse, regression_data(), steps=5, batch_size=32)  # CURRICULUM_PROGRESS=0 (fixture)
    fit(make_model(), mse, regression_data(), steps=5, batch_size=32, progress=False)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- divergence
def test_exploding_learning_rate_raises_training_diverged():
    model = nn.Linear(3, 1)
    sgd = torch.optim.SGD(model.parameters(), lr=1e6)  # each step multiplies the weights by ~1e6: inf in a few
    with pytest.raises(TrainingDiverged) as info:
        fit(model, mse, regression_data(), steps=100, batch_size=64, optimizer=sgd)
    err = info.value
    message = str(err)
    assert isinstance(err, RuntimeError)
    assert f"step {err.step}" in message and "learning rate" in message and "lr=1e+06" in message
    assert "grad_clip" in message and "normalis" in message
    assert len(err.history) == err.step - 1 and not math.isfinite(err.value)


def test_nan_at_step_3_names_the_step():
    calls = 0

    def loss_fn(model, batch):
        nonlocal calls
        calls += 1
        loss = mse(model, batch)
        return loss * float("nan") if calls == 3 else loss

    with pytest.raises(TrainingDiverged, match=r"step 3 of 10.*learning rate \(currently lr=0\.001"):
        fit(make_model(), loss_fn, regression_data(), steps=10, batch_size=16)
    assert calls == 3


def test_non_finite_logged_value_raises():
    def loss_fn(model, batch):
        return {"loss": mse(model, batch), "kl": torch.tensor(float("inf"))}

    with pytest.raises(TrainingDiverged, match="'kl'") as info:
        fit(make_model(), loss_fn, regression_data(), steps=5, batch_size=16)
    assert info.value.step == 1 and info.value.name == "kl"


def test_bad_loss_outputs_raise_clearly():
    data = regression_data()
    with pytest.raises(ValueError, match="'loss'"):
        fit(make_model(), lambda m, b: {"nll": mse(m, b)}, data, steps=1)
    with pytest.raises(ValueError, match="scalar"):
        fit(make_model(), lambda m, b: (m(b[0]) - b[1]).square(), data, steps=1)
    with pytest.raises(ValueError, match="grad"):
        fit(make_model(), lambda m, b: mse(m, b).detach(), data, steps=1)
    with pytest.raises(TypeError, match="data"):
        fit(make_model(), mse, [1, 2, 3], steps=1)
    with pytest.raises(ValueError, match="first dimension"):
        fit(make_model(), mse, (torch.zeros(5, 3), torch.zeros(4, 1)), steps=1)


# ---------------------------------------------------------------- checkpoints
def _trained(steps=5):
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    fit(model, mse, regression_data(), steps=steps, batch_size=32, optimizer=opt)
    return model, opt


def test_checkpoint_round_trip(tmp_path):
    model, opt = _trained()
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, model, opt, step=5, extra={"note": "toy", "loss": 0.5, "history": [1.0, 0.5]})
    raw = torch.load(path, weights_only=True)  # safe loading works
    assert raw["step"] == 5

    fresh = make_model(seed=123)
    fresh_opt = torch.optim.Adam(fresh.parameters(), lr=1e-2)
    meta = load_checkpoint(path, fresh, fresh_opt)
    assert meta == {"step": 5, "extra": {"note": "toy", "loss": 0.5, "history": [1.0, 0.5]}}
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)
    s1, s2 = opt.state_dict(), fresh_opt.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    for k in s1["state"]:
        for name in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(s1["state"][k][name], s2["state"][k][name])
    # Training on from both gives the same numbers: the optimiser state really was restored.
    a = fit(model, mse, regression_data(), steps=3, optimizer=opt, seed=7).history
    b = fit(fresh, mse, regression_data(), steps=3, optimizer=fresh_opt, seed=7).history
    assert a == b


def test_checkpoint_rejects_unsafe_extras_and_missing_optimizer_state(tmp_path):
    model, opt = _trained(1)
    with pytest.raises(TypeError, match="extra"):
        save_checkpoint(tmp_path / "c.pt", model, extra={"fn": print})
    save_checkpoint(tmp_path / "c.pt", model)
    with pytest.raises(ValueError, match="optimizer"):
        load_checkpoint(tmp_path / "c.pt", make_model(), opt)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt", model)


class Killed(BaseException):
    """Stands in for a kill or a power cut: not an ``Exception``, so no ``except Exception`` swallows it."""


def test_interrupted_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    model, opt = _trained()
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, model, opt, step=1)
    before = path.read_bytes()
    real_fdopen = os.fdopen
    written = []

    class HalfWriter:
        """The file handle of the write: half the bytes reach the disk, then the process dies."""

        def __init__(self, fd, mode):
            self.handle = real_fdopen(fd, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, payload):
            self.handle.write(payload[: len(payload) // 2])
            self.handle.flush()
            written.append(len(payload) // 2)
            raise Killed("killed mid-write")

    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    with monkeypatch.context() as patch:
        patch.setattr(cio.os, "fdopen", HalfWriter)
        with pytest.raises(Killed):
            save_checkpoint(path, model, opt, step=2)
    assert written and written[0] > 0  # the new checkpoint really was half-written somewhere
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # and that temp file was removed
    assert load_checkpoint(path, make_model())["step"] == 1


def test_fit_writes_checkpoints(tmp_path):
    path = tmp_path / "run" / "ckpt.pt"
    seen = []

    def loss_fn(model, batch):  # records the step of the checkpoint on disk before each step
        seen.append(cio.load_torch(path)["step"] if path.exists() else None)
        return mse(model, batch)

    result = fit(make_model(), loss_fn, regression_data(), steps=10, batch_size=16, checkpoint_path=path,
                 checkpoint_every=4)
    assert seen == [None] * 4 + [4] * 4 + [8] * 2
    meta = load_checkpoint(path, make_model(seed=9), torch.optim.Adam(make_model().parameters()))
    assert meta["step"] == 10 and meta["extra"]["history"] == result.history
    with pytest.raises(ValueError, match="checkpoint_path"):
        fit(make_model(), mse, regression_data(), steps=2, checkpoint_every=1)


# ---------------------------------------------------------------- config validation
@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 2.5}, TypeError, "steps"),
        ({"steps": 10, "batch_size": -1}, ValueError, "batch_size"),
        ({"steps": 10, "lr": 0.0}, ValueError, "lr"),
        ({"steps": 10, "lr": -1e-3}, ValueError, "lr"),
        ({"steps": 10, "lr": float("nan")}, ValueError, "lr"),
        ({"steps": 10, "weight_decay": -0.1}, ValueError, "weight_decay"),
        ({"steps": 10, "grad_clip": 0.0}, ValueError, "grad_clip"),
        ({"steps": 10, "seed": -1}, ValueError, "seed"),
        ({"steps": 10, "device": "tpu"}, ValueError, "device"),
        ({"steps": 10, "log_every": 0}, ValueError, "log_every"),
        ({"steps": 10, "lr_schedule": "linear"}, ValueError, "lr_schedule"),
        ({"steps": 10, "progress": "yes"}, TypeError, "progress"),
    ],
)
def test_bad_config_values_raise(kwargs, error, name):
    with pytest.raises(error, match=name):
        TrainConfig(**kwargs)
    with pytest.raises(error, match=name):
        fit(make_model(), mse, regression_data(), **kwargs)


def test_cuda_when_absent_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="cuda"):
        fit(make_model(), mse, regression_data(), steps=1, device="cuda")
