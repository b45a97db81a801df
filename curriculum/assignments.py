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

Cells after the last graded cell must not use a name that an exercise cell or a graded test cell binds (directly or
through a cell in between); ``exercise_dependencies`` checks that from the source text. When it holds, those cells
run the same with or without the students' code, so both versions are autograded only up to the last graded cell
(``truncate``), in one nbgrader run; the complete solution notebook is executed by the test suite (nbval), which
covers the rest. When it does not hold, that is a validation problem and both versions are autograded whole.
"""
from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .syllabus import notebook_paths

__all__ = [
    "DEFAULT_OUT",
    "exercises",
    "build",
    "find_leaks",
    "restore_solutions",
    "exercise_dependencies",
    "truncate",
    "autograde",
    "autograde_all",
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


def _is_nbgrader_cell(cell) -> bool:
    meta = _meta(cell)
    return bool(meta.get("grade") or meta.get("solution") or meta.get("task"))


def _last_nbgrader_cell(nb: nbformat.NotebookNode) -> int | None:
    """Index of the last cell that nbgrader grades or asks students to fill in (None when there is none)."""
    indices = [index for index, cell in enumerate(nb.cells) if _is_nbgrader_cell(cell)]
    return indices[-1] if indices else None


def truncate(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` that ends with its last graded, exercise or task cell (``nb`` itself is not modified)."""
    copy = nbformat.from_dict(nb)
    last = _last_nbgrader_cell(copy)
    if last is not None:
        copy.cells = copy.cells[: last + 1]
    return copy


def _python_source(source: str) -> str:
    """A cell's source as plain Python: IPython's magics and shell escapes become ordinary calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # no IPython: drop magic and shell lines, they bind no name of interest
        return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    return TransformerManager().transform_cell(source)


class _Names(ast.NodeVisitor):
    """The names one top-level statement loads and binds (module scope), read from its syntax tree.

    ``bound`` over-approximates: names bound on some path only, loop and comprehension variables, and names whose
    object is changed in place by assignment (``x.attr = ...``, ``x[i] = ...``, ``del x[i]``). ``surely_bound``
    holds the names a plain assignment, ``def``, ``class`` or ``import`` at the top level always rebinds.
    Changes made by calling a method (``x.append(1)``) are not seen.
    """

    def __init__(self, statement: ast.stmt):
        self.loaded: set[str] = set()
        self.bound: set[str] = set()
        self.surely_bound: set[str] = set()
        self._depth = 0  # > 0 inside a function, class or lambda body, whose names are local
        self.visit(statement)
        self.surely_bound = self._surely(statement)

    @staticmethod
    def _surely(statement: ast.stmt) -> set[str]:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return {statement.name}
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            return {alias.asname or alias.name.split(".")[0] for alias in statement.names if alias.name != "*"}
        targets = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets = [statement.target]
        names, stack = set(), list(targets)
        while stack:
            target = stack.pop()
            if isinstance(target, ast.Name):
                names.add(target.id)
            elif isinstance(target, (ast.Tuple, ast.List)):
                stack.extend(target.elts)
            elif isinstance(target, ast.Starred):
                stack.append(target.value)
        return names

    def _bind(self, name: str) -> None:
        if self._depth == 0:
            self.bound.add(name)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.loaded.add(node.id)
        else:
            self._bind(node.id)

    def _changed_in_place(self, node: ast.Attribute | ast.Subscript) -> None:
        if not isinstance(node.ctx, ast.Load):
            base = node.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                self._bind(base.id)
        self.generic_visit(node)

    visit_Attribute = visit_Subscript = _changed_in_place

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):  # x += 1 reads x as well
            self.loaded.add(node.target.id)
        self.generic_visit(node)

    def _scope(self, node: ast.AST) -> None:
        name = getattr(node, "name", None)
        if name is not None:
            self._bind(name)
        self._depth += 1
        self.generic_visit(node)  # loads anywhere inside count: the function may be called later
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _scope

    def visit_Global(self, node: ast.Global) -> None:
        self.bound.update(node.names)  # a function that declares a global rebinds it when called

    def visit_Call(self, node: ast.Call) -> None:
        # %time, %%capture and friends run code given as text: read the text as code too where it parses
        if isinstance(node.func, ast.Attribute) and node.func.attr in {"run_line_magic", "run_cell_magic"}:
            for argument in node.args[1:]:
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    try:
                        self.visit(ast.parse(argument.value))
                    except SyntaxError:
                        pass
        self.generic_visit(node)

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            self._bind("*" if alias.name == "*" else alias.asname or alias.name.split(".")[0])

    visit_Import = visit_ImportFrom = _import


def exercise_dependencies(solution_nb: nbformat.NotebookNode) -> list[str]:
    """Uses, after the last graded cell, of a name an exercise cell or a graded test cell binds (empty = none).

    Read from the solution version's source, without running it: every name bound by an exercise or graded test
    cell is marked, and so is every name that a later statement binds using a marked one; an unconditional
    rebinding from unmarked names (``double = reference.double``) clears the mark. A cell after the last graded
    cell that loads a marked name would run differently in a student's notebook. What cannot be analysed (a cell
    that does not parse, a star import in an exercise) counts as a use.
    """
    last = _last_nbgrader_cell(solution_nb)
    if last is None:
        return []
    marked: dict[str, str] = {}  # name -> the cell that binds it (and the exercise its value comes from)
    unknown: str | None = None  # an exercise or graded cell whose bindings cannot be read
    found: list[str] = []
    for index, cell in enumerate(solution_nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        meta = _meta(cell)
        kind = "exercise cell" if meta.get("solution") else "graded test cell" if meta.get("grade") else None
        try:
            statements = ast.parse(_python_source(cell.source)).body
        except SyntaxError as error:
            reason = f"cell {index} cannot be parsed ({error.msg}, line {error.lineno})"
            if kind:
                unknown = unknown or f"{kind} {meta.get('grade_id')!r}, which cannot be parsed"
            elif index > last:
                found.append(f"{reason}, so whether it uses an exercise's names is unknown")
            continue
        uses: dict[str, str] = {}
        for statement in statements:
            names = _Names(statement)
            if kind:
                if "*" in names.bound:
                    unknown = unknown or f"{kind} {meta.get('grade_id')!r}, whose star import cannot be analysed"
                for name in names.bound - {"*"}:
                    marked[name] = f"{kind} {meta.get('grade_id')!r}"
                continue
            used = {name: marked[name] for name in sorted(names.loaded) if name in marked}
            uses.update(used)
            if used:
                origin = next(iter(used.values())).split(" with a value from ")[-1]
                for name in names.bound - {"*"}:
                    marked[name] = f"cell {index} with a value from {origin}"
            else:
                for name in names.surely_bound:
                    marked.pop(name, None)
        if index > last:
            found += [f"cell {index} uses {name!r}, bound by {binder}" for name, binder in uses.items()]
            if unknown:
                found.append(f"cell {index} may use a name bound by {unknown}")
    return found


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
    report = Validation(solution_path.name, exercises(solution_nb)[1], find_leaks(solution_nb, student_nb),
                        dependencies=exercise_dependencies(solution_nb))
    released, restored = student_nb, restore_solutions(student_nb, solution_nb)
    if not report.dependencies:  # later cells run the same either way; nbval runs them in the solution version
        released, restored = truncate(released), truncate(restored)
        report.truncated_after = _meta(released.cells[-1]).get("grade_id")
    grades = autograde_all(out, solution_path.stem, {"as_released": released, "restored": restored},
                           solution_path.name)
    report.as_released, report.restored = grades["as_released"], grades["restored"]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m curriculum.assignments",
                                     description="Build (and optionally validate) student versions of the notebooks.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="solution notebooks (default: every notebooks/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"course folder (default: {DEFAULT_OUT})")
    parser.add_argument("--validate", action="store_true",
                        help="after building, check each student version (runs each notebook twice, up to its last "
                             "graded cell when nothing after it depends on an exercise)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or notebook_paths("notebooks")
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
