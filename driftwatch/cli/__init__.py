"""The ``driftwatch`` command line: one module per subcommand.

Exit codes (every command): 0 all in sync, 1 drift found, 2 something could not
be compared (bad config or input, unreachable Git or cluster, a type left
unknown) whether or not drift was also found.  ``-o/--output`` is always the
output format, never a file.
"""

from __future__ import annotations

import difflib
import importlib
import sys

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

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, plus "did you mean" for a mistyped subcommand."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in _COMMANDS:
            close = difflib.get_close_matches(name, list(_COMMANDS), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(sorted(_COMMANDS))
            raise click.UsageError(f"no command {name!r}{hint}; commands: {known}", ctx)
        return super().resolve_command(ctx, args)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="driftwatch")
def cli() -> None:
    """Tell where Kubernetes clusters differ from what Git says. Read-only."""


def main() -> None:
    """Console-script entry point: click's own errors get the one ``error:`` prefix too."""
    from driftwatch.cli.messages import error

    try:
        code = cli.main(prog_name="driftwatch", standalone_mode=False)
    except click.UsageError as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # bare ``driftwatch``: the help, as usual
            click.echo(e.format_message(), err=True)
            sys.exit(2)
        where = e.ctx.command_path if e.ctx is not None else "driftwatch"
        error(f"{e.format_message()} (see '{where} --help')")
        sys.exit(2)
    except click.ClickException as e:
        error(e.format_message())
        sys.exit(2)
    except click.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
