"""checks, runtime and io: validation messages, seeding, device choice, progress switch, atomic writes."""
import os
import subprocess
import sys

import pytest
import torch

from curriculum import checks, io, runtime


def test_check_tensor_messages():
    x = torch.zeros(5, 3)
    assert checks.check_tensor(x, "x", shape=(None, 3)) is x
    with pytest.raises(ValueError, match=r"x must have shape \(\*, 2\), got \(5, 3\)"):
        checks.check_tensor(x, "x", shape=(None, 2))
    with pytest.raises(ValueError, match=r"images must have shape \(N, C, H, W\) \(4 dimensions\), got \(5, 3\)"):
        checks.check_tensor(x, "images", ndim=4)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        checks.check_tensor(x, "x", min_ndim=3)
    with pytest.raises(TypeError, match="labels must have dtype torch.int64, got torch.float32"):
        checks.check_tensor(x, "labels", dtype=torch.int64)
    with pytest.raises(TypeError, match="floating-point"):
        checks.check_tensor(x.long(), "x", floating=True)


@pytest.mark.parametrize("value", [0, -2])
def test_positive_int_rejects(value):
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        checks.check_positive_int(value, "steps")


def test_scalar_checks():
    with pytest.raises(TypeError, match="steps must be a positive integer, got True"):
        checks.check_positive_int(True, "steps")
    with pytest.raises(TypeError, match="steps"):
        checks.check_positive_int(2.0, "steps")
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 1.2"):
        checks.check_probability(1.2, "p")
    with pytest.raises(ValueError, match=r"p must be a probability in \(0, 1\)"):
        checks.check_probability(0.0, "p", open_interval=True)
    assert checks.check_probability(1, "p") == 1.0
    with pytest.raises(ValueError, match="lr must be a positive finite number, got inf"):
        checks.check_positive_float(float("inf"), "lr")
    with pytest.raises(ValueError, match="method must be one of 'a', 'b'"):
        checks.check_choice("c", "method", ("a", "b"))
    with pytest.raises(ValueError, match="samples contains 2 NaN or infinite"):
        checks.check_finite(torch.tensor([1.0, float("nan"), float("inf")]), "samples")
    assert checks.check_nonnegative_int(0, "seed") == 0


def test_seed_everything_reproduces_all_generators():
    import random

    import numpy as np

    runtime.seed_everything(5)
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    runtime.seed_everything(5)
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first


def test_device_choice():
    assert runtime.setup(0) == torch.device("cpu")
    assert runtime.pick_device("auto").type in {"cpu", "cuda"}
    with pytest.raises(ValueError, match="device must be 'cpu', 'cuda', 'cuda:N'"):
        runtime.pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            runtime.pick_device("cuda")


def test_generator_is_seeded():
    a = torch.randn(3, generator=runtime.generator(1))
    assert torch.equal(a, torch.randn(3, generator=runtime.generator(1)))
    assert runtime.generator(None) is None


def test_progress_switch(monkeypatch, capsys):
    monkeypatch.setenv("CURRICULUM_PROGRESS", "0")
    runtime.set_progress(None)
    assert not runtime.progress_enabled()
    assert list(runtime.progress(range(3))) == [0, 1, 2]
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("CURRICULUM_PROGRESS", "1")
    assert runtime.progress_enabled()
    runtime.set_progress(False)
    assert not runtime.progress_enabled()
    runtime.set_progress(None)


def test_atomic_write_and_weights_only_load(tmp_path):
    path = tmp_path / "sub" / "state.pt"
    io.save_torch({"w": torch.arange(3.0), "step": 4}, path)
    loaded = io.load_torch(path)
    assert loaded["step"] == 4 and torch.equal(loaded["w"], torch.arange(3.0))
    assert [p.name for p in path.parent.iterdir()] == ["state.pt"]  # no temporary file left
    if os.name == "posix":
        umask = os.umask(0)
        os.umask(umask)
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would create it, not owner-only


class NotAWeight:
    """Any class instance: loading it would mean running the unpickler on arbitrary globals."""


def test_weights_only_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"f": NotAWeight()}, path)
    with pytest.raises(Exception, match="[Ww]eights only load failed"):
        io.load_torch(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        io.load_torch(tmp_path / "missing.pt")


def test_killed_writer_leaves_old_file_intact(tmp_path):
    """A writer killed between writing the temporary file and the rename never corrupts the target."""
    target = tmp_path / "progress.json"
    io.atomic_write_text(target, "old")
    script = (
        "import os, sys\n"
        "from curriculum import io\n"
        "real = os.replace\n"
        "os.replace = lambda *a: os.kill(os.getpid(), 9)\n"  # die exactly at the commit point
        f"io.atomic_write_text({str(target)!r}, 'new' * 100000)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode != 0
    assert target.read_text() == "old"
