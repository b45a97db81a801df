"""``python -m curriculum.assignments`` (``python3 course.py assign``): build, validate, bundle."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..syllabus import notebook_paths
from . import nbgrader_run
from .bundle import bundle
from .nbgrader_run import DEFAULT_OUT

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m curriculum.assignments",
                                     description="Build (and optionally validate) student versions of the notebooks.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="solution notebooks (default: every notebook of the course in notebooks/)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"course folder (default: {DEFAULT_OUT})")
    parser.add_argument("--validate", action="store_true",
                        help="after building, check each student version in a scratch course folder (so the "
                             "check's test submissions never reach your gradebook)")
    parser.add_argument("--bundle", action="store_true",
                        help="also write the student bundle (student notebooks + package + one setup command) "
                             "to OUT/student_bundle/")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or notebook_paths("notebooks")
    if not notebooks:
        parser.error("no notebooks given and none found under notebooks/")
    for path in nbgrader_run.build(notebooks, args.out):
        print(f"student version: {path}")
    if args.bundle:
        print(f"student bundle: {bundle(notebooks, args.out, args.out / 'student_bundle')}")
    if not args.validate:
        return 0
    with tempfile.TemporaryDirectory(prefix="curriculum-validate-") as scratch:
        nbgrader_run.build(notebooks, Path(scratch))
        reports = [nbgrader_run.validate(path, Path(scratch)) for path in notebooks]
    for report in reports:
        print(report)
    return 0 if all(r.ok for r in reports) else 1
