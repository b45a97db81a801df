"""The one training loop of the course: ``fit(model, loss_fn, data, config)``.

Every notebook trains through ``fit`` so that every run has the same guarantees:

- **reproducible**: the minibatch order comes from a generator seeded with ``config.seed``, and the global RNGs
  (Python, NumPy, torch) are seeded with it too, so noise drawn inside ``loss_fn`` (``torch.randn_like``) repeats.
  Two fits of identically initialised models with the same seed give identical histories (on the CPU).
- **loud about divergence**: a NaN or infinite loss (or logged value) stops the run at once with
  ``TrainingDiverged``, saying which step, which value, and what to try.
- **checkpointed safely**: ``save_checkpoint`` writes atomically (a crash mid-write keeps the old file) and
  ``load_checkpoint`` reads with ``weights_only=True``.

``loss_fn(model, batch)`` returns a scalar tensor, or a dict with the scalar under ``"loss"`` and any other
scalars to log (e.g. ``{"loss": nll + kl, "nll": nll, "kl": kl}``). The model does not know about the loss; the
loss does not know about the optimiser.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Union

import torch
from torch import nn

from .checks import check_choice, check_nonnegative_int, check_positive_float, check_positive_int
from .io import load_torch, save_torch
from .runtime import pick_device, progress, seed_everything

__all__ = [
    "TrainConfig",
    "FitResult",
    "TrainingDiverged",
    "fit",
    "save_checkpoint",
    "load_checkpoint",
]

Batch = Union[torch.Tensor, tuple, list, dict]
LossOutput = Union[torch.Tensor, Mapping[str, torch.Tensor]]
DEVICES = ("cpu", "cuda", "auto")
LR_SCHEDULES = ("constant", "cosine")


# --------------------------------------------------------------------------------------------------------------
# Configuration and results
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig:
    """What ``fit`` needs to know besides the model, the loss and the data.

    ``lr`` and ``weight_decay`` configure the default Adam optimiser (ignored when ``fit`` is given
    ``optimizer=``). ``lr_schedule``: ``"constant"``, or ``"cosine"`` to anneal every parameter group's
    learning rate from its initial value to 0 over the run, ``lr_k = lr_0 (1 + cos(pi (k - 1) / steps)) / 2``
    at step ``k`` (applies to a given optimizer too). ``grad_clip`` clips the global gradient norm when set. ``device`` is passed to
    ``runtime.pick_device`` (``"cpu"``, ``"cuda"`` or ``"auto"``). ``log_every``: steps between updates of the
    running loss shown on the progress bar. ``progress``: ``None`` follows ``CURRICULUM_PROGRESS``; ``True`` or
    ``False`` forces the bar on or off.
    """

    steps: int
    batch_size: int = 256
    lr: float = 1e-3
    lr_schedule: str = "constant"
    weight_decay: float = 0.0
    grad_clip: float | None = None
    seed: int = 0
    device: str = "cpu"
    log_every: int = 10
    progress: bool | None = None

    def __post_init__(self) -> None:
        check_positive_int(self.steps, "steps")
        check_positive_int(self.batch_size, "batch_size")
        check_positive_float(self.lr, "lr")
        check_choice(self.lr_schedule, "lr_schedule", LR_SCHEDULES)
        if isinstance(self.weight_decay, bool) or not isinstance(self.weight_decay, (int, float)):
            raise TypeError(f"weight_decay must be a non-negative number, got {self.weight_decay!r}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be a non-negative finite number, got {self.weight_decay}")
        if self.grad_clip is not None:
            check_positive_float(self.grad_clip, "grad_clip")
        check_nonnegative_int(self.seed, "seed")
        check_choice(self.device, "device", DEVICES)
        check_positive_int(self.log_every, "log_every")
        if self.progress is not None and not isinstance(self.progress, bool):
            raise TypeError(f"progress must be None, True or False, got {self.progress!r}")


@dataclass
class FitResult:
    """What a run produced: ``history[k]`` is the loss of step ``k + 1``; ``logs[name][k]`` likewise for each
    extra value returned by ``loss_fn``; ``final_loss`` is the mean over the last 10% of steps (at least one),
    a less noisy summary than the last value; ``seconds`` is the wall-clock time of the loop."""

    history: list[float]
    steps: int
    seconds: float
    final_loss: float
    logs: dict[str, list[float]] = field(default_factory=dict)


class TrainingDiverged(RuntimeError):
    """The loss (or a logged value) became NaN or infinite. ``step`` is 1-based; ``history`` holds the losses of
    the steps before it."""

    def __init__(self, message: str, *, step: int, name: str, value: float, history: list[float]) -> None:
        super().__init__(message)
        self.step = step
        self.name = name
        self.value = value
        self.history = history


def _final_loss(history: Sequence[float]) -> float:
    tail = max(1, math.ceil(0.1 * len(history)))
    return float(sum(history[-tail:]) / tail)


# --------------------------------------------------------------------------------------------------------------
# Data: tensors, tuples of tensors, or a sampler
# --------------------------------------------------------------------------------------------------------------
class _MinibatchStream:
    """Minibatches of a dataset of ``N`` rows: indices run through one random permutation of ``0..N-1`` after
    another (reshuffled each epoch), ``batch_size`` at a time; a batch may straddle two epochs, so every batch
    has exactly ``batch_size`` rows, also when ``batch_size > N``."""

    def __init__(self, tensors: tuple[torch.Tensor, ...], batch_size: int, generator: torch.Generator) -> None:
        self.tensors = tensors
        self.n = tensors[0].shape[0]
        self.batch_size = batch_size
        self.generator = generator
        self.order = torch.empty(0, dtype=torch.long)

    def next(self) -> tuple[torch.Tensor, ...]:
        while self.order.numel() < self.batch_size:
            self.order = torch.cat([self.order, torch.randperm(self.n, generator=self.generator)])
        idx, self.order = self.order[: self.batch_size], self.order[self.batch_size:]
        return tuple(t[idx.to(t.device)] for t in self.tensors)


def _make_sampler(data: object, batch_size: int, generator: torch.Generator) -> Callable[[], Batch]:
    if isinstance(data, torch.Tensor):
        if data.ndim < 1 or data.shape[0] == 0:
            raise ValueError(f"data must be a tensor of shape (N, ...) with N >= 1, got {tuple(data.shape)}")
        stream = _MinibatchStream((data,), batch_size, generator)
        return lambda: stream.next()[0]
    if isinstance(data, (tuple, list)):
        if not data or not all(isinstance(d, torch.Tensor) for d in data):
            raise TypeError("data must be a tensor, a non-empty tuple of tensors, or a callable "
                            "sample_batch(batch_size, generator); got a tuple/list with non-tensor entries")
        sizes = [d.shape[0] if d.ndim else None for d in data]
        if None in sizes or len(set(sizes)) != 1 or sizes[0] == 0:
            shapes = ", ".join(str(tuple(d.shape)) for d in data)
            raise ValueError(f"data tensors must share the same first dimension N >= 1, got shapes {shapes}")
        stream = _MinibatchStream(tuple(data), batch_size, generator)
        return stream.next
    if callable(data):
        return lambda: data(batch_size, generator)
    raise TypeError(f"data must be a tensor (N, ...), a tuple of tensors with the same N, or a callable "
                    f"sample_batch(batch_size, generator); got {type(data).__name__}")


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, tuple):
        return tuple(_to_device(b, device) for b in batch)
    if isinstance(batch, list):
        return [_to_device(b, device) for b in batch]
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


def _split_loss(out: object) -> tuple[torch.Tensor, dict[str, torch.Tensor | float]]:
    """``loss_fn``'s output as (scalar loss tensor, other values to log)."""
    if isinstance(out, Mapping):
        if "loss" not in out:
            raise ValueError(f"loss_fn returned a dict without the key 'loss' (keys: {sorted(out)}); "
                             f"put the scalar to minimise under 'loss'")
        loss, extra = out["loss"], {k: v for k, v in out.items() if k != "loss"}
    else:
        loss, extra = out, {}
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        what = type(loss).__name__ if not isinstance(loss, torch.Tensor) else f"a tensor of shape {tuple(loss.shape)}"
        raise ValueError(f"loss_fn must return a scalar tensor (or a dict with one under 'loss'), got {what}")
    if not loss.requires_grad:
        raise ValueError("loss_fn returned a loss that does not require grad: it must be computed from the "
                         "model's parameters (was it computed under torch.no_grad() or detached?)")
    return loss.reshape(()), extra


def _as_float(value: object, name: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"loss_fn's logged value {name!r} must be a scalar, got shape {tuple(value.shape)}")
        return float(value.detach())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"loss_fn's logged value {name!r} must be a number or a scalar tensor, "
                    f"got {type(value).__name__}")


def _divergence_message(step: int, steps: int, name: str, value: float, lr: float, grad_clip: float | None,
                        history: list[float]) -> str:
    last = f" (last finite loss {history[-1]:.4g} at step {step - 1})" if history else ""
    clip = (f"set grad_clip (e.g. grad_clip=1.0) to cap the gradient norm" if grad_clip is None
            else f"lower grad_clip (currently {grad_clip:g})")
    return (f"training diverged at step {step} of {steps}: {name} is {value}{last}. Things to try: "
            f"lower the learning rate (currently lr={lr:g}; try lr={lr / 10:g}); {clip}; "
            f"check the data scale/normalisation (inputs of order 1, e.g. standardised to zero mean and unit "
            f"variance) and that the loss cannot take log(0) or divide by zero.")


# --------------------------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------------------------
def fit(
    model: nn.Module,
    loss_fn: Callable[[nn.Module, Any], LossOutput],
    data: torch.Tensor | Sequence[torch.Tensor] | Callable[[int, torch.Generator], Any],
    config: TrainConfig | None = None,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    **overrides: Any,
) -> FitResult:
    """Train ``model`` for ``config.steps`` steps of ``loss_fn`` on minibatches of ``data``; return the history.

    ``data``: a tensor ``(N, ...)``, a tuple of tensors sharing ``N`` (e.g. images and labels; the batch is then
    a tuple), or a callable ``sample_batch(batch_size, generator) -> batch`` (the generator is a seeded CPU
    ``torch.Generator``; sample on the CPU and ``fit`` moves the batch). ``overrides`` replace fields of
    ``config`` (``fit(model, loss_fn, x, steps=500, lr=3e-4)``). ``optimizer``: defaults to
    ``Adam(lr, weight_decay)``; pass one to use another, or to continue a previous run with its state.
    ``checkpoint_path``: save model, optimiser, step and history there every ``checkpoint_every`` steps (if
    given) and at the end.

    The model is moved to ``pick_device(config.device)``; its train/eval mode is restored afterwards.
    Raises ``TrainingDiverged`` as soon as the loss or a logged value is NaN or infinite.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable as loss_fn(model, batch), got {type(loss_fn).__name__}")
    known = [f.name for f in fields(TrainConfig)]
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise TypeError(f"unknown fit argument(s) {unknown}; the TrainConfig fields are {known}")
    if config is None:
        if "steps" not in overrides:
            raise TypeError("fit needs the number of steps: pass config=TrainConfig(steps=...) or steps=...")
        config = TrainConfig(**overrides)
    elif not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig or None, got {type(config).__name__}")
    elif overrides:
        config = replace(config, **overrides)
    if checkpoint_every is not None:
        check_positive_int(checkpoint_every, "checkpoint_every")
        if checkpoint_path is None:
            raise ValueError("checkpoint_every was given without checkpoint_path; pass checkpoint_path=...")

    device = pick_device(config.device)
    seed_everything(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    sample = _make_sampler(data, config.batch_size, generator)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters (all have requires_grad=False)")
    if optimizer is None:
        optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    elif not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")

    base_lrs = [group["lr"] for group in optimizer.param_groups]
    history: list[float] = []
    logs: dict[str, list[float]] = {}
    was_training = model.training
    model.train()
    steps_iter = progress(range(1, config.steps + 1), total=config.steps, desc="fit", enabled=config.progress)
    bar = steps_iter if hasattr(steps_iter, "set_postfix") else None  # a tqdm bar, or a plain range
    start = time.perf_counter()
    try:
        for step in steps_iter:
            if config.lr_schedule == "cosine":
                factor = 0.5 * (1.0 + math.cos(math.pi * (step - 1) / config.steps))  # 1 at step 1, -> 0 at the end
                for group, base in zip(optimizer.param_groups, base_lrs):
                    group["lr"] = base * factor
            batch = _to_device(sample(), device)
            loss, extra = _split_loss(loss_fn(model, batch))
            value = float(loss.detach())
            current_lr = optimizer.param_groups[0]["lr"]
            if not math.isfinite(value):
                raise TrainingDiverged(
                    _divergence_message(step, config.steps, "the loss", value, current_lr, config.grad_clip, history),
                    step=step, name="loss", value=value, history=list(history))
            extra_values = {name: _as_float(v, name) for name, v in extra.items()}
            for name, v in extra_values.items():
                if not math.isfinite(v):
                    raise TrainingDiverged(
                        _divergence_message(step, config.steps, f"the logged value {name!r}", v, current_lr,
                                            config.grad_clip, history),
                        step=step, name=name, value=v, history=list(history))

            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip is not None:
                nn.utils.clip_grad_norm_(params, config.grad_clip)
            optimizer.step()

            history.append(value)
            for name, v in extra_values.items():
                logs.setdefault(name, []).append(v)
            if bar is not None and (step % config.log_every == 0 or step == config.steps):
                recent = history[-config.log_every:]
                bar.set_postfix(loss=f"{sum(recent) / len(recent):.4f}", refresh=False)
            if checkpoint_path is not None and checkpoint_every is not None and step % checkpoint_every == 0:
                save_checkpoint(checkpoint_path, model, optimizer, step=step, extra={"history": history})
    finally:
        close = getattr(steps_iter, "close", None)
        if close is not None:
            close()
        model.train(was_training)
    seconds = time.perf_counter() - start
    if checkpoint_path is not None:
        save_checkpoint(checkpoint_path, model, optimizer, step=config.steps, extra={"history": history})
    return FitResult(history=history, steps=config.steps, seconds=seconds, final_loss=_final_loss(history),
                     logs=logs)


# --------------------------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------------------------
_PLAIN = (bool, int, float, str, type(None))


def _check_plain(value: object, where: str) -> None:
    """Only what ``torch.load(weights_only=True)`` accepts: tensors, numbers, strings, None and containers."""
    if isinstance(value, (_PLAIN, torch.Tensor)):
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f"{where} has a key of type {type(k).__name__}; use str or int keys")
            _check_plain(v, f"{where}[{k!r}]")
        return
    raise TypeError(f"{where} is a {type(value).__name__}; checkpoints hold only tensors, numbers, strings, None "
                    f"and lists/dicts of those (so they load with weights_only=True)")


def save_checkpoint(path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    step: int = 0, extra: Mapping[str, Any] | None = None) -> None:
    """Save ``{"model": state_dict, "optimizer": state_dict or None, "step": step, "extra": extra}`` atomically.

    The file is written to a temporary file and renamed over ``path``: a crash mid-write leaves any previous
    checkpoint intact. ``extra`` may hold numbers, strings, tensors and lists/dicts of those.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer or None, got {type(optimizer).__name__}")
    check_nonnegative_int(step, "step")
    extra = dict(extra) if extra is not None else {}
    _check_plain(extra, "extra")
    state = {
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "step": step,
        "extra": extra,
    }
    save_torch(state, path)


def load_checkpoint(path: str | os.PathLike, model: nn.Module,
                    optimizer: torch.optim.Optimizer | None = None) -> dict[str, Any]:
    """Restore ``model`` (and ``optimizer``) from ``save_checkpoint``'s file; return ``{"step": ..., "extra": ...}``.

    Loads with ``weights_only=True``. Tensors are loaded onto the CPU and copied into the model's own device.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    state = load_torch(path)
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"path {str(path)!r} is not a checkpoint written by save_checkpoint (no 'model' entry)")
    model.load_state_dict(state["model"])
    if optimizer is not None:
        if state.get("optimizer") is None:
            raise ValueError(f"an optimizer was given but the checkpoint {str(path)!r} holds no optimizer state")
        optimizer.load_state_dict(state["optimizer"])
    return {"step": state.get("step", 0), "extra": state.get("extra", {})}
