"""Fixed-step ODE solvers against ODEs with known solutions."""
from __future__ import annotations

import math

import pytest
import torch

from curriculum.ode import METHODS, NFE_PER_STEP, ORDER, nfe, odeint

F64 = torch.float64
ROTATION = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=F64)  # dx/dt = A x rotates x at unit speed


def decay(x, t):
    return -x


def rotate(x, t):
    return x @ ROTATION.T


def rotation_exact(x0, t):
    c, s = math.cos(t), math.sin(t)
    return x0 @ torch.tensor([[c, -s], [s, c]], dtype=F64).T


def test_decay_matches_exp():
    x0 = torch.tensor([[1.0], [-2.0], [0.5]], dtype=F64)
    tolerances = {"euler": 1e-2, "midpoint": 1e-4, "heun": 1e-4, "rk4": 1e-9}
    for method, tol in tolerances.items():
        x1 = odeint(decay, x0, 0.0, 1.0, steps=100, method=method)
        assert torch.allclose(x1, x0 * math.exp(-1.0), atol=tol, rtol=0), method


def test_rotation_matches_exact_and_keeps_the_radius():
    x0 = torch.randn(16, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    x1 = odeint(rotate, x0, 0.0, 2 * math.pi, steps=200, method="rk4")
    assert torch.allclose(x1, rotation_exact(x0, 2 * math.pi), atol=1e-8)
    assert torch.allclose(x1.norm(dim=1), x0.norm(dim=1), atol=1e-8)


@pytest.mark.parametrize("method, coarse", [("euler", 40), ("midpoint", 20), ("heun", 20), ("rk4", 10)])
@pytest.mark.parametrize("problem", ["decay", "rotation"])
def test_convergence_order(method, coarse, problem):
    """Halving the step divides the global error by 2^p: 2, 4, 4, 16 for Euler, midpoint, Heun, RK4."""
    x0 = torch.tensor([[1.0, 0.5], [-0.3, 2.0]], dtype=F64)
    f, exact = (decay, x0 * math.exp(-2.0)) if problem == "decay" else (rotate, rotation_exact(x0, 2.0))
    err = [(odeint(f, x0, 0.0, 2.0, steps=n, method=method) - exact).abs().max().item() for n in (coarse, 2 * coarse)]
    measured_order = math.log2(err[0] / err[1])
    assert abs(measured_order - ORDER[method]) < 0.25, (method, err, measured_order)


def test_forward_then_backward_returns_to_x0():
    x0 = torch.randn(8, 2, dtype=F64, generator=torch.Generator().manual_seed(1))

    def f(x, t):  # non-linear and time-dependent, so this is not trivially reversible
        return torch.tanh(x @ ROTATION.T) * (1.0 + t[:, None])

    x1 = odeint(f, x0, 0.0, 1.0, steps=200, method="rk4")
    back = odeint(f, x1, 1.0, 0.0, steps=200, method="rk4")
    assert not torch.allclose(x1, x0, atol=1e-2)
    assert torch.allclose(back, x0, atol=1e-10)


def test_time_argument_is_a_batch_vector_with_the_right_values():
    x0 = torch.zeros(5, 3, dtype=F64)
    seen = []

    def f(x, t):
        assert t.shape == (5,) and t.dtype == F64 and t.device == x.device
        assert torch.all(t == t[0])
        seen.append(float(t[0]))
        return torch.ones_like(x)

    odeint(f, x0, 0.5, 1.5, steps=4, method="heun")
    assert seen == pytest.approx([0.5, 0.75, 0.75, 1.0, 1.0, 1.25, 1.25, 1.5])
    seen.clear()
    odeint(f, x0, 1.0, 0.0, steps=2, method="rk4")  # backwards
    assert seen == pytest.approx([1.0, 0.75, 0.75, 0.5, 0.5, 0.25, 0.25, 0.0])


def test_dx_dt_depending_on_time():
    """dx/dt = 2t gives x(1) = x0 + 1; Heun and RK4 are exact for polynomials of low degree."""
    x0 = torch.zeros(3, 1, dtype=F64)
    for method in ("heun", "rk4"):
        x1 = odeint(lambda x, t: 2 * t[:, None].expand_as(x), x0, steps=3, method=method)
        assert torch.allclose(x1, x0 + 1.0, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_nfe_counts_the_calls(method):
    calls = 0

    def f(x, t):
        nonlocal calls
        calls += 1
        return -x

    odeint(f, torch.ones(2, 2), steps=7, method=method)
    assert calls == nfe(method, 7) == NFE_PER_STEP[method] * 7
    assert nfe("euler", 10) == 10 and nfe("midpoint", 10) == 20 and nfe("heun", 10) == 20 and nfe("rk4", 10) == 40


def test_image_shapes_float32_and_path():
    x0 = torch.randn(4, 1, 8, 8)
    path = odeint(decay, x0, steps=10, method="rk4", return_path=True)
    assert path.shape == (11, 4, 1, 8, 8) and path.dtype == torch.float32
    assert torch.equal(path[0], x0)
    assert torch.allclose(path[-1], x0 * math.exp(-1.0), atol=1e-5)
    assert torch.equal(path[-1], odeint(decay, x0, steps=10, method="rk4"))


def test_float64_stays_float64():
    x0 = torch.randn(3, 2, 4, 4, dtype=F64)
    assert odeint(decay, x0, steps=3, method="heun").dtype == F64


def test_gradients_flow_through_the_solver():
    x0 = torch.ones(2, 2, dtype=F64, requires_grad=True)
    odeint(decay, x0, steps=50, method="rk4").sum().backward()
    assert torch.allclose(x0.grad, torch.full_like(x0, math.exp(-1.0)), atol=1e-8)


def test_bad_inputs_raise_clearly():
    x0 = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="steps"):
        odeint(decay, x0, steps=0)
    with pytest.raises(TypeError, match="steps"):
        odeint(decay, x0, steps=2.5)
    with pytest.raises(ValueError, match="method"):
        odeint(decay, x0, method="leapfrog")
    with pytest.raises(ValueError, match="f must return"):
        odeint(lambda x, t: x[:, :1], x0)
    with pytest.raises(TypeError, match="f must return"):
        odeint(lambda x, t: 1.0, x0)
    with pytest.raises(TypeError, match="f must be callable"):
        odeint("not a function", x0)
    with pytest.raises(TypeError, match="x0"):
        odeint(decay, [[0.0, 0.0]])
    with pytest.raises(TypeError, match="x0"):
        odeint(decay, torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="x0"):
        odeint(decay, torch.tensor(1.0))
    with pytest.raises(ValueError, match="t1"):
        odeint(decay, x0, t1=float("nan"))
    with pytest.raises(ValueError, match="method"):
        nfe("rk45", 10)
