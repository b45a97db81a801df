"""The one training loop of the course: every family trains through ``run_steps``.

A family plugs in its **step** (``TrainingStep``): what one step computes and which optimisers it updates. The
loop owns everything else, the same for every family:

- **reproducible**: ``start_run(seed)`` seeds Python, NumPy and torch and returns the generator that orders the
  minibatches, so noise drawn inside a loss (``torch.randn_like``) repeats; two runs of identically initialised
  models with the same seed give identical histories (on the CPU).
- **loud about divergence**: every update goes through ``StepContext.update``, which stops the run with
  ``TrainingDiverged`` before touching the parameters when a loss (or a logged value) is NaN or infinite, saying
  which step, which value, and what to try (the step's own ``advice``).
- **watchable**: one progress bar with the running loss; ``FitResult`` holds the history and every logged value.
- **checkpointed safely**: ``save_checkpoint`` writes atomically (a crash mid-write keeps the old file) and
  ``load_checkpoint`` reads with ``weights_only=True``; a step with several networks saves them all by name.

``fit(model, loss_fn, data, config)`` is the common case, one model and one optimiser (``GradientStep``):
``loss_fn(model, batch)`` returns a scalar tensor, or a dict with the scalar under ``"loss"`` and any other
scalars to log (e.g. ``{"loss": nll + kl, "nll": nll, "kl": kl}``). The model does not know about the loss; the
loss does not know about the optimiser. Adversarial training (``gan.train_gan``: several critic updates per
generator update) is a step with two optimisers on the same loop.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol, Union

import torch
from torch import nn

from .checks import (check_bool, check_callable, check_choice, check_device, check_nonnegative_float,
                     check_nonnegative_int, check_positive_float, check_positive_int)
from .io import load_torch, save_torch
from .runtime import pick_device, seed_everything
from .runtime import progress as progress_bar

__all__ = [
    "TrainConfig",
    "FitResult",
    "TrainingDiverged",
    "TrainingStep",
    "StepContext",
    "start_run",
    "batch_source",
    "run_steps",
    "GradientStep",
    "fit",
    "save_checkpoint",
    "load_checkpoint",
]

Batch = Union[torch.Tensor, tuple, list, dict]
LossOutput = Union[torch.Tensor, Mapping[str, torch.Tensor]]
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
    ``runtime.pick_device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``, a ``torch.device`` or ``"auto"``). ``log_every``: steps between updates of the
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
    device: str | torch.device = "cpu"
    log_every: int = 10
    progress: bool | None = None

    def __post_init__(self) -> None:
        check_positive_int(self.steps, "steps")
        check_positive_int(self.batch_size, "batch_size")
        check_positive_float(self.lr, "lr")
        check_choice(self.lr_schedule, "lr_schedule", LR_SCHEDULES)
        check_nonnegative_float(self.weight_decay, "weight_decay")
        if self.grad_clip is not None:
            check_positive_float(self.grad_clip, "grad_clip")
        check_nonnegative_int(self.seed, "seed")
        check_device(self.device)
        check_positive_int(self.log_every, "log_every")
        if self.progress is not None:
            check_bool(self.progress, "progress")


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


def _describe(batch: Any) -> str:
    """Shapes and dtypes of a batch, for error messages: ``a tensor of shape (256, 3) and dtype torch.int64``."""
    if isinstance(batch, torch.Tensor):
        return f"a tensor of shape {tuple(batch.shape)} and dtype {batch.dtype}"
    if isinstance(batch, (tuple, list)):
        return "a tuple of " + ", ".join(_describe(b) for b in batch)
    return f"a {type(batch).__name__}"


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


def _divergence_message(what: str, step: int, steps: int, name: str, value: float, history: list[float],
                        advice: Sequence[str]) -> str:
    last = f" (last finite loss {history[-1]:.4g} at step {step - 1})" if history else ""
    return f"{what} diverged at step {step} of {steps}: {name} is {value}{last}. Things to try: {'; '.join(advice)}."


# --------------------------------------------------------------------------------------------------------------
# The loop, and the one way a step updates parameters
# --------------------------------------------------------------------------------------------------------------
class TrainingStep(Protocol):
    """What a family plugs into the loop: one training step, with its own networks and optimisers.

    ``modules`` (name -> network) are put in train mode for the run (their modes restored after) and saved in
    checkpoints with ``optimizers`` (name -> optimiser), whose learning rates the loop schedules. Calling the step
    with the loop's ``StepContext`` and ``next_batch`` (a callable returning the next minibatch) does the step's
    forward passes and calls ``ctx.update(loss, optimizer, ...)`` once per parameter update (a GAN: ``d_steps``
    critic updates, then one generator update); it returns the scalars to record, the main one under ``"loss"``.
    ``advice()`` lists what to try when the run diverges (the learning rates it uses, say).
    """

    modules: Mapping[str, nn.Module]
    optimizers: Mapping[str, torch.optim.Optimizer]

    def __call__(self, ctx: "StepContext", next_batch: Callable[[], Any]) -> Mapping[str, float]: ...

    def advice(self) -> list[str]: ...


@dataclass
class StepContext:
    """The loop's state as a step sees it: the 1-based ``step`` of ``steps``, the losses so far, and ``update``."""

    step: int
    steps: int
    history: list[float]
    what: str
    advice: Callable[[], list[str]]

    def check(self, name: str, value: float, *, key: str | None = None) -> float:
        """Raise ``TrainingDiverged`` if ``value`` is NaN or infinite (``name`` as said in the message, ``key`` as
        recorded on the error; default ``name``)."""
        if not math.isfinite(value):
            raise TrainingDiverged(
                _divergence_message(self.what, self.step, self.steps, name, value, self.history, self.advice()),
                step=self.step, name=key or name, value=value, history=list(self.history))
        return value

    def update(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, *, name: str = "the loss",
               key: str = "loss", logged: Mapping[str, float] | None = None,
               params: Sequence[torch.Tensor] | None = None, grad_clip: float | None = None) -> float:
        """Descend ``loss`` with ``optimizer`` after checking that it (and every ``logged`` value) is finite:
        ``zero_grad``, ``backward``, optional global-norm clipping of ``params`` to ``grad_clip``, ``step``.
        Returns the loss as a float. Nothing is changed when a value is not finite."""
        value = self.check(name, float(loss.detach()), key=key)
        for logged_name, logged_value in (logged or {}).items():
            self.check(f"the logged value {logged_name!r}", logged_value, key=logged_name)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(params if params is not None else
                                     [p for group in optimizer.param_groups for p in group["params"]], grad_clip)
        optimizer.step()
        return value


def start_run(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch with ``seed`` and return the seeded CPU generator that orders the run's
    minibatches: the first thing every training run does, so two runs with one seed repeat exactly."""
    seed_everything(seed)
    return torch.Generator().manual_seed(seed)


def batch_source(data: object, batch_size: int, generator: torch.Generator,
                 first: Any = None) -> Callable[[], Any]:
    """``next_batch()`` for the loop: minibatches of a tensor ``(N, ...)`` or of a tuple of tensors sharing ``N``
    (reshuffled each epoch), or ``data(batch_size, generator)`` for a callable sampler. ``first``, when given,
    is returned by the first call (a batch already drawn from the same stream, e.g. to size the networks)."""
    sample = _make_sampler(data, batch_size, generator)
    if first is None:
        return sample
    pending = [first]
    return lambda: pending.pop() if pending else sample()


def run_steps(step_fn: TrainingStep, next_batch: Callable[[], Any], steps: int, *, what: str = "training",
              desc: str = "fit", lr_schedule: str = "constant", log_every: int = 10, progress: bool | None = None,
              checkpoint_path: str | os.PathLike | None = None, checkpoint_every: int | None = None) -> FitResult:
    """The one training loop: ``steps`` calls of ``step_fn``, each recorded; see ``TrainingStep``.

    Owns what every run needs: the learning-rate schedule (``"cosine"``: every parameter group of every
    optimiser annealed from its initial value to 0, ``lr_k = lr_0 (1 + cos(pi (k - 1) / steps)) / 2`` at step
    ``k``), train mode for the step's modules (restored afterwards), the progress bar with the running loss, the
    history and logs (``FitResult``), divergence errors (through ``StepContext``) and atomic checkpoints every
    ``checkpoint_every`` steps and at the end. Seeding happens before, in ``start_run``, so that a family can
    size its networks from a first batch of the same seeded stream.
    """
    check_positive_int(steps, "steps")
    check_choice(lr_schedule, "lr_schedule", LR_SCHEDULES)
    check_positive_int(log_every, "log_every")
    if checkpoint_every is not None:
        check_positive_int(checkpoint_every, "checkpoint_every")
        if checkpoint_path is None:
            raise ValueError("checkpoint_every was given without checkpoint_path; pass checkpoint_path=...")
    modules, optimizers = dict(step_fn.modules), dict(step_fn.optimizers)
    base_lrs = {name: [group["lr"] for group in opt.param_groups] for name, opt in optimizers.items()}
    history: list[float] = []
    logs: dict[str, list[float]] = {}
    was_training = {name: module.training for name, module in modules.items()}
    for module in modules.values():
        module.train()
    steps_iter = progress_bar(range(1, steps + 1), total=steps, desc=desc, enabled=progress)
    bar = steps_iter if hasattr(steps_iter, "set_postfix") else None  # a tqdm bar, or a plain range
    start = time.perf_counter()
    try:
        for step in steps_iter:
            if lr_schedule == "cosine":
                factor = 0.5 * (1.0 + math.cos(math.pi * (step - 1) / steps))  # 1 at step 1, -> 0 at the end
                for name, opt in optimizers.items():
                    for group, base in zip(opt.param_groups, base_lrs[name]):
                        group["lr"] = base * factor
            ctx = StepContext(step, steps, history, what, step_fn.advice)
            record = step_fn(ctx, next_batch)
            if "loss" not in record:
                raise ValueError(f"the training step must return a dict with the key 'loss', got keys {sorted(record)}")
            history.append(float(record["loss"]))
            for name, value in record.items():
                if name != "loss":
                    logs.setdefault(name, []).append(float(value))
            if bar is not None and (step % log_every == 0 or step == steps):
                recent = history[-log_every:]
                bar.set_postfix(loss=f"{sum(recent) / len(recent):.4f}", refresh=False)
            if checkpoint_path is not None and checkpoint_every is not None and step % checkpoint_every == 0:
                _save_run(checkpoint_path, modules, optimizers, step, history)
    finally:
        close = getattr(steps_iter, "close", None)
        if close is not None:
            close()
        for name, module in modules.items():
            module.train(was_training[name])
    seconds = time.perf_counter() - start
    if checkpoint_path is not None:
        _save_run(checkpoint_path, modules, optimizers, steps, history)
    return FitResult(history=history, steps=steps, seconds=seconds, final_loss=_final_loss(history), logs=logs)


def _save_run(path: str | os.PathLike, modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
              step: int, history: list[float]) -> None:
    if set(modules) == {"model"} and set(optimizers) <= {"optimizer"}:  # fit's plain format
        save_checkpoint(path, modules["model"], optimizers.get("optimizer"), step=step, extra={"history": history})
    else:
        save_checkpoint(path, modules, optimizers or None, step=step, extra={"history": history})


# --------------------------------------------------------------------------------------------------------------
# fit: one model, one loss, one optimiser
# --------------------------------------------------------------------------------------------------------------
class GradientStep:
    """The step of ``fit``: one minibatch, ``loss_fn(model, batch)``, one optimiser update."""

    def __init__(self, model: nn.Module, loss_fn: Callable[[nn.Module, Any], LossOutput],
                 optimizer: torch.optim.Optimizer, device: torch.device, grad_clip: float | None) -> None:
        self.model, self.loss_fn, self.optimizer, self.device, self.grad_clip = model, loss_fn, optimizer, device, grad_clip
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.modules = {"model": model}
        self.optimizers = {"optimizer": optimizer}

    def __call__(self, ctx: StepContext, next_batch: Callable[[], Any]) -> dict[str, float]:
        batch = _to_device(next_batch(), self.device)
        if ctx.step == 1:
            try:
                out = self.loss_fn(self.model, batch)
            except (RuntimeError, TypeError) as err:  # a shape or dtype the model cannot take, said by torch
                raise type(err)(f"loss_fn(model, batch) failed on the first batch, {_describe(batch)}: {err}. "
                                f"Check that the data's shape and dtype are what the model takes (its first "
                                f"layer's input size; float32 data for float32 weights).") from err
        else:
            out = self.loss_fn(self.model, batch)
        loss, extra = _split_loss(out)
        extra_values = {name: _as_float(v, name) for name, v in extra.items()}
        value = ctx.update(loss, self.optimizer, logged=extra_values, params=self.params, grad_clip=self.grad_clip)
        return {"loss": value, **extra_values}

    def advice(self) -> list[str]:
        lr = self.optimizer.param_groups[0]["lr"]
        clip = ("set grad_clip (e.g. grad_clip=1.0) to cap the gradient norm" if self.grad_clip is None
                else f"lower grad_clip (currently {self.grad_clip:g})")
        return [f"lower the learning rate (currently lr={lr:g}; try lr={lr / 10:g})", clip,
                "check the data scale/normalisation (inputs of order 1, e.g. standardised to zero mean and unit "
                "variance) and that the loss cannot take log(0) or divide by zero"]


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
    Raises ``TrainingDiverged`` as soon as the loss or a logged value is NaN or infinite. A thin wrapper: the
    loop is ``run_steps`` with a ``GradientStep``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_callable(loss_fn, "loss_fn", "loss_fn(model, batch)")
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
    next_batch = batch_source(data, config.batch_size, start_run(config.seed))
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters (all have requires_grad=False)")
    if optimizer is None:
        optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    elif not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    step_fn = GradientStep(model, loss_fn, optimizer, device, config.grad_clip)
    return run_steps(step_fn, next_batch, config.steps, lr_schedule=config.lr_schedule, log_every=config.log_every,
                     progress=config.progress, checkpoint_path=checkpoint_path, checkpoint_every=checkpoint_every)


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


Modules = Union[nn.Module, Mapping[str, nn.Module]]
Optimizers = Union[torch.optim.Optimizer, Mapping[str, torch.optim.Optimizer], None]


def _state_dicts(objects: object, kind: type, what: str) -> dict[str, Any]:
    """One state dict, or a dict of them for a mapping name -> object."""
    if isinstance(objects, kind):
        return objects.state_dict()
    if isinstance(objects, Mapping) and objects and all(isinstance(v, kind) for v in objects.values()):
        return {str(name): obj.state_dict() for name, obj in objects.items()}
    raise TypeError(f"{what} must be a {kind.__module__}.{kind.__qualname__} or a non-empty dict of them, "
                    f"got {type(objects).__name__}")


def save_checkpoint(path: str | os.PathLike, model: Modules, optimizer: Optimizers = None,
                    step: int = 0, extra: Mapping[str, Any] | None = None) -> None:
    """Save ``{"model": state_dict, "optimizer": state_dict or None, "step": step, "extra": extra}`` atomically.

    ``model`` (and ``optimizer``) may also be a dict name -> network (optimiser), e.g. a GAN's generator and
    discriminator; their state dicts are then stored by name. The file is written to a temporary file and
    renamed over ``path``: a crash mid-write leaves any previous checkpoint intact. ``extra`` may hold numbers,
    strings, tensors and lists/dicts of those.
    """
    model_state = _state_dicts(model, nn.Module, "model")
    optimizer_state = None if optimizer is None else _state_dicts(optimizer, torch.optim.Optimizer, "optimizer")
    check_nonnegative_int(step, "step")
    extra = dict(extra) if extra is not None else {}
    _check_plain(extra, "extra")
    state = {"model": model_state, "optimizer": optimizer_state, "step": step, "extra": extra}
    save_torch(state, path)


def _load_into(objects: object, state: Any, kind: type, path: str | os.PathLike) -> None:
    if isinstance(objects, kind):
        objects.load_state_dict(state)
        return
    _state_dicts(objects, kind, "model" if kind is nn.Module else "optimizer")  # the same argument checks
    missing = sorted(set(objects) - set(state or {}))
    if missing:
        raise ValueError(f"the checkpoint {str(path)!r} has no state for {missing}; it holds {sorted(state or {})}")
    for name, obj in objects.items():
        obj.load_state_dict(state[name])


def load_checkpoint(path: str | os.PathLike, model: Modules, optimizer: Optimizers = None) -> dict[str, Any]:
    """Restore ``model`` (and ``optimizer``) from ``save_checkpoint``'s file; return ``{"step": ..., "extra": ...}``.

    Pass the same structure that was saved (one network, or a dict of them by name). Loads with
    ``weights_only=True``. Tensors are loaded onto the CPU and copied into the model's own device.
    """
    if not isinstance(model, (nn.Module, Mapping)):
        raise TypeError(f"model must be a torch.nn.Module or a dict of them, got {type(model).__name__}")
    state = load_torch(path)
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"path {str(path)!r} is not a checkpoint written by save_checkpoint (no 'model' entry)")
    _load_into(model, state["model"], nn.Module, path)
    if optimizer is not None:
        if state.get("optimizer") is None:
            raise ValueError(f"an optimizer was given but the checkpoint {str(path)!r} holds no optimizer state")
        _load_into(optimizer, state["optimizer"], torch.optim.Optimizer, path)
    return {"step": state.get("step", 0), "extra": state.get("extra", {})}
