"""Student versions: built by nbgrader, free of solutions, failing exactly their graded cells, and full marks
once the solutions are restored."""
from pathlib import Path

import nbformat
import pytest

from curriculum import assignments

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def exercise_cell(grade_id, source):
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "grade_id": grade_id, "solution": True, "grade": False, "locked": False, "schema_version": 3}})


def graded_cell(grade_id, source, points=1):
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "grade_id": grade_id, "solution": False, "grade": True, "locked": True, "points": points,
        "schema_version": 3}})


SOLUTION = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x  # the secret\n    ### END SOLUTION"
TESTS = ("assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6, 'hidden check'\n"
         "### END HIDDEN TESTS")


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """Every committed notebook built into one nbgrader course folder."""
    out = tmp_path_factory.mktemp("course")
    assignments.build(NOTEBOOKS, out)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_notebook_has_graded_exercises(path):
    solutions, graded = assignments.exercises(nbformat.read(path, as_version=4))
    assert solutions and graded


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_student_version(course, path):
    report = assignments.validate(path, course)
    print(report)
    assert report.leaks == []
    assert sorted(report.as_released.error_cells) == sorted(report.graded_cells)  # exactly the exercises fail
    assert report.as_released.score == 0
    assert report.restored.error_cells == [] and report.restored.score == report.restored.max_score > 0
    assert report.ok


def test_find_leaks_sees_solutions_and_hidden_tests():
    solution = nbformat.v4.new_notebook(cells=[exercise_cell("double", SOLUTION), graded_cell("t", TESTS)])
    clean = nbformat.v4.new_notebook(cells=[
        exercise_cell("double", "def double(x):\n    raise NotImplementedError()"),
        graded_cell("t", "assert double(2) == 4")])
    assert assignments.find_leaks(solution, clean) == []
    leaky = nbformat.from_dict(clean)
    leaky.cells[0].source = "def double(x):\n    return 2 * x  # the secret"
    leaky.cells[1].source = TESTS
    leaks = assignments.find_leaks(solution, leaky)
    assert any("the secret" in leak for leak in leaks)
    assert any("hidden check" in leak for leak in leaks)
    assert any("BEGIN HIDDEN TESTS" in leak for leak in leaks)


def test_restore_solutions_puts_back_only_exercise_code():
    solution = nbformat.v4.new_notebook(cells=[exercise_cell("double", SOLUTION), graded_cell("t", TESTS)])
    student = nbformat.v4.new_notebook(cells=[
        exercise_cell("double", "def double(x):\n    raise NotImplementedError()"),
        graded_cell("t", "assert double(2) == 4")])
    restored = assignments.restore_solutions(student, solution)
    assert restored.cells[0].source == SOLUTION
    assert restored.cells[1].source == "assert double(2) == 4"  # nbgrader restores hidden tests when grading
    assert student.cells[0].source.endswith("NotImplementedError()")  # the input is not modified


def test_validation_reports_a_student_version_that_fails_elsewhere():
    report = assignments.Validation("x.ipynb", ["t"], [], as_released=assignments.GradeReport(
        0.0, 1.0, {"t": (0.0, 1.0)}, ["t", "cell 7"]))
    assert not report.ok and "cell 7" in report.problems[0]


def test_build_refuses_notebooks_without_exercises(tmp_path):
    plain = tmp_path / "99_plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), plain)
    with pytest.raises(ValueError, match="no nbgrader exercise"):
        assignments.build([plain], tmp_path / "course")
    with pytest.raises(FileNotFoundError, match="notebooks"):
        assignments.build([tmp_path / "missing.ipynb"], tmp_path / "course")
    with pytest.raises(ValueError, match="at least one"):
        assignments.build([], tmp_path / "course")
