"""The configuration loader: every problem named by file, key path and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwatch.config.load import load_config
from driftwatch.errors import ConfigError


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "driftwatch.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def problem_lines(error: ConfigError) -> list[str]:
    return [line.strip() for line in str(error).splitlines()[1:]]


def test_typo_missing_key_and_wrong_type_each_named_with_line(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        (
            "targets:\n"  # 1
            "  - name: shop\n"  # 2
            "    repo: ./repo\n"  # 3
            "    schedule:\n"  # 4
            "      intreval: 30s\n"  # 5
            "  - name: other\n"  # 6
            "    watch: [not, a, bool]\n"  # 7
        ),
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = problem_lines(info.value)
    assert (
        f"{path}:5: targets[0].schedule.intreval: unknown key (did you mean 'interval'?)" in lines
    )
    assert f"{path}:6: targets[1].repo: required key is missing" in lines
    assert any(line.startswith(f"{path}:7: targets[1].watch:") for line in lines)
    assert len(lines) == 3


def test_duplicate_keys_are_rejected_with_line(tmp_path: Path) -> None:
    path = config_file(tmp_path, "targets:\n  - name: a\n    repo: r\n    repo: s\n")
    with pytest.raises(ConfigError, match=r":4: targets\[0\]\.repo: duplicate key"):
        load_config(path)


def test_yaml_syntax_error_and_empty_file(tmp_path: Path) -> None:
    path = config_file(tmp_path, "targets:\n  - name: [a\n")
    with pytest.raises(ConfigError, match=r"driftwatch\.yaml:\d+: YAML syntax error"):
        load_config(path)
    with pytest.raises(ConfigError, match="empty"):
        load_config(config_file(tmp_path, "# nothing\n"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_unsafe_yaml_tags_are_refused(tmp_path: Path) -> None:
    path = config_file(tmp_path, "targets: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError):
        load_config(path)


def test_relative_paths_resolve_against_the_config_directory(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        (
            "clusters:\n"
            "  - {name: prod, kubeconfig: kube/config, snapshot: ../snap.json}\n"
            "targets:\n"
            "  - name: local\n"
            "    repo: ../repos/shop\n"
            "    cluster: prod\n"
            "    credentials: {tokenFile: secrets/token, sshKeyFile: /abs/key}\n"
            "    helm: {values: [values-prod.yaml, /etc/dw/values.yaml]}\n"
            "  - {name: remote, repo: 'https://git.example.com/o/r.git'}\n"
            "  - {name: scp, repo: 'git@github.com:o/r.git'}\n"
            "cacheDir: cache\n"
        ),
    )
    config = load_config(path)
    conf_dir = path.parent.resolve()
    local = config.target("local")
    assert local.repo == str((conf_dir / "../repos/shop").resolve())
    assert local.credentials.token_file == str(conf_dir / "secrets/token")
    assert local.credentials.ssh_key_file == "/abs/key"
    assert local.helm.values == ("values-prod.yaml", "/etc/dw/values.yaml"), "chart-relative"
    assert config.target("remote").repo == "https://git.example.com/o/r.git"
    assert config.target("scp").repo == "git@github.com:o/r.git"
    assert config.clusters[0].kubeconfig == str(conf_dir / "kube/config")
    assert config.clusters[0].snapshot == str((conf_dir / "../snap.json").resolve())
    assert config.cache_dir == str(conf_dir / "cache")


def test_model_level_problem_is_reported(tmp_path: Path) -> None:
    path = config_file(tmp_path, "targets:\n  - {name: a, repo: r, cluster: nope}\n")
    with pytest.raises(ConfigError, match="unknown cluster 'nope'"):
        load_config(path)
