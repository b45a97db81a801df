"""environment.yml (conda) and pyproject.toml (pip) must describe the same environment, and course.py must ask
for the same Python (3.11 or newer: tomllib, used here, is in the standard library from 3.11 on)."""
import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def parse(spec: str) -> tuple[str, str]:
    name, constraint = REQUIREMENT.match(spec).groups()
    return name.lower().replace("_", "-"), constraint.replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + [s for group in project["optional-dependencies"].values() for s in group]
    return dict(parse(s) for s in specs)


def conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    found: dict[str, str] = {}
    for entry in env["dependencies"]:
        if isinstance(entry, dict):  # the pip: section
            for spec in entry["pip"]:
                if not spec.startswith("-"):
                    found.update([parse(spec)])
        else:
            found.update([parse(entry)])
    return found


def test_same_packages_and_versions():
    conda = conda_requirements()
    python = conda.pop("python")
    conda.pop("pip")
    assert conda == pyproject_requirements()
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python == requires


def test_environment_installs_the_package_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(entry["pip"] for entry in env["dependencies"] if isinstance(entry, dict))
    assert "--editable ." in pip_section


def test_one_minimum_python_everywhere():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = tuple(int(part) for part in re.fullmatch(r">=(\d+)\.(\d+)", requires).groups())
    spec = importlib.util.spec_from_file_location("_course_settings", ROOT / "course.py")
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)
    assert course.MIN_PYTHON == minimum == (3, 11)
    assert f"Python {minimum[0]}.{minimum[1]}+" in course.__doc__
    assert conda_requirements()["python"] == requires
    assert sys.version_info >= minimum
