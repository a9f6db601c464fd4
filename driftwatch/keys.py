"""The fingerprint key for Secret values, kept in the state directory.

A saved snapshot holds only keyed hashes of Secret values; the key stays here,
beside the event log, so a snapshot file alone reveals nothing.  Without a state
directory a per-process random key is used (fingerprints then match only within
one run, which is all a one-shot comparison needs).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE = "fingerprint.key"


def load_or_create_key(state_dir: str | Path | None) -> bytes:
    """The key from ``state_dir/fingerprint.key``, created (mode 0600) if absent."""
    if state_dir is None:
        return secrets.token_bytes(32)
    path = Path(state_dir) / KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
    return key
