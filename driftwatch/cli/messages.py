"""One way every command reports a problem on stderr: ``error: …`` or ``warning: …``.

Exit code 2 for anything that stopped a command (bad flags, bad configuration,
unreadable input), as the exit-code table in the README says.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

EXIT_INCOMPLETE = 2


def error(message: str) -> None:
    """Print one ``error:`` line on stderr."""
    click.echo(f"error: {message}", err=True)


def warning(message: str) -> None:
    """Print one ``warning:`` line on stderr."""
    click.echo(f"warning: {message}", err=True)


def fail(message: str, code: int = EXIT_INCOMPLETE) -> NoReturn:
    """Print one ``error:`` line and exit (2 unless told otherwise)."""
    error(message)
    sys.exit(code)


def reject(flag: str, reason: str) -> NoReturn:
    """A flag, or a combination of flags, that cannot be honoured: say so and exit 2."""
    fail(f"{flag}: {reason}")
