"""SIGTERM and SIGINT stop a one-shot command at once, wherever it is.

A cluster read may sit in a socket read inside a worker thread, and Python joins
worker threads before it exits, so an exception raised into the main thread
would wait for them.  The handler therefore says what happened on stderr and
ends the process on the spot with the shell's code for the signal (130 for
SIGINT, 143 for SIGTERM).  No report is half-printed (``check`` prints only after
every target ran), nothing is ever written to the cluster or Git, and an audit log
record cut short (``--state-dir``) is set aside on the next open, as after a crash.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType


def stop_on_signals(command: str, before_exit: Callable[[], None] | None = None) -> None:
    """Install the handlers (main thread only) for ``driftwatch <command>``."""

    def stop(signum: int, frame: FrameType | None) -> None:
        if before_exit is not None:
            before_exit()
        name = signal.Signals(signum).name
        sys.stderr.write(f"error: {command} stopped by {name}; nothing was reported\n")
        sys.stderr.flush()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
