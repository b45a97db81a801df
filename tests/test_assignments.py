"""Student versions: built by nbgrader, free of solutions, failing exactly their graded cells, and full marks
once the solutions are restored; autograded up to the last graded cell when nothing after it depends on an
exercise."""
from pathlib import Path

import nbformat
import pytest

from curriculum import assignments
from curriculum.syllabus import notebook_paths

from cheats import cheats_for

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = notebook_paths(ROOT / "notebooks")


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


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_student_version(course, path):
    report = assignments.validate(path, course, cheats=cheats_for(path.stem))
    print(report)
    assert report.leaks == []
    assert report.dependencies == []  # so only the cells up to the last graded one were autograded
    assert report.truncated_after is not None
    assert sorted(report.as_released.error_cells) == sorted(report.graded_cells)  # exactly the exercises fail
    assert report.as_released.score == 0
    assert report.restored.error_cells == [] and report.restored.score == report.restored.max_score > 0
    assert report.missing_cheats == []  # every exercise was also answered by calling the package's reference ...
    assert report.calls_reference.score == 0  # ... and that scores nothing
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


def markdown(text="Some prose."):
    return nbformat.v4.new_markdown_cell(text)


def course_notebook(*later_sources, between=None, test=TESTS):
    """setup, exercise, (a plain cell), graded test, prose, then plain cells with ``later_sources``."""
    cells = [markdown("# A synthetic notebook"), nbformat.v4.new_code_cell("import math"),
             exercise_cell("double", SOLUTION)]
    if between is not None:
        cells.append(nbformat.v4.new_code_cell(between))
    cells += [graded_cell("t", test), markdown()]
    cells += [nbformat.v4.new_code_cell(source) for source in later_sources]
    return nbformat.v4.new_notebook(cells=cells)


def test_truncate_ends_with_the_last_graded_cell_and_leaves_the_input_alone():
    nb = course_notebook("x = 1", "print(x)")
    cut = assignments.truncate(nb)
    assert [c.source for c in cut.cells] == [c.source for c in nb.cells[:4]]
    assert cut.cells[-1].metadata["nbgrader"]["grade_id"] == "t"
    assert len(nb.cells) == 7
    # a task cell (graded prose) after the last graded code cell is kept, as is everything before it
    task = markdown("Explain.")
    task.metadata["nbgrader"] = {"grade_id": "essay", "task": True, "grade": True, "solution": False,
                                 "locked": True, "points": 1, "schema_version": 3}
    with_task = nbformat.v4.new_notebook(cells=nb.cells[:5] + [task] + nb.cells[5:])
    assert assignments.truncate(with_task).cells[-1].metadata["nbgrader"]["grade_id"] == "essay"
    assert len(assignments.truncate(with_task).cells) == 6
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert len(assignments.truncate(plain).cells) == 1


def test_later_cells_that_use_only_reference_code_do_not_depend_on_the_exercise():
    nb = course_notebook("reference = {'double': lambda x: 2 * x}\nprint(reference['double'](3))",
                         "double = reference['double']\nprint(double(4))",  # rebinding first: the exercise is gone
                         "%matplotlib inline\nprint(math.pi)",
                         "def plot(values):\n    return [double(v) for v in values]")
    assert assignments.exercise_dependencies(nb) == []


@pytest.mark.parametrize("later, name, binder", [
    ("print(double(5))", "double", "exercise cell 'double'"),
    ("def twice(x):\n    return double(x)", "double", "exercise cell 'double'"),  # loads inside a def count
    ("%time y = double(5)", "double", "exercise cell 'double'"),  # code run by a magic counts
    ("if False:\n    double = abs\nprint(double(5))", "double", "exercise cell 'double'"),  # maybe rebound
    ("for double in [abs]:\n    pass\nprint(double(5))", "double", "exercise cell 'double'"),
    ("print(checked)", "checked", "graded test cell 't'"),  # a graded cell fails midway as released
])
def test_a_later_cell_that_uses_an_exercise_name_is_reported_with_the_cell_and_the_name(later, name, binder):
    nb = course_notebook(later, test="checked = double(2)\n" + TESTS)
    assert assignments.exercise_dependencies(nb) == [f"cell 5 uses {name!r}, bound by {binder}"]


def test_names_bound_from_an_exercise_in_between_are_followed():
    nb = course_notebook("print(table)", between="table = {k: double(k) for k in range(3)}\nsize = len('abc')")
    assert assignments.exercise_dependencies(nb) == [
        "cell 6 uses 'table', bound by cell 3 with a value from exercise cell 'double'"]
    # a cell between that binds from reference code only is not an exercise's
    assert assignments.exercise_dependencies(course_notebook("print(size)", between="size = len('abc')")) == []


def test_exercise_state_changed_in_place_and_unparsable_cells_are_reported():
    nb = course_notebook("print(settings)")
    nb.cells[1].source = "settings = {}"
    nb.cells[2].source = "settings['scale'] = 2\n" + SOLUTION  # the exercise changes an earlier object
    assert assignments.exercise_dependencies(nb) == ["cell 5 uses 'settings', bound by exercise cell 'double'"]
    broken = course_notebook("print(")
    assert "cell 5 cannot be parsed" in assignments.exercise_dependencies(broken)[0]
    star = course_notebook("print(floor(2.5))")
    star.cells[2].source = "from math import *\n" + SOLUTION
    assert assignments.exercise_dependencies(star) == [
        "cell 5 may use a name bound by exercise cell 'double', whose star import cannot be analysed"]


def test_validation_reports_a_later_cell_that_depends_on_an_exercise():
    perfect = assignments.GradeReport(1.0, 1.0, {"t": (1.0, 1.0)}, [])
    report = assignments.Validation("x.ipynb", ["t"], [], assignments.GradeReport(0.0, 1.0, {"t": (0.0, 1.0)}, ["t"]),
                                    perfect, dependencies=["cell 5 uses 'double', bound by exercise cell 'double'"])
    assert not report.ok
    assert "cell 5 uses 'double'" in report.problems[0] and "whole" in report.problems[0]
    assert "the whole notebook" in str(report)


def fake_course(tmp_path, solution):
    """A solution notebook and a hand-made student version where nbgrader would put it."""
    path = tmp_path / "07_synthetic.ipynb"
    nbformat.write(solution, path)
    student = nbformat.from_dict(solution)
    student.cells[2].source = "def double(x):\n    raise NotImplementedError()"
    student.cells[3].source = "assert double(2) == 4"
    release = tmp_path / "course" / "release" / path.stem
    release.mkdir(parents=True)
    nbformat.write(student, release / path.name)
    return path, tmp_path / "course"


@pytest.mark.parametrize("later, truncated", [("print(math.pi)", True), ("print(double(5))", False)])
def test_validate_autogrades_truncated_versions_only_when_nothing_later_depends(tmp_path, monkeypatch, later,
                                                                                truncated):
    calls = []

    def autograde_all(out, assignment, submissions, name):
        calls.append(submissions)
        released = assignments.GradeReport(0.0, 1.0, {"t": (0.0, 1.0)}, ["t"])
        return {student: released if student == "as_released" else assignments.GradeReport(1.0, 1.0, {}, [])
                for student in submissions}

    monkeypatch.setattr(assignments.nbgrader_run, "autograde_all", autograde_all)
    solution = course_notebook(later)
    report = assignments.validate(*fake_course(tmp_path, solution))
    assert len(calls) == 1 and set(calls[0]) == {"as_released", "restored"}  # both students in one nbgrader run
    released, restored = calls[0]["as_released"], calls[0]["restored"]
    assert len(released.cells) == len(restored.cells) == (4 if truncated else 6)
    assert "NotImplementedError" in released.cells[2].source and restored.cells[2].source == SOLUTION
    assert report.truncated_after == ("t" if truncated else None)
    assert report.ok is truncated
    assert bool(report.dependencies) is not truncated


@pytest.mark.notebook
def test_validate_with_nbgrader_skips_cells_after_the_last_graded_one_and_other_students(tmp_path):
    """Real nbgrader runs: the cell after the last graded one would fail in both versions, yet validation passes
    because it is not executed; when that cell uses the exercise, the versions run whole and it fails."""
    later_fails = tmp_path / "91_later_fails.ipynb"
    nbformat.write(course_notebook("raise RuntimeError('not reached when truncated')"), later_fails)
    depends = tmp_path / "92_depends.ipynb"
    nbformat.write(course_notebook("print(double(5))"), depends)
    out = tmp_path / "course"
    assignments.build([later_fails, depends], out)
    someone = out / "submitted" / "someone" / later_fails.stem  # a real student's submission stays untouched
    someone.mkdir(parents=True)
    nbformat.write(nbformat.read(out / "release" / later_fails.stem / later_fails.name, as_version=4),
                   someone / later_fails.name)

    report = assignments.validate(later_fails, out)
    print(report)
    assert report.ok and report.truncated_after == "t"
    assert report.as_released.error_cells == ["t"] and report.restored.score == report.restored.max_score == 1
    assert not (out / "autograded" / "someone").exists()

    report = assignments.validate(depends, out)
    print(report)
    assert report.truncated_after is None
    assert report.dependencies == ["cell 5 uses 'double', bound by exercise cell 'double'"]
    assert report.as_released.error_cells == ["t", "cell 5"]  # the whole notebook ran
    assert report.restored.error_cells == [] and not report.ok


def test_reference_calling_answers_replace_only_exercise_cells_and_must_score_zero():
    student = nbformat.v4.new_notebook(cells=[
        exercise_cell("double", "def double(x):\n    raise NotImplementedError()"),
        graded_cell("t", "assert double(2) == 4")])
    cheating = assignments.with_answers(student, {"double": "def double(x):\n    return reference_double(x)"})
    assert cheating.cells[0].source.endswith("reference_double(x)")
    assert cheating.cells[1].source == "assert double(2) == 4"
    assert student.cells[0].source.endswith("NotImplementedError()")  # the input is not modified

    report = assignments.Validation("x.ipynb", ["t"], calls_reference=assignments.GradeReport(
        1.0, 1.0, {"t": (1.0, 1.0)}, []))
    assert not report.ok and "only calls the package's references scores 1" in report.problems[0]
    report.calls_reference = assignments.GradeReport(0.0, 1.0, {"t": (0.0, 1.0)}, ["t"])
    assert report.ok
    report.missing_cheats = ["double"]
    assert not report.ok and "no reference-calling submission" in report.problems[0]


@pytest.mark.notebook
def test_student_bundle_holds_the_student_versions_and_the_package_and_no_solution(course, tmp_path):
    archive = assignments.bundle(NOTEBOOKS, course, tmp_path)
    folder = tmp_path / "genmodels-curriculum-student"
    assert archive.is_file() and archive.suffix == ".zip"
    for path in NOTEBOOKS:
        student = nbformat.read(folder / "notebooks" / path.name, as_version=4)
        assert assignments.find_leaks(nbformat.read(path, as_version=4), student) == []
        assert any("NotImplementedError" in cell.source for cell in student.cells)
    assert (folder / "curriculum" / "__init__.py").is_file() and (folder / "course.py").is_file()
    assert (folder / "pyproject.toml").is_file() and (folder / "data" / "README.md").is_file()
    assert not (folder / "tests").exists() and not list(folder.rglob("__pycache__"))
    assert "python3 course.py lab" in (folder / "README.md").read_text()
    import zipfile

    names = zipfile.ZipFile(archive).namelist()
    assert "genmodels-curriculum-student/course.py" in names
    assert not any(name.startswith("genmodels-curriculum-student/tests/") for name in names)


def test_validate_command_uses_a_scratch_course_so_the_gradebook_stays_clean(tmp_path, monkeypatch):
    """--validate builds the instructor's course folder, but its test submissions go to a scratch folder."""
    solution = nbformat.v4.new_notebook(cells=[exercise_cell("double", SOLUTION), graded_cell("t", TESTS)])
    path = tmp_path / "99_double.ipynb"
    nbformat.write(solution, path)
    built, validated = [], []
    monkeypatch.setattr(assignments.nbgrader_run, "build", lambda notebooks, out: built.append(Path(out)) or [])
    monkeypatch.setattr(assignments.nbgrader_run, "validate", lambda p, out, cheats=None: validated.append(Path(out))
                        or assignments.Validation(p.name, ["t"]))
    course = tmp_path / "course"
    assert assignments.main([str(path), "--out", str(course), "--validate"]) == 0
    assert built[0] == course and validated and all(out != course for out in validated)
    assert built[1] == validated[0]  # the scratch folder was built before it was validated


def test_a_hidden_line_that_the_cell_also_shows_openly_is_not_a_leak():
    test = ("with grading.hidden(reference_double):\n    got = double(2)\nassert got == 4\n"
            "### BEGIN HIDDEN TESTS\nwith grading.hidden(reference_double):\n    got = double(-3)\n"
            "assert got == -6, 'negative numbers too'\n### END HIDDEN TESTS")
    solution = nbformat.v4.new_notebook(cells=[exercise_cell("double", SOLUTION), graded_cell("t", test)])
    student = nbformat.v4.new_notebook(cells=[
        exercise_cell("double", "def double(x):\n    raise NotImplementedError()"),
        graded_cell("t", "with grading.hidden(reference_double):\n    got = double(2)\nassert got == 4")])
    assert assignments.find_leaks(solution, student) == []
    student.cells[1].source += "\nassert got == -6, 'negative numbers too'"
    assert any("negative numbers too" in leak for leak in assignments.find_leaks(solution, student))
