"""Plain ``pytest`` on a notebook passes without course.py setting anything: the project's conftest.py sets the
environment the notebooks need (progress bars off) before any kernel starts.

A notebook whose checked cell loops over ``runtime.progress`` is run by pytest in a fresh process, from a folder
that holds the project's own configuration files (copied unchanged) and with none of course.py's settings in the
environment, as a conda user who types ``pytest notebooks/NN_name.ipynb`` has it. With progress bars on, that cell
would also show a progress bar, and nbval would report the extra output.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = ["conftest.py", "course.py", "pyproject.toml", "tests/nbval_sanitize.cfg"]
CHECKED_CELL = """\
# NBVAL_CHECK_OUTPUT
from curriculum import runtime

for step in runtime.progress(range(3), desc="steps"):
    pass
print("three steps, no progress bar")"""


def course_env_names() -> set[str]:
    spec = importlib.util.spec_from_file_location("_course_settings", ROOT / "course.py")
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)
    return set(course.RUN_ENV)


@pytest.mark.notebook
def test_plain_pytest_runs_a_notebook_with_progress_bars_off(tmp_path):
    for name in CONFIGURATION:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    cell = nbformat.v4.new_code_cell(CHECKED_CELL, execution_count=1, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="three steps, no progress bar\n")])
    notebook = tmp_path / "progress.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), notebook)

    env = {key: value for key, value in os.environ.items()
           if key not in course_env_names() and not key.startswith("PYTEST_")}
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q", notebook.name],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"plain pytest failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    assert "1 passed" in result.stdout
