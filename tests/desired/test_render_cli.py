"""``driftwatch render`` as a user runs it: a subprocess against a real git remote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.desired.conftest import Remote
from tests.desired.test_plain_render import cm

# Values from the recorded shop Secrets (tests/fixtures/.../shop/git/10-config.yaml).
SECRET_STRING = "s3cr3t-Shop-Pa55"
SECRET_DATA = "dG9rZW4tZm9yLWFwaQ=="


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    return subprocess.run(
        [sys.executable, "-m", "driftwatch", "render", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_render_prints_sorted_stream_with_sources_and_masked_secrets(
    shop_remote: Remote, tmp_path: Path
) -> None:
    secret_file = (shop_remote.work / "10-config.yaml").read_text()
    assert SECRET_STRING in secret_file, "fixture holds the secret this test looks for"

    proc = run(tmp_path, "--repo", str(shop_remote.bare), "--rev", "main")

    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert SECRET_STRING not in proc.stdout and SECRET_DATA not in proc.stdout
    docs = list(yaml.safe_load_all(proc.stdout))
    assert len(docs) == 20
    secret = next(d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == "shop-db")
    assert set(secret["stringData"].values()) == {"<redacted>"}
    sources = [line for line in proc.stdout.splitlines() if line.startswith("# Source: ")]
    assert len(sources) == 20 and "# Source: 10-config.yaml#2" in sources
    assert (tmp_path / "xdg" / "driftwatch").is_dir(), "default cache under XDG_CACHE_HOME"


def test_show_secrets_prints_values(shop_remote: Remote, tmp_path: Path) -> None:
    proc = run(
        tmp_path,
        "--repo",
        str(shop_remote.bare),
        "--show-secrets",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert proc.returncode == 0, proc.stderr
    assert SECRET_STRING in proc.stdout


def test_bad_file_exits_2_names_it_and_still_prints_the_rest(
    remote: Remote, tmp_path: Path
) -> None:
    remote.commit({"good.yaml": cm("good", "ns"), "bad.yaml": cm("x") + "data:\n  dup: 1\n"})
    remote.push("main")
    proc = run(tmp_path, "--repo", str(remote.bare), "--cache-dir", str(tmp_path / "c"))
    assert proc.returncode == 2
    assert "bad.yaml:7" in proc.stderr and "duplicate key" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(proc.stdout)] == ["good"]


def test_unknown_revision_and_bad_config_exit_2_without_traceback(
    remote: Remote, tmp_path: Path
) -> None:
    remote.commit({"good.yaml": cm("good")})
    remote.push("main")
    proc = run(
        tmp_path, "--repo", str(remote.bare), "--rev", "nope", "--cache-dir", str(tmp_path / "c")
    )
    assert proc.returncode == 2
    assert "revision 'nope' not found" in proc.stderr and "Traceback" not in proc.stderr

    conf = tmp_path / "dw.yaml"
    conf.write_text("targets:\n  - name: t\n    repo: x\n    rve: main\n")
    proc = run(tmp_path, "--config", str(conf))
    assert proc.returncode == 2
    assert f"{conf}:4: targets[0].rve: unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_helm_error_exits_2_without_traceback(remote: Remote, tmp_path: Path) -> None:
    remote.commit(
        {
            "Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
            "templates/cm.yaml": "{{ .Values.nope.nope }}\n",
        }
    )
    remote.push("main")
    proc = run(tmp_path, "--repo", str(remote.bare), "--cache-dir", str(tmp_path / "c"))
    assert proc.returncode == 2
    assert "helm" in proc.stderr and "nil pointer" in proc.stderr
    assert "Traceback" not in proc.stderr
