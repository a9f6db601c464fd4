"""How git gets credentials without them touching disk, argv or messages.

HTTPS tokens (from an environment variable or a file named in the target's
``credentials``, or from a URL that carried them) are handed to git through its
environment only: ``GIT_ASKPASS`` points at a small script that echoes two
environment variables, so the secret is in the git process's environment and
nowhere else.  SSH uses ``GIT_SSH_COMMAND`` with the key file and a
known_hosts file (strict host key checking, never an interactive prompt).

``GitAuth.secrets`` lists every secret string so error text can be scrubbed.
"""

from __future__ import annotations

import os
import shlex
import stat
from dataclasses import dataclass, field
from pathlib import Path

from driftwatch.config.model import GitCredentials
from driftwatch.errors import SourceFetchError
from driftwatch.source.urls import UrlParts

_ASKPASS = """#!/bin/sh
# driftwatch: answers git's credential prompts from its environment; holds no secret.
case "$1" in
  Username*) printf '%s\\n' "$DRIFTWATCH_GIT_USERNAME" ;;
  *) printf '%s\\n' "$DRIFTWATCH_GIT_PASSWORD" ;;
esac
"""


@dataclass(frozen=True, slots=True)
class GitAuth:
    """Environment for one git invocation, and the secrets it carries."""

    env: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()


def _askpass_script(cache_dir: Path) -> Path:
    path = cache_dir / "askpass.sh"
    if not path.exists() or path.read_text() != _ASKPASS:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(_ASKPASS)
        tmp.chmod(stat.S_IRWXU)
        os.replace(tmp, path)
    return path


def _read_token(creds: GitCredentials) -> str | None:
    if creds.token_env:
        value = os.environ.get(creds.token_env)
        if not value:
            raise SourceFetchError(
                f"git token environment variable {creds.token_env} is not set or empty"
            )
        return value.strip()
    if creds.token_file:
        try:
            value = Path(creds.token_file).read_text().strip()
        except OSError as e:
            raise SourceFetchError(
                f"cannot read git token file {creds.token_file}: {e.strerror or e}"
            ) from e
        if not value:
            raise SourceFetchError(f"git token file {creds.token_file} is empty")
        return value
    return None


def git_auth(creds: GitCredentials, url: UrlParts, cache_dir: Path) -> GitAuth:
    """The environment git needs for ``url`` with ``creds`` (tokens never in the URL)."""
    env = {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_LFS_SKIP_SMUDGE": "1",
        "SSH_ASKPASS_REQUIRE": "never",
    }
    secrets: list[str] = []
    token = _read_token(creds)
    username = url.username or creds.username
    password = token if token is not None else url.password
    if url.password is not None:
        secrets.append(url.password)
    if url.username is not None and url.password is None and token is None:
        # https://TOKEN@host/...: the "user" is the secret, as GitHub documents.
        secrets.append(url.username)
    if token is not None:
        secrets.append(token)
    if password is not None or url.username is not None:
        env.update(
            {
                "GIT_ASKPASS": str(_askpass_script(cache_dir)),
                "DRIFTWATCH_GIT_USERNAME": username,
                "DRIFTWATCH_GIT_PASSWORD": password or "",
                # Our answer must win over any helper in the user's git config.
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "credential.helper",
                "GIT_CONFIG_VALUE_0": "",
            }
        )
    if creds.ssh_key_file or creds.known_hosts_file:
        ssh = ["ssh", "-o", "BatchMode=yes"]
        if creds.ssh_key_file:
            ssh += ["-i", creds.ssh_key_file, "-o", "IdentitiesOnly=yes"]
        if creds.known_hosts_file:
            ssh += [
                "-o",
                f"UserKnownHostsFile={creds.known_hosts_file}",
                "-o",
                "StrictHostKeyChecking=yes",
            ]
        env["GIT_SSH_COMMAND"] = shlex.join(ssh)
    return GitAuth(env, tuple(s for s in secrets if s))
