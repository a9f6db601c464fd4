"""The ``driftwatch`` command line: one module per subcommand.

Exit codes (every command): 0 all in sync, 1 drift found, 2 something could not
be compared (bad config or input, unreachable Git or cluster, a type left
unknown) whether or not drift was also found.  ``-o/--output`` is always the
output format, never a file.
"""

from __future__ import annotations

import importlib

import click

from driftwatch import __version__

_COMMANDS = {
    "check": "driftwatch.cli.check_cmd",
    "render": "driftwatch.cli.render_cmd",
    "snapshot": "driftwatch.cli.snapshot_cmd",
    "serve": "driftwatch.cli.serve_cmd",
    "events": "driftwatch.cli.events_cmd",
}


class _LazyGroup(click.Group):
    """Imports a subcommand's module only when it runs, so ``check`` starts fast."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = _COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name == module_name:
                return None
            raise
        command: click.Command = module.command
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="driftwatch")
def cli() -> None:
    """Tell where Kubernetes clusters differ from what Git says. Read-only."""


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="driftwatch")
