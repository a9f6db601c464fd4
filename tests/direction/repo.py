"""A real Git repository holding the recorded shop scenario, with commits dated by the test.

The recordings were made on 2026-11-30; their ``managedFields`` times say when the
applier last wrote.  ``BEFORE`` dates a commit before every recorded apply (Git
that the applier had applied), ``AFTER`` one after them (Git not yet applied).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from driftwatch.config.model import Cluster, Config, Target
from driftwatch.model import TargetReport
from driftwatch.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "tests/fixtures/recorded/scenarios/shop"
BEFORE = "2026-11-29T09:00:00+00:00"
AFTER = "2026-12-01T09:00:00+00:00"


class ShopRepo:
    """The shop manifests at ``apps/shop``, first committed at ``BEFORE`` by Ana."""

    def __init__(self, path: Path) -> None:
        self.path = path
        shutil.copytree(SHOP / "git", path / "apps" / "shop")
        self._git("init", "-q", "-b", "main")
        self.commit("shop manifests", BEFORE, author="Ana Lima")

    @property
    def shop(self) -> Path:
        return self.path / "apps" / "shop"

    def edit(self, file: str, old: str, new: str) -> None:
        """Replace ``old`` (which must be there, once) by ``new`` in ``apps/shop/file``."""
        target = self.shop / file
        text = target.read_text()
        assert text.count(old) == 1, f"{old!r} not once in {file}"
        target.write_text(text.replace(old, new))

    def commit(self, subject: str, when: str, author: str = "Bo Chen") -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_DATE": when,
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": author.split()[0].lower() + "@example.invalid",
        }
        self._git("add", "-A")
        subprocess.run(["git", "-C", str(self.path), "commit", "-qm", subject], check=True, env=env)
        return self._git("rev-parse", "HEAD").strip()

    def _git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.path), *args], check=True, capture_output=True, text=True
        )
        return done.stdout


def config(repo: Path, case: str) -> Config:
    """One target over the repository, compared with a recorded case's live objects."""
    cluster = Cluster(name="recorded", snapshot=str(SHOP / "cases" / case / "live.json"))
    target = Target(
        name="shop",
        repo=str(repo),
        rev="main",
        path="apps/shop",
        cluster="recorded",
        selector="app.kubernetes.io/part-of=shop",
    )
    return Config(clusters=(cluster,), targets=(target,))


def check(repo: ShopRepo, case: str, tmp: Path) -> TargetReport:
    """One run of the real pipeline; the report it made."""
    run = Pipeline(config(repo.path, case), state_dir=tmp / "state", cache_dir=tmp / "cache").run(
        "shop"
    )
    assert run.report is not None, run.error
    return run.report
