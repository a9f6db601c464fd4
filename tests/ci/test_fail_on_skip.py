"""CI's no-skip switch: with it a skipped test fails the run and names why; without it, a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

SKIPPING = """
import pytest

def test_needs_a_binary():
    pytest.skip("frobnicate not installed (apt-get install frobnicate)")

@pytest.mark.skipif(True, reason="marker skip: no kubectl")
def test_marked():
    pass

@pytest.mark.xfail(reason="a known bug, not a skip")
def test_expected_failure():
    assert False

def test_runs():
    pass
"""

MODULE_SKIP = """
import pytest
pytest.skip("the whole module needs git", allow_module_level=True)
"""


def pytest_run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run pytest with only the no-skip plugin on the test files in ``tmp_path``."""
    run_env = {k: v for k, v in os.environ.items() if k != "DRIFTWATCH_NO_SKIP"}
    run_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "tests.noskip", "-p",
         "no:cacheprovider", "-c", os.devnull, "--rootdir", str(tmp_path), str(tmp_path), *args],
        capture_output=True, text=True, env=run_env, timeout=120, check=False,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    return tmp_path


def test_without_the_switch_a_skip_is_only_a_skip(suite: Path) -> None:
    code, out = pytest_run(suite)
    assert code == 0, out
    assert "1 passed, 2 skipped, 1 xfailed" in out


@pytest.mark.parametrize(
    ("args", "env"), [(("--fail-on-skip",), None), ((), {"DRIFTWATCH_NO_SKIP": "1"})]
)
def test_with_the_switch_every_skip_fails_and_shows_its_reason(
    suite: Path, args: tuple[str, ...], env: dict[str, str] | None
) -> None:
    code, out = pytest_run(suite, *args, env=env)
    assert code == 1, out
    # a skip in the call fails the test; a skipif marker's skip (set-up) errors it
    assert "1 failed, 1 passed, 1 xfailed, 1 error" in out
    assert "frobnicate not installed (apt-get install frobnicate)" in out
    assert "marker skip: no kubectl" in out


def test_with_the_switch_a_module_skipped_at_collection_fails(tmp_path: Path) -> None:
    (tmp_path / "test_module.py").write_text(MODULE_SKIP)
    code, out = pytest_run(tmp_path, "--fail-on-skip")
    assert code != 0, out
    assert "the whole module needs git" in out
    assert "skipped" not in out.splitlines()[-1], out


def test_ci_turns_the_switch_on() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    pytest_lines = [ln for ln in script.splitlines() if ln.strip().startswith(".venv/bin/pytest")]
    assert pytest_lines and all("--fail-on-skip" in line for line in pytest_lines), pytest_lines
