"""pytest settings that hold however the tests are started (``python3 course.py test``, plain ``pytest``, an IDE).

- Before any notebook kernel starts, the environment the notebooks need is set: ``RUN_ENV`` of ``course.py``
  (progress bars off, a fixed hash seed, the inline plotting backend), the same settings that ``course.py execute``
  used to produce the committed outputs.
- Every notebook cell that nbval collects is marked ``notebook`` (as are the tests that execute notebooks), so
  ``pytest -m "not notebook"`` runs the unit tests alone.
- The run ends with the seconds spent per notebook: its cells under nbval, the validation of its student version,
  and the rest of the tests.
"""
from __future__ import annotations

import importlib.util
import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
ASSIGNMENT_TESTS = "tests/test_assignments.py"


def run_env() -> dict[str, str]:
    """``RUN_ENV`` from course.py, the one place it is written (course.py runs before any package is installed,
    so it cannot import the package; here it is read as a plain file)."""
    spec = importlib.util.spec_from_file_location("_course_settings", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.RUN_ENV)


def pytest_configure(config: pytest.Config) -> None:
    # kernels (nbval, nbgrader) start later and inherit this process's environment
    os.environ.update(run_env())
    # addopts names the sanitize file relative to the project; nbval opens it relative to the working directory
    sanitize = getattr(config.option, "nbval_sanitize_with", None)
    if sanitize and not Path(sanitize).is_file() and (config.rootpath / sanitize).is_file():
        config.option.nbval_sanitize_with = str(config.rootpath / sanitize)
    global _times
    _times = _Times()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)


class _Times:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.nbval: dict[str, float] = defaultdict(float)
        self.assignments: dict[str, float] = defaultdict(float)
        self.build = 0.0
        self.other = 0.0

    def add(self, report: pytest.TestReport) -> None:
        path, _, rest = report.nodeid.partition("::")
        if path.endswith(".ipynb"):
            self.nbval[Path(path).name] += report.duration
        elif path == ASSIGNMENT_TESTS and rest.endswith(".ipynb]") and "notebook" in report.keywords:
            if report.when == "setup":  # the shared fixture that builds every student version at once
                self.build += report.duration
            else:
                self.assignments[rest[rest.index("[") + 1:-1]] += report.duration
        else:
            self.other += report.duration


_times: _Times | None = None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _times is not None:
        _times.add(report)


@pytest.hookimpl(trylast=True)  # after pytest's own summaries (durations), so it ends the output
def pytest_terminal_summary(terminalreporter) -> None:
    times = _times
    if times is None:
        return
    write = terminalreporter.write_line
    notebooks = sorted(set(times.nbval) | set(times.assignments))
    terminalreporter.write_sep("=", "time per notebook (seconds)")
    if notebooks:
        width = max(map(len, notebooks))
        write(f"{'notebook':<{width}}  {'nbval':>7}  {'student version':>15}  {'total':>7}")
        for name in notebooks:
            nbval, graded = times.nbval.get(name, 0.0), times.assignments.get(name, 0.0)
            write(f"{name:<{width}}  {nbval:7.1f}  {graded:15.1f}  {nbval + graded:7.1f}")
        if times.build:
            write(f"student versions built (all notebooks, nbgrader): {times.build:.1f}")
    write(f"unit tests and other checks: {times.other:.1f}")
    total = sum(times.nbval.values()) + sum(times.assignments.values()) + times.build + times.other
    write(f"total: {total:.1f} in tests, {time.perf_counter() - times.start:.1f} wall clock")
