"""The fingerprint key for Secret values: one place, the same for every command.

A saved snapshot holds only keyed hashes of Secret values, so the key must be the
same when the snapshot is written and when it is compared, and fingerprints must
not change from run to run (two outputs of the same cluster must be equal).  The
key comes from, first match wins:

1. ``DRIFTWATCH_FINGERPRINT_KEY`` — the key itself, 64 hex digits (CI secrets);
2. ``DRIFTWATCH_FINGERPRINT_KEY_FILE`` — a file holding it (a mounted Secret);
3. ``<state dir>/fingerprint.key`` when a state directory is given;
4. ``$XDG_STATE_HOME/driftwatch/fingerprint.key`` (``~/.local/state/driftwatch``).

A key file that does not exist is created (mode 0600) atomically: two processes
starting at once end up with the same key.  Only the key file is created in the
default location — no event log or history is turned on by it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from driftwatch.errors import ConfigError

KEY_FILE = "fingerprint.key"
KEY_ENV = "DRIFTWATCH_FINGERPRINT_KEY"
KEY_FILE_ENV = "DRIFTWATCH_FINGERPRINT_KEY_FILE"
_KEY_BYTES = 32


def default_key_dir() -> Path:
    """``$XDG_STATE_HOME/driftwatch``, or ``~/.local/state/driftwatch``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "driftwatch"


def key_source(state_dir: str | Path | None) -> str:
    """Where the key of this invocation comes from, for messages (never the key)."""
    if os.environ.get(KEY_ENV):
        return f"${KEY_ENV}"
    if os.environ.get(KEY_FILE_ENV):
        return os.environ[KEY_FILE_ENV]
    return str(_key_path(state_dir))


def _key_path(state_dir: str | Path | None) -> Path:
    directory = Path(state_dir).expanduser() if state_dir is not None else default_key_dir()
    return directory / KEY_FILE


def _parse(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != _KEY_BYTES:
        raise ConfigError(
            f"fingerprint key {where} is not {_KEY_BYTES * 2} hex digits; give a valid key, "
            "or delete the file to have a new one made (snapshots saved with the old key "
            "can then no longer be compared)"
        )
    return key


def load_or_create_key(state_dir: str | Path | None = None) -> bytes:
    """The fingerprint key (see the module docstring); ``ConfigError`` if it is unreadable."""
    value = os.environ.get(KEY_ENV)
    if value:
        return _parse(value, f"in ${KEY_ENV}")
    file = os.environ.get(KEY_FILE_ENV)
    if file:
        try:
            return _parse(Path(file).read_text(), f"file {file}")
        except OSError as e:
            raise ConfigError(
                f"cannot read the fingerprint key file {file} (${KEY_FILE_ENV}): {e.strerror or e}"
            ) from e
    return _load_or_create(_key_path(state_dir))


def _load_or_create(path: Path) -> bytes:
    try:
        return _parse(path.read_text(), f"file {path}")
    except FileNotFoundError:
        pass
    except OSError as e:
        raise ConfigError(f"cannot read the fingerprint key file {path}: {e.strerror or e}") from e
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(_KEY_BYTES)
        # Written whole under a private name, then linked into place: the link fails if
        # another process won the race, and then its key is the key.
        temp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(key.hex() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temp, path)
        except FileExistsError:
            return _parse(path.read_text(), f"file {path}")
        finally:
            temp.unlink(missing_ok=True)
    except OSError as e:
        raise ConfigError(
            f"cannot create the fingerprint key file {path}: {e.strerror or e} "
            f"(set ${KEY_ENV} or ${KEY_FILE_ENV}, or give --state-dir)"
        ) from e
    return key
