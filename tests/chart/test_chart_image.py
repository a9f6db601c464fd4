"""The container image definition and the chart agree with `driftwatch serve` and each other.

No Docker engine runs here, so the Dockerfile is checked as text: what it installs,
how it verifies kubectl, who it runs as, and that its default command and the
chart's container arguments are accepted by the real `serve` command line.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from typing import Any

import click

from driftwatch.cli import serve_cmd
from tests.chart.chart_render import REPO, render_chart

DOCKERFILE = (REPO / "Dockerfile").read_text()
DOCKERIGNORE = (REPO / ".dockerignore").read_text()


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    pairs = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (k, _) in enumerate(instructions) if k == "FROM")
    return instructions[last_from:]


def _exec_form(keyword: str) -> list[str]:
    (value,) = [v for k, v in _final_stage() if k == keyword]
    parsed: list[str] = json.loads(value)
    return parsed


def test_image_is_multi_stage_on_slim_python() -> None:
    froms = [v for k, v in _instructions() if k == "FROM"]
    assert len(froms) >= 2
    assert all(f.startswith("python:${PYTHON_VERSION}-slim") for f in froms)
    assert re.search(r"^ARG PYTHON_VERSION=3\.1[2-9]$", DOCKERFILE, re.MULTILINE)
    assert "pip wheel" in DOCKERFILE and "/opt/driftwatch/bin/pip install /wheels/" in DOCKERFILE


def test_runtime_stage_has_git_and_ssh_from_apt_and_a_verified_kubectl() -> None:
    runtime = " ".join(v for _, v in _final_stage())
    assert re.search(r"apt-get install [^&]*\bgit\b", runtime)
    assert re.search(r"apt-get install [^&]*\bopenssh-client\b", runtime)
    assert "COPY --from=kubectl /usr/local/bin/kubectl /usr/local/bin/kubectl" in DOCKERFILE
    # kubectl comes from the official release and must match a pinned checksum.
    assert re.search(r"https://dl\.k8s\.io/release/\$\{KUBECTL_VERSION\}/bin/linux/", DOCKERFILE)
    assert re.search(r"sha256sum -c", DOCKERFILE)
    for arch in ("AMD64", "ARM64"):
        assert re.search(rf"^ARG KUBECTL_SHA256_{arch}=[0-9a-f]{{64}}$", DOCKERFILE, re.MULTILINE)
    assert re.search(r"^ARG KUBECTL_VERSION=v1\.\d+\.\d+$", DOCKERFILE, re.MULTILINE)


def test_image_runs_as_the_fixed_non_root_uid_the_chart_expects() -> None:
    (user,) = [v for k, v in _final_stage() if k == "USER"]
    assert user == "65532:65532"
    values = render_chart({}).one("Deployment")["spec"]["template"]["spec"]["securityContext"]
    assert values["runAsUser"] == 65532 and values["runAsGroup"] == 65532
    assert any(k == "WORKDIR" for k, _ in _final_stage())


def test_entrypoint_is_driftwatch_and_default_command_serves_the_chart_paths() -> None:
    assert _exec_form("ENTRYPOINT") == ["driftwatch"]
    command = _exec_form("CMD")
    assert command[0] == "serve"
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert options == {
        "--config": "/etc/driftwatch/config.yaml",
        "--listen": "0.0.0.0:8080",
        "--state-dir": "/var/lib/driftwatch",
        "--cache-dir": "/var/cache/driftwatch",
    }


def _serve_command() -> click.Command:
    command: click.Command = serve_cmd.command
    return command


def _parse_serve(args: list[str]) -> dict[str, Any]:
    command = _serve_command()
    assert args[0] == "serve"
    with command.make_context("serve", args[1:]) as ctx:
        return dict(ctx.params)


def test_serve_accepts_the_image_default_command() -> None:
    params = _parse_serve(_exec_form("CMD"))
    assert params["config_path"] == "/etc/driftwatch/config.yaml"
    assert params["state_dir"] == "/var/lib/driftwatch"


def test_serve_accepts_the_chart_container_arguments() -> None:
    values = {"gracePeriodSeconds": 40, "apiToken": {"existingSecret": "api"}}
    deployment = render_chart(values).one("Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    params = _parse_serve(container["args"])
    assert params["grace_period"] == 40
    assert params["listen"] == "0.0.0.0:8080"
    assert params["cache_dir"] == "/var/cache/driftwatch"
    assert params["token_file"] == "/var/run/secrets/driftwatch/api/token"
    assert params["log_format"] == "json"


def _ignored(path: str) -> bool:
    """Docker's .dockerignore rule: the last matching pattern (or its negation) wins."""
    ignored = False
    for line in DOCKERIGNORE.splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        if pattern.startswith("**/"):  # any path component
            candidates = parts
            pattern = pattern.removeprefix("**/")
        else:  # the path or one of its parent directories
            candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
            ignored = not negate
    return ignored


def test_build_context_holds_what_the_dockerfile_copies_and_little_else() -> None:
    copies = [shlex.split(v) for k, v in _instructions() if k == "COPY" and "--from" not in v]
    sources = [s for words in copies for s in words[:-1]]
    assert sources == ["pyproject.toml", "README.md*", "driftwatch"]
    for source in sources:
        assert not _ignored(source.rstrip("*")), f"{source} is excluded by .dockerignore"
    assert not _ignored("driftwatch/config/model.py")
    for path in (
        ".git/config",
        ".venv/bin/python",
        "tests/chart/conftest.py",
        "driftwatch/__pycache__/x.pyc",
        "helm/driftwatch/Chart.yaml",
    ):
        assert _ignored(path), f"{path} would be sent to the Docker daemon"
