"""Course assignments: student versions of the notebooks, built and autograded with nbgrader.

The committed notebooks are the instructor's solution versions, written in nbgrader's markup: an exercise cell
holds the solution between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (cell metadata ``solution: true``);
the test cell after it is graded and locked (``grade: true, points: P``) and may hide tests between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``.

    python -m curriculum.assignments [--validate] [--out DIR] [NOTEBOOK ...]      (python3 course.py assign ...)

builds an nbgrader course folder (default ``build/assignments``, which pytest does not collect)::

    build/assignments/
        nbgrader_config.py          # course settings; run nbgrader commands from this folder
        source/<NN_name>/<NN_name>.ipynb     # copies of the solution notebooks
        release/<NN_name>/<NN_name>.ipynb    # the student versions: hand these out
        gradebook.db

``--validate`` then checks each student version: no solution code and no hidden test left in it; run as released
it fails exactly its graded test cells and nothing else (later cells use the package's reference code); with the
solutions restored it gets full marks from ``nbgrader autograde``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = [
    "DEFAULT_OUT",
    "exercises",
    "build",
    "find_leaks",
    "restore_solutions",
    "autograde",
    "validate",
    "GradeReport",
    "Validation",
]

DEFAULT_OUT = Path("build") / "assignments"
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CELL_TIMEOUT_S = 900  # training cells run for up to a few minutes on a laptop CPU

CONFIG = textwrap.dedent(
    '''\
    # nbgrader settings for this course folder (written by `python -m curriculum.assignments`).
    c = get_config()  # noqa: F821
    c.CourseDirectory.root = "."
    c.CourseDirectory.course_id = "genmodels-curriculum"
    c.ExecutePreprocessor.timeout = {timeout}
    c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
    '''
).format(timeout=CELL_TIMEOUT_S)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def exercises(nb: nbformat.NotebookNode) -> tuple[list[str], list[str]]:
    """Grade ids of the exercise (solution) cells and of the graded test cells, in notebook order."""
    solutions = [_meta(c)["grade_id"] for c in nb.cells if _meta(c).get("solution") and c.cell_type == "code"]
    graded = [_meta(c)["grade_id"] for c in nb.cells if _meta(c).get("grade") and c.cell_type == "code"]
    return solutions, graded


def _nbgrader(course: Path, *args: str) -> None:
    # nbgrader runs helper programs (alembic) by name: put this interpreter's scripts folder first on PATH, so an
    # environment that was never activated still works
    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--force"], cwd=course,
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {result.returncode}):\n"
                           f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


def build(notebooks: list[Path], out: Path = DEFAULT_OUT) -> list[Path]:
    """Copy the solution notebooks into an nbgrader course at ``out`` and generate the student versions.

    Returns the paths of the student versions, ``out/release/<stem>/<stem>.ipynb``.
    """
    out = Path(out)
    if not notebooks:
        raise ValueError("notebooks must name at least one .ipynb file")
    out.mkdir(parents=True, exist_ok=True)
    (out / "nbgrader_config.py").write_text(CONFIG)
    released = []
    for path in map(Path, notebooks):
        if path.suffix != ".ipynb" or not path.is_file():
            raise FileNotFoundError(f"notebooks: {str(path)!r} is not an existing .ipynb file")
        solutions, graded = exercises(nbformat.read(path, as_version=4))
        if not solutions or not graded:
            raise ValueError(f"{path.name} has no nbgrader exercise or graded test cell; every notebook needs one")
        source = out / "source" / path.stem
        source.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, source / path.name)
        _nbgrader(out, "generate_assignment", path.stem)
        released.append(out / "release" / path.stem / path.name)
    return released


def _solution_lines(source: str) -> list[str]:
    """The non-trivial lines between the SOLUTION (or HIDDEN TESTS) markers of a cell's source."""
    lines, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped in (SOLUTION_BEGIN, HIDDEN_BEGIN):
            inside = True
        elif stripped in (SOLUTION_END, HIDDEN_END):
            inside = False
        elif inside and len(stripped) > 12 and not stripped.startswith("#"):
            lines.append(stripped)
    return lines


def find_leaks(solution_nb: nbformat.NotebookNode, student_nb: nbformat.NotebookNode) -> list[str]:
    """Everything of the solutions or hidden tests that survived into the student version (empty = clean)."""
    student_text = "\n".join(c.source for c in student_nb.cells)
    leaks = [f"marker {m!r} is still present" for m in (SOLUTION_BEGIN, HIDDEN_BEGIN) if m in student_text]
    student_lines = {line.strip() for line in student_text.splitlines()}
    for cell in solution_nb.cells:
        if cell.cell_type != "code":
            continue
        for line in _solution_lines(cell.source):
            if line in student_lines:
                leaks.append(f"{_meta(cell).get('grade_id', '?')}: line {line!r} is in the student version")
    return leaks


def restore_solutions(student_nb: nbformat.NotebookNode, solution_nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student version with each exercise cell's code put back from the solution version (by grade id)."""
    solutions = {_meta(c)["grade_id"]: c.source for c in solution_nb.cells if _meta(c).get("solution")}
    restored = nbformat.from_dict(student_nb)
    for cell in restored.cells:
        grade_id = _meta(cell).get("grade_id")
        if _meta(cell).get("solution") and grade_id in solutions:
            cell.source = solutions[grade_id]
    return restored


@dataclass(frozen=True)
class GradeReport:
    """What ``nbgrader autograde`` gave one submission."""

    score: float
    max_score: float
    cell_scores: dict[str, tuple[float, float]]  # grade id -> (score, max)
    error_cells: list[str]  # grade id (or "cell <index>") of every cell whose output is an error


def autograde(out: Path, assignment: str, student: str, submission: nbformat.NotebookNode, name: str) -> GradeReport:
    """Submit ``submission`` as ``student`` for ``assignment`` and autograde it in the course at ``out``."""
    from nbgrader.api import Gradebook

    out = Path(out)
    folder = out / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(submission, folder / name)
    _nbgrader(out, "autograde", assignment, "--student", student)
    graded_nb = nbformat.read(out / "autograded" / student / assignment / name, as_version=4)
    errors = [
        _meta(cell).get("grade_id") or f"cell {index}"
        for index, cell in enumerate(graded_nb.cells)
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", []))
    ]
    with Gradebook(f"sqlite:///{(out / 'gradebook.db').resolve()}") as gradebook:
        notebook = gradebook.find_submission_notebook(Path(name).stem, assignment, student)
        cells = {g.name: (float(g.score), float(g.max_score)) for g in notebook.grades}
        return GradeReport(float(notebook.score), float(notebook.max_score), cells, errors)


@dataclass
class Validation:
    """The checks of one student version; ``ok`` when every one holds."""

    notebook: str
    graded_cells: list[str]
    leaks: list[str] = field(default_factory=list)
    as_released: GradeReport | None = None
    restored: GradeReport | None = None

    @property
    def problems(self) -> list[str]:
        found = list(self.leaks)
        if self.as_released is not None:
            if sorted(self.as_released.error_cells) != sorted(self.graded_cells):
                found.append(f"as released, the failing cells are {self.as_released.error_cells}, expected exactly "
                             f"the graded cells {self.graded_cells}")
            if self.as_released.score != 0:
                found.append(f"as released it scores {self.as_released.score}, expected 0")
        if self.restored is not None:
            if self.restored.error_cells:
                found.append(f"with solutions restored, cells {self.restored.error_cells} fail")
            if self.restored.score != self.restored.max_score or self.restored.max_score == 0:
                found.append(f"with solutions restored it scores {self.restored.score} of {self.restored.max_score}")
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        lines = [f"{self.notebook}: {'ok' if self.ok else 'FAILED'}",
                 f"  graded cells: {', '.join(self.graded_cells)}",
                 f"  solution or hidden-test leaks: {len(self.leaks)}"]
        if self.as_released:
            lines.append(f"  as released: {self.as_released.score:g} / {self.as_released.max_score:g} points; "
                         f"failing cells: {', '.join(self.as_released.error_cells) or 'none'}")
        if self.restored:
            lines.append(f"  solutions restored: {self.restored.score:g} / {self.restored.max_score:g} points; "
                         f"failing cells: {', '.join(self.restored.error_cells) or 'none'}")
        lines += [f"  ! {p}" for p in self.problems]
        return "\n".join(lines)


def validate(solution_path: Path, out: Path = DEFAULT_OUT) -> Validation:
    """Check the student version of ``solution_path`` (already built into ``out``)."""
    solution_path = Path(solution_path)
    solution_nb = nbformat.read(solution_path, as_version=4)
    student_path = Path(out) / "release" / solution_path.stem / solution_path.name
    if not student_path.is_file():
        raise FileNotFoundError(f"no student version at {student_path}; build it first")
    student_nb = nbformat.read(student_path, as_version=4)
    report = Validation(solution_path.name, exercises(solution_nb)[1], find_leaks(solution_nb, student_nb))
    report.as_released = autograde(out, solution_path.stem, "as_released", student_nb, solution_path.name)
    report.restored = autograde(out, solution_path.stem, "restored", restore_solutions(student_nb, solution_nb),
                                solution_path.name)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m curriculum.assignments",
                                     description="Build (and optionally validate) student versions of the notebooks.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="solution notebooks (default: every notebooks/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"course folder (default: {DEFAULT_OUT})")
    parser.add_argument("--validate", action="store_true",
                        help="after building, check each student version (runs each notebook twice)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(Path("notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        parser.error("no notebooks given and none found under notebooks/")
    for path in build(notebooks, args.out):
        print(f"student version: {path}")
    if not args.validate:
        return 0
    reports = [validate(path, args.out) for path in notebooks]
    for report in reports:
        print(report)
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
