"""Notebook transforms for the student versions: exercises found by nbgrader metadata, leaks, restoring
solutions, answering exercises, truncating after the last graded cell. Pure functions of notebooks; nothing runs.
"""
from __future__ import annotations

import nbformat

__all__ = ["SOLUTION_BEGIN", "SOLUTION_END", "HIDDEN_BEGIN", "HIDDEN_END", "exercises", "find_leaks",
           "restore_solutions", "truncate", "with_answers"]

SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def exercises(nb: nbformat.NotebookNode) -> tuple[list[str], list[str]]:
    """Grade ids of the exercise (solution) cells and of the graded test cells, in notebook order."""
    solutions = [_meta(c)["grade_id"] for c in nb.cells if _meta(c).get("solution") and c.cell_type == "code"]
    graded = [_meta(c)["grade_id"] for c in nb.cells if _meta(c).get("grade") and c.cell_type == "code"]
    return solutions, graded


def _split_by_markers(source: str) -> tuple[list[str], set[str]]:
    """A cell's stripped lines split in two: the non-trivial ones between SOLUTION (or HIDDEN TESTS) markers (what
    students must not see), and every one outside them (what they see anyway)."""
    secret, public, inside = [], set(), False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped in (SOLUTION_BEGIN, HIDDEN_BEGIN):
            inside = True
        elif stripped in (SOLUTION_END, HIDDEN_END):
            inside = False
        elif not inside:
            public.add(stripped)
        elif len(stripped) > 12 and not stripped.startswith("#"):
            secret.append(stripped)
    return secret, public


def find_leaks(solution_nb: nbformat.NotebookNode, student_nb: nbformat.NotebookNode) -> list[str]:
    """Everything of the solutions or hidden tests that survived into the student version (empty = clean)."""
    student_text = "\n".join(c.source for c in student_nb.cells)
    leaks = [f"marker {m!r} is still present" for m in (SOLUTION_BEGIN, HIDDEN_BEGIN) if m in student_text]
    student_lines = {line.strip() for line in student_text.splitlines()}
    for cell in solution_nb.cells:
        if cell.cell_type != "code":
            continue
        # a line the cell also shows outside its markers (a repeated `with grading.hidden(...)`, say) is public
        secret, public = _split_by_markers(cell.source)
        for line in secret:
            if line in student_lines and line not in public:
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


def with_answers(student_nb: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of ``student_nb`` whose exercise cells hold ``answers[grade_id]`` (exercises without one keep the
    released stub)."""
    submission = nbformat.from_dict(student_nb)
    for cell in submission.cells:
        grade_id = _meta(cell).get("grade_id")
        if cell.cell_type == "code" and _meta(cell).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    return submission
