"""Shared test setup: the Kubernetes API test server fixtures, and hermetic Git.

Every test runs with its own HOME-independent Git identity and never reads the
developer's global Git configuration, so results do not depend on the machine.
The default fingerprint-key location (``$XDG_STATE_HOME/driftwatch``) is a
directory of this test session, never the developer's own.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

pytest_plugins = ["tests.kubeapi.fixtures", "tests.reliability.nowrites"]

os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
os.environ["GIT_AUTHOR_NAME"] = os.environ["GIT_COMMITTER_NAME"] = "driftwatch tests"
os.environ["GIT_AUTHOR_EMAIL"] = os.environ["GIT_COMMITTER_EMAIL"] = "tests@driftwatch.invalid"
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="driftwatch-tests-state-")
atexit.register(shutil.rmtree, os.environ["XDG_STATE_HOME"], ignore_errors=True)
