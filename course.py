#!/usr/bin/env python3
"""One entry point for the course: set up, open, test, re-execute, build assignments.

    python3 course.py lab                 # set up .venv, then open the notebooks in JupyterLab
    python3 course.py test                # set up .venv, then run unit tests, every notebook and the assignments
    python3 course.py test --fast         # unit tests only: no notebook is executed (well under two minutes)
    python3 course.py execute [NB ...]    # re-execute notebooks in place, top to bottom (default: all)
    python3 course.py assign [--validate] [--bundle] [NB ...]   # student versions and bundle in build/assignments

Only the standard library is used here, so it runs on a fresh machine with Python 3.11+ and pip.
The environment lives in .venv beside this file; it is (re)installed whenever pyproject.toml changes.
Any further arguments of ``test`` go to pytest; the test settings themselves live in conftest.py and
pyproject.toml, so plain ``pytest`` in the project's environment runs the same checks.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".curriculum-install-stamp"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")

MIN_PYTHON = (3, 11)  # pyproject.toml's requires-python and environment.yml say the same (a test checks)

# The environment every notebook runs under: the test run (conftest.py reads it from here and sets it before any
# kernel starts, however pytest is started), the execute command and the assign command, so committed outputs
# match what CI sees. This file must keep running on a bare Python, so it imports nothing from the package.
RUN_ENV = {
    "CURRICULUM_PROGRESS": "0",  # progress bars off: outputs must not depend on a widget front end
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}


def say(message: str) -> None:
    print(f"[course] {message}", flush=True)


def run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    return subprocess.call(cmd, cwd=ROOT, env={**os.environ, **(env or {})})


def setup() -> None:
    """Create .venv and install the package with its test extras, unless already up to date."""
    if sys.version_info < MIN_PYTHON:
        sys.exit(f"[course] Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed; "
                 f"this is {sys.version.split()[0]}.")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        say(f"creating the environment in {VENV.name}/")
        venv.EnvBuilder(with_pip=True).create(VENV)
    say("installing the course and its dependencies (first time: several minutes)")
    code = run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", ".[test]"])
    if code != 0:
        sys.exit(f"[course] pip install failed with exit code {code}; see the messages above.")
    STAMP.write_text(wanted)


NBGRADER_CONFIG = """\
# nbgrader settings for JupyterLab started by `python3 course.py lab` (written by course.py; safe to edit).
# The nbgrader panels (Formgrader, Assignments) then open the course folder that `python3 course.py assign` builds.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "genmodels-curriculum"
c.CourseDirectory.root = {root!r}
"""


def write_nbgrader_config() -> None:
    """Give nbgrader's JupyterLab extensions a configuration in the environment's own config folder (so JupyterLab
    does not warn "No nbgrader_config.py file found" at start), unless one is there already."""
    path = VENV / "etc" / "jupyter" / "nbgrader_config.py"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(NBGRADER_CONFIG.format(root=str(ROOT / "build" / "assignments")))


def notebooks(args: list[str]) -> list[str]:
    if args:
        return args
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command not in {"lab", "test", "execute", "assign"}:
        print(f"[course] unknown command {command!r}; expected one of lab, test, execute, assign.\n{__doc__}")
        return 2
    setup()
    if command == "lab":
        write_nbgrader_config()
        as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # containers run as root
        cmd = [str(BIN / "jupyter"), "lab", "--notebook-dir", str(ROOT / "notebooks"), *as_root, *rest]
        if os.name == "posix":  # JupyterLab takes over this process, so Ctrl-C and kill reach it directly
            sys.stdout.flush()
            os.chdir(ROOT)
            os.execv(cmd[0], cmd)
        return run(cmd)
    if command == "test":
        if "--fast" in rest:  # unit tests only: deselect everything marked `notebook` (see pyproject.toml)
            rest = ["-m", "not notebook", *(a for a in rest if a != "--fast")]
        return run([str(PYTHON), "-m", "pytest", *rest])
    if command == "execute":
        code = 0
        for nb in notebooks(rest):
            say(f"executing {nb}")
            code |= run(
                [str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--inplace",
                 "--ExecutePreprocessor.timeout=900", "--ExecutePreprocessor.kernel_name=python3", nb],
                env=RUN_ENV,
            )
        return code
    return run([str(PYTHON), "-m", "curriculum.assignments", *rest], env=RUN_ENV)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
