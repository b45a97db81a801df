"""Bad input gets an error that names the argument and says what was expected (not a torch internal), and each
function's choice about NaN input is deliberate: refused where a NaN can only mean a bug upstream, propagated
where checking would cost every training step a device sync (the training loop reports divergence instead)."""
from __future__ import annotations

import math

import pytest
import torch

from curriculum import checks, gaussians, metrics, plots, runtime, toy, train

DEVICE_MESSAGE = r"device must be 'cpu', 'cuda', 'cuda:N' \(a GPU index\), 'auto' or a torch.device; got 'gpu'"


@pytest.mark.parametrize("call", [
    lambda: runtime.generator(0, device="gpu"),
    lambda: runtime.setup(0, device="gpu"),
    lambda: plots.density_heatmap(toy.get("ring").log_prob, device="gpu"),
    lambda: train.TrainConfig(steps=1, device="gpu"),
], ids=["generator", "setup", "density_heatmap", "TrainConfig"])
def test_an_unknown_device_name_is_named_with_the_forms_that_work(call):
    with pytest.raises(ValueError, match=DEVICE_MESSAGE):
        call()


def test_any_cpu_or_cuda_device_form_is_accepted_and_a_missing_gpu_is_said_plainly():
    assert runtime.setup(0, torch.device("cpu")) == torch.device("cpu")
    assert runtime.pick_device("cpu") == torch.device("cpu")
    assert checks.check_device("cuda:1") == torch.device("cuda", 1)
    if torch.cuda.device_count() < 2:
        with pytest.raises(RuntimeError, match=r"device='cuda:1' was asked for but torch sees"):
            runtime.setup(0, "cuda:1")
    with pytest.raises(TypeError, match="device must be"):
        runtime.pick_device(3)
    with pytest.raises(ValueError, match="the course runs on the CPU or a CUDA GPU"):
        runtime.pick_device("meta")


def test_a_wrong_number_of_dimensions_is_said_with_an_example_shape():
    with pytest.raises(ValueError, match=r"log_prob must have shape \(N,\) \(1 dimension\), got \(3, 2\)"):
        checks.check_tensor(torch.zeros(3, 2), "log_prob", ndim=1)
    with pytest.raises(ValueError, match=r"log_prob must have shape \(N,\) \(1 dimension\)"):
        metrics.nll(torch.zeros(3, 2))


@pytest.mark.parametrize("data, what", [
    (torch.zeros(10, 3, dtype=torch.long), r"shape \(8, 3\) and dtype torch.int64"),
    (torch.zeros(10, 4), r"shape \(8, 4\)"),
], ids=["integer data", "wrong width"])
def test_fit_explains_data_the_model_cannot_take(data, what):
    model = torch.nn.Linear(3, 1)
    with pytest.raises(RuntimeError, match=rf"failed on the first batch, a tensor of {what}.*Check that the data"):
        train.fit(model, lambda m, batch: m(batch).pow(2).mean(), data, steps=2, batch_size=8, progress=False)


@pytest.mark.parametrize("call", [
    lambda x: toy.get("ring").log_prob(x),
    lambda x: toy.two_gaussians_1d().log_prob(x[:, 0]),
    lambda x: gaussians.Gaussian(torch.zeros(2), torch.eye(2)).log_prob(x),
], ids=["toy 2-D", "toy 1-D", "gaussian"])
def test_reference_densities_refuse_nan_points_but_give_zero_density_at_infinity(call):
    with pytest.raises(ValueError, match="x contains 1 NaN entries; a density at NaN is undefined"):
        call(torch.tensor([[math.nan, 0.0], [0.0, 0.0]]))
    assert torch.isneginf(call(torch.tensor([[math.inf, 0.0]]))).all()


def test_image_sharpness_refuses_diverged_samples():
    with pytest.raises(ValueError, match="images contains 64 NaN or infinite entries"):
        metrics.image_sharpness(torch.full((1, 1, 8, 8), math.nan))


def test_the_gaussian_kl_propagates_nan_for_the_training_loop_to_report():
    kl = gaussians.kl_standard_normal(torch.tensor([[math.nan, 0.0]]), torch.zeros(1, 2))
    assert torch.isnan(kl).all()
    model = torch.nn.Linear(2, 2)

    def loss_fn(m, batch):
        mu = m(batch) * math.nan
        return gaussians.kl_standard_normal(mu, torch.zeros_like(mu)).mean()

    with pytest.raises(train.TrainingDiverged, match="training diverged at step 1"):
        train.fit(model, loss_fn, torch.randn(16, 2), steps=3, batch_size=4, progress=False)


def test_diffusion_errors_name_the_real_cause():
    from curriculum import diffusion as diff

    with pytest.raises(ValueError, match=r"T=10 is too small for the default linear schedule.*use T >= 21"):
        diff.linear_schedule(10)
    assert diff.linear_schedule(21).betas[-1] < 1  # the smallest T the message names works
    with pytest.raises(ValueError, match=r"beta_start and beta_end must be below 1, got 0.1 and 1.5"):
        diff.linear_schedule(100, beta_start=0.1, beta_end=1.5)
    schedule = diff.linear_schedule(50)
    x_T = torch.randn(4, 2)
    x_T[1, 0] = math.nan
    with pytest.raises(ValueError, match="x_T contains 1 NaN or infinite entries; start the sampler from finite"):
        diff.ddim_sample(lambda x, t: torch.zeros_like(x), schedule, x_T, 5)
    with pytest.raises(ValueError, match="x_T contains 1 NaN"):
        diff.ddpm_sample(lambda x, t: torch.zeros_like(x), schedule, x_T, 5)
    x0 = torch.tensor([[math.nan, 0.0]])  # q_sample propagates NaN: the training loop reports it
    assert torch.isnan(diff.q_sample(schedule, x0, torch.tensor([3]), torch.zeros(1, 2))[0, 0])
