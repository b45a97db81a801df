"""nbgrader's side: the course folder, generating the student versions, autograding submissions, and the
validation of one notebook's student version (no leaks, exactly the graded cells fail as released, full marks
restored, zero marks for answers that call the package's references)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .dependencies import exercise_dependencies
from .notebooks import _meta, exercises, find_leaks, restore_solutions, truncate, with_answers

__all__ = ["DEFAULT_OUT", "CONFIG", "build", "autograde", "autograde_all", "GradeReport", "Validation", "validate"]

DEFAULT_OUT = Path("build") / "assignments"
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
    paths = list(map(Path, notebooks))
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            raise FileNotFoundError(f"notebooks: {str(path)!r} is not an existing .ipynb file")
        solutions, graded = exercises(nbformat.read(path, as_version=4))
        if not solutions or not graded:
            raise ValueError(f"{path.name} has no nbgrader exercise or graded test cell; every notebook needs one")
    for path in paths:
        source = out / "source" / path.stem
        source.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, source / path.name)
    stems = {path.stem for path in paths}
    if {folder.name for folder in (out / "source").iterdir() if folder.is_dir()} == stems:
        _nbgrader(out, "generate_assignment", "*")  # every assignment of the course: one nbgrader run
    else:
        for stem in sorted(stems):
            _nbgrader(out, "generate_assignment", stem)
    return [out / "release" / path.stem / path.name for path in paths]


@dataclass(frozen=True)
class GradeReport:
    """What ``nbgrader autograde`` gave one submission."""

    score: float
    max_score: float
    cell_scores: dict[str, tuple[float, float]]  # grade id -> (score, max)
    error_cells: list[str]  # grade id (or "cell <index>") of every cell whose output is an error


def autograde(out: Path, assignment: str, student: str, submission: nbformat.NotebookNode, name: str) -> GradeReport:
    """Submit ``submission`` as ``student`` for ``assignment`` and autograde it in the course at ``out``."""
    return autograde_all(out, assignment, {student: submission}, name)[student]


def autograde_all(out: Path, assignment: str, submissions: dict[str, nbformat.NotebookNode],
                  name: str) -> dict[str, GradeReport]:
    """Submit each notebook of ``submissions`` as its student (the key) and autograde them all in one nbgrader run,
    so that nbgrader and its database start once. Other students' submissions in the course are left alone."""
    from nbgrader.api import Gradebook

    if not submissions:
        raise ValueError("submissions must hold at least one notebook")
    out = Path(out)
    for student, submission in submissions.items():
        folder = out / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(submission, folder / name)
    if len(submissions) == 1:
        selection = ["--student", next(iter(submissions))]
    else:  # every student but those named: other students' submissions (an instructor's course folder) stay as is
        others = sorted(p.name for p in (out / "submitted").iterdir() if p.is_dir() and p.name not in submissions)
        selection = [f"--CourseDirectory.student_id_exclude={','.join(others)}"] if others else []
    _nbgrader(out, "autograde", assignment, *selection)
    reports = {}
    with Gradebook(f"sqlite:///{(out / 'gradebook.db').resolve()}") as gradebook:
        for student in submissions:
            graded_nb = nbformat.read(out / "autograded" / student / assignment / name, as_version=4)
            errors = [
                _meta(cell).get("grade_id") or f"cell {index}"
                for index, cell in enumerate(graded_nb.cells)
                if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", []))
            ]
            notebook = gradebook.find_submission_notebook(Path(name).stem, assignment, student)
            cells = {g.name: (float(g.score), float(g.max_score)) for g in notebook.grades}
            reports[student] = GradeReport(float(notebook.score), float(notebook.max_score), cells, errors)
    return reports


@dataclass
class Validation:
    """The checks of one student version; ``ok`` when every one holds."""

    notebook: str
    graded_cells: list[str]
    leaks: list[str] = field(default_factory=list)
    as_released: GradeReport | None = None
    restored: GradeReport | None = None
    dependencies: list[str] = field(default_factory=list)  # exercise_dependencies of the solution version
    truncated_after: str | None = None  # grade id of the last cell autograded; None: the whole notebook was
    calls_reference: GradeReport | None = None  # every exercise answered by calling the package's reference
    missing_cheats: list[str] = field(default_factory=list)  # exercises with no such submission to try

    @property
    def problems(self) -> list[str]:
        found = list(self.leaks)
        found += [f"after the last graded cell, {use}: later cells must not depend on an exercise (so the student "
                  f"versions were autograded whole)" for use in self.dependencies]
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
        if self.missing_cheats:
            found.append(f"no reference-calling submission for the exercises {self.missing_cheats}: every exercise "
                         f"needs one, to show that its graded test cannot be passed by calling the package")
        if self.calls_reference is not None and self.calls_reference.score != 0:
            passed = [cell for cell, (score, _) in self.calls_reference.cell_scores.items() if score > 0]
            found.append(f"a submission that only calls the package's references scores {self.calls_reference.score:g}"
                         f" of {self.calls_reference.max_score:g} (cells {passed}); hide the reference with "
                         f"curriculum.grading.hidden and compare with literal values")
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        lines = [f"{self.notebook}: {'ok' if self.ok else 'FAILED'}",
                 f"  graded cells: {', '.join(self.graded_cells)}",
                 f"  solution or hidden-test leaks: {len(self.leaks)}",
                 f"  uses of an exercise's names after the last graded cell: {len(self.dependencies)}",
                 f"  autograded: {'up to ' + self.truncated_after if self.truncated_after else 'the whole notebook'}"]
        if self.as_released:
            lines.append(f"  as released: {self.as_released.score:g} / {self.as_released.max_score:g} points; "
                         f"failing cells: {', '.join(self.as_released.error_cells) or 'none'}")
        if self.restored:
            lines.append(f"  solutions restored: {self.restored.score:g} / {self.restored.max_score:g} points; "
                         f"failing cells: {', '.join(self.restored.error_cells) or 'none'}")
        if self.calls_reference:
            lines.append(f"  answers that call the package's references: {self.calls_reference.score:g} / "
                         f"{self.calls_reference.max_score:g} points")
        lines += [f"  ! {p}" for p in self.problems]
        return "\n".join(lines)


def validate(solution_path: Path, out: Path = DEFAULT_OUT, cheats: dict[str, str] | None = None) -> Validation:
    """Check the student version of ``solution_path`` (already built into ``out``).

    ``cheats`` (exercise grade id -> a cell that defines the exercise's function by calling the package's
    reference): when given, a third submission answers every exercise that way and must score zero, and every
    exercise must have one. It is graded in the same nbgrader run as the other two."""
    solution_path = Path(solution_path)
    solution_nb = nbformat.read(solution_path, as_version=4)
    student_path = Path(out) / "release" / solution_path.stem / solution_path.name
    if not student_path.is_file():
        raise FileNotFoundError(f"no student version at {student_path}; build it first")
    student_nb = nbformat.read(student_path, as_version=4)
    report = Validation(solution_path.name, exercises(solution_nb)[1], find_leaks(solution_nb, student_nb),
                        dependencies=exercise_dependencies(solution_nb))
    submissions = {"as_released": student_nb, "restored": restore_solutions(student_nb, solution_nb)}
    if cheats is not None:
        report.missing_cheats = [g for g in exercises(solution_nb)[0] if g not in cheats]
        submissions["calls_reference"] = with_answers(student_nb, cheats)
    if not report.dependencies:  # later cells run the same either way; nbval runs them in the solution version
        submissions = {student: truncate(nb) for student, nb in submissions.items()}
        report.truncated_after = _meta(submissions["as_released"].cells[-1]).get("grade_id")
    grades = autograde_all(out, solution_path.stem, submissions, solution_path.name)
    report.as_released, report.restored = grades["as_released"], grades["restored"]
    report.calls_reference = grades.get("calls_reference")
    return report
