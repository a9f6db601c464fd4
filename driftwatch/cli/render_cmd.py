"""``driftwatch render``: print what Git declares for each target, as driftwatch sees it.

The output is a YAML stream, objects sorted by identity, each preceded by a
``# Source: <file>#<document>`` comment.  Secret values are masked unless
``--show-secrets``.  Problems go to stderr naming the file (and line); exit code
2 when anything could not be rendered (what could be rendered is still
printed) or Git could not be fetched, 0 otherwise.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from driftwatch.cli import messages
from driftwatch.cli.options import resolve_config, target_options
from driftwatch.errors import ConfigError, DriftwatchError
from driftwatch.model import DesiredSet
from driftwatch.redact import mask_manifest

_BASE_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BASE_DUMPER):  # type: ignore[misc]
    """Safe dumper that writes multi-line strings as ``|`` blocks, as people write them."""


def _str(dumper: Any, value: str) -> Any:
    style = "|" if "\n" in value and value == value.rstrip(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/driftwatch``, or ``~/.cache/driftwatch``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "driftwatch"


def _fail(message: str) -> None:
    messages.error(message)


def format_desired(desired: DesiredSet, *, show_secrets: bool, sensitive: tuple[str, ...]) -> str:
    """The YAML stream for one desired set."""
    chunks: list[str] = []
    for key in sorted(desired.objects):
        obj = desired.objects[key]
        body = obj.body if show_secrets else mask_manifest(obj.body, sensitive)
        text = yaml.dump(
            body, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
        )
        chunks.append(f"---\n# Source: {obj.origin.file}#{obj.origin.document}\n{text}")
    return "".join(chunks)


@click.command(name="render")
@target_options
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="Git and render cache (default: $XDG_CACHE_HOME/driftwatch, ~/.cache/driftwatch).",
)
@click.option("--show-secrets", is_flag=True, help="Print Secret values instead of masking them.")
@click.option("--no-cache", is_flag=True, help="Render even when the inputs have not changed.")
def command(**params: Any) -> None:
    """Print the manifests each target declares in Git, as a YAML stream."""
    from driftwatch.render import RenderCache, render_target
    from driftwatch.source import GitSource

    try:
        config = resolve_config(params)
    except ConfigError as e:
        _fail(str(e))
        sys.exit(2)
    cache_dir = Path(params.get("cache_dir") or config.cache_dir or default_cache_dir())
    source = GitSource(cache_dir / "git")
    cache = None if params.get("no_cache") else RenderCache(cache_dir / "render")
    failed = False
    for target in config.targets:
        try:
            checkout = source.checkout(target)
            desired = render_target(target, checkout, cache=cache)
        except DriftwatchError as e:
            _fail(f"target {target.name}: {e}")
            failed = True
            continue
        if checkout.stale:
            messages.warning(
                f"target {target.name}: rendered the last fetched commit "
                f"{checkout.revision.sha[:12]}: {checkout.fetch_error}"
            )
            failed = True
        for error in desired.errors:
            _fail(f"target {target.name}: {error.display()}")
            failed = True
        click.echo(
            format_desired(
                desired, show_secrets=params["show_secrets"], sensitive=config.sensitive_annotations
            ),
            nl=False,
        )
    sys.exit(2 if failed else 0)
