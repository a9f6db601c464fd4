"""``driftwatch serve`` as a real process, with the pipeline replaced by a slow fake.

Used by test_shutdown.py: ``python -m tests.service.fake_serve SECONDS MARKER_DIR serve-args...``.
Each run sleeps SECONDS, touching MARKER_DIR/started-N and finished-N, so the test can
signal the process in the middle of a check.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path
from typing import Any

import driftwatch.service
from driftwatch.cli import main
from driftwatch.config.model import Config
from driftwatch.run import TargetRun
from tests.service.helpers import drift, run_of


def install(seconds: float, markers: Path) -> None:
    counter = itertools.count(1)

    class SlowRunner:
        def run(self, target_name: str) -> TargetRun:
            n = next(counter)
            (markers / f"started-{n}").touch()
            time.sleep(seconds)
            (markers / f"finished-{n}").touch()
            return run_of(target_name, [drift()])

    def factory(**_: Any) -> Any:
        def make(config: Config) -> SlowRunner:
            return SlowRunner()

        return make

    driftwatch.service.pipeline_factory = factory  # type: ignore[assignment]


if __name__ == "__main__":
    install(float(sys.argv[1]), Path(sys.argv[2]))
    sys.argv = ["driftwatch", *sys.argv[3:]]
    main()
