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

Modules: ``notebooks`` (pure notebook transforms), ``dependencies`` (the ast check above), ``nbgrader_run``
(building, autograding, validating), ``bundle`` (the student bundle), ``cli`` (the command line).
"""
from .bundle import BUNDLE_FILES, bundle
from .cli import main
from .dependencies import exercise_dependencies
from .nbgrader_run import (CONFIG, DEFAULT_OUT, GradeReport, Validation, autograde, autograde_all, build,
                           validate)
from .notebooks import exercises, find_leaks, restore_solutions, truncate, with_answers

__all__ = ["DEFAULT_OUT", "CONFIG", "BUNDLE_FILES", "exercises", "build", "find_leaks", "restore_solutions",
           "exercise_dependencies", "truncate", "autograde", "autograde_all", "validate", "with_answers", "bundle",
           "GradeReport", "Validation", "main"]
