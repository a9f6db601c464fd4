"""The fingerprint key: created once even by processes racing, and a broken one is named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.subprocess_cli import ROOT, cli_env, run_cli

EXAMPLES = ROOT / "examples" / "driftwatch.yaml"


def test_processes_creating_the_key_at_once_all_get_the_same_key(tmp_path: Path) -> None:
    code = (
        "import sys, time; from driftwatch.keys import load_or_create_key; "
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); "
        "print(load_or_create_key(sys.argv[1]).hex())"
    )
    import time

    start = str(time.time() + 1.5)  # every process calls at the same moment
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / "state"), start],
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    keys = set()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        keys.add(out.strip())
    stored = (tmp_path / "state" / "fingerprint.key").read_text().strip()
    assert keys == {stored} and len(stored) == 64
    assert [p.name for p in (tmp_path / "state").iterdir()] == ["fingerprint.key"]


def test_a_corrupt_key_file_is_named_and_nothing_is_compared(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "fingerprint.key").write_text("not a key\n")
    result = run_cli("check", "--config", str(EXAMPLES), "--state-dir", str(state))
    assert result.returncode == 2
    assert result.stderr.startswith("error: fingerprint key file ")
    assert str(state / "fingerprint.key") in result.stderr and "64 hex digits" in result.stderr
    assert "Traceback" not in result.stderr
    assert (state / "fingerprint.key").read_text() == "not a key\n"  # never overwritten


def test_a_bad_key_in_the_environment_is_named(tmp_path: Path) -> None:
    env = cli_env(DRIFTWATCH_FINGERPRINT_KEY="abc")
    result = run_cli("check", "--config", str(EXAMPLES), env=env)
    assert result.returncode == 2
    assert "$DRIFTWATCH_FINGERPRINT_KEY" in result.stderr and "Traceback" not in result.stderr


def _secret_values(stdout: str) -> list[object]:
    document = json.loads(stdout)
    return [
        (field["desired"], field["live"])
        for target in document["targets"]
        for obj in target["report"]["objects"]
        if obj["kind"] == "Secret"
        for field in obj["fields"]
    ]


def test_fingerprints_are_the_same_from_run_to_run_without_a_state_dir(tmp_path: Path) -> None:
    first = run_cli("check", "--config", str(EXAMPLES), "-o", "json")
    second = run_cli("check", "--config", str(EXAMPLES), "-o", "json")
    values = _secret_values(first.stdout)
    assert values and any(
        isinstance(v, str) and v.startswith("hmac-sha256:") for pair in values for v in pair
    )
    assert values == _secret_values(second.stdout)
