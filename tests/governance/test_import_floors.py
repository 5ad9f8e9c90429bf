"""The floors between the apps and between governance's rooms are executable (pyproject.toml's
import-linter contracts, which ``make test`` runs): they hold today, and an upward import or a
cycle between rooms, even inside a function, breaks them.

Each check runs ``lint-imports`` on a copy of the four packages, so nothing here edits the
checkout."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("governance", "grid", "partybuild", "collective_economy")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")


@pytest.fixture
def tree(tmp_path):
    """A copy of the packages and of pyproject.toml to break."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint(tree: Path) -> subprocess.CompletedProcess:
    # A wide console, so that no contract's name is wrapped in the report.
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=tree, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def broken_contracts(result: subprocess.CompletedProcess) -> list[str]:
    return [line.removesuffix(" BROKEN").strip() for line in result.stdout.splitlines() if line.endswith("BROKEN")]


def test_the_contracts_hold_on_the_checkout(tree):
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_governance_importing_an_app_breaks_the_floors(tree):
    append(tree / "governance" / "selectors.py",
           "\n\ndef cases():\n    from grid.models import Case\n\n    return Case\n")
    result = lint(tree)
    assert result.returncode == 1
    assert broken_contracts(result) == ["The apps stand on floors: imports only go down"]
    assert "governance.selectors -> grid.models" in result.stdout


def test_a_model_importing_the_services_breaks_the_rooms_and_makes_a_cycle(tree):
    """The tangle this part undid: the models took the tree lock from the services."""
    append(tree / "governance" / "models" / "org.py",
           "\n\ndef lock():\n    from governance.services import orgunit_create\n")
    result = lint(tree)
    assert result.returncode == 1
    broken = broken_contracts(result)
    assert "governance's rooms are layered: each imports only the rooms below it" in broken
    assert "No import cycles between sibling modules anywhere" in broken


def test_grid_reaching_into_partybuild_views_is_refused(tree):
    append(tree / "grid" / "selectors" / "work.py", "\n\ndef board():\n    from partybuild import views\n")
    result = lint(tree)
    assert result.returncode == 1
    assert broken_contracts(result) == ["grid reaches partybuild only through its models, services and selectors"]
