"""The student bundle: the student versions with the package and one setup command, and no solutions or tests."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

__all__ = ["bundle", "BUNDLE_FILES"]

STUDENT_README = textwrap.dedent(
    """\
    # genmodels-curriculum: student notebooks

    A Jupyter-notebook course on deep generative models. This folder holds the assignment versions of the
    notebooks: every exercise cell says `raise NotImplementedError()` until you write it, and each exercise is
    followed by a test cell that checks your answer (your instructor grades with further, hidden tests).

    One command sets everything up (a `.venv/` folder with the course package and its dependencies, from
    `pyproject.toml`; the first time takes a few minutes) and opens the course in JupyterLab:

    ```bash
    python3 course.py lab
    ```

    Python 3.11 or newer and pip are needed; no GPU and no data download. The package `curriculum/` holds the
    reference code the notebooks use after each exercise; an exercise's test cell hides that exercise's own
    reference while it runs, so answer from the formulas.
    """
)
BUNDLE_FILES = ("course.py", "pyproject.toml", "environment.yml", "data/README.md")


def bundle(notebooks: list[Path], course: Path, dest: Path) -> Path:
    """Write the student bundle for ``notebooks`` (already built into ``course``) to ``dest``; return its zip.

    The bundle is what students need and nothing more: the student versions under ``notebooks/``, the package
    (``curriculum/``), ``course.py`` with ``pyproject.toml`` and ``environment.yml`` (so ``python3 course.py lab``
    installs the package and opens the course), ``data/README.md`` and a short README. No solution notebook and
    no test is in it. ``dest/genmodels-curriculum-student/`` holds the files, ``dest/genmodels-curriculum-student.zip``
    the same as one archive to hand out.
    """
    project = Path(__file__).resolve().parent.parent.parent
    folder = Path(dest) / "genmodels-curriculum-student"
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "notebooks").mkdir(parents=True)
    for path in map(Path, notebooks):
        released = Path(course) / "release" / path.stem / path.name
        if not released.is_file():
            raise FileNotFoundError(f"no student version at {released}; build it first")
        shutil.copy2(released, folder / "notebooks" / path.name)
    shutil.copytree(project / "curriculum", folder / "curriculum",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    for name in BUNDLE_FILES:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project / name, target)
    (folder / "README.md").write_text(STUDENT_README)
    return Path(shutil.make_archive(str(folder), "zip", root_dir=folder.parent, base_dir=folder.name))
