#!/usr/bin/env python3
"""Copy the alert rules and Grafana dashboards into the Helm chart.

A chart can only read files inside its own directory, so the chart keeps copies
of the repository's single sources: ``alerts/*.yaml`` -> ``helm/driftwatch/files/alerts/``
and ``dashboards/*.json`` -> ``helm/driftwatch/files/dashboards/``.  This script
makes the copies byte-equal to the sources and removes copies whose source is
gone; ``--check`` only reports differences (exit 1), for CI.  tests/chart/ fails
when the copies are out of date, naming this script.

Usage:
    scripts/sync-chart-assets.py [--check] [--root REPO_ROOT]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

CHART_FILES = Path("helm/driftwatch/files")


@dataclass(frozen=True)
class AssetKind:
    """One kind of asset: where its sources live and which files count."""

    source: Path
    pattern: str

    @property
    def copy_dir(self) -> Path:
        """The chart folder holding the copies."""
        return CHART_FILES / self.source.name


ASSETS = (AssetKind(Path("alerts"), "*.yaml"), AssetKind(Path("dashboards"), "*.json"))


@dataclass(frozen=True)
class Difference:
    """A chart copy that does not match its source."""

    path: Path
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def differences(root: Path) -> list[Difference]:
    """Every chart copy that is missing, different from its source, or has no source."""
    found: list[Difference] = []
    for kind in ASSETS:
        sources = {p.name: p for p in sorted((root / kind.source).glob(kind.pattern))}
        copies = {p.name: p for p in sorted((root / kind.copy_dir).glob(kind.pattern))}
        for name, source in sources.items():
            copy = copies.get(name)
            if copy is None:
                found.append(
                    Difference(kind.copy_dir / name, f"missing copy of {kind.source / name}")
                )
            elif copy.read_bytes() != source.read_bytes():
                found.append(Difference(kind.copy_dir / name, f"differs from {kind.source / name}"))
        for name in copies.keys() - sources.keys():
            found.append(Difference(kind.copy_dir / name, f"has no source {kind.source / name}"))
    return sorted(found, key=lambda d: str(d.path))


def sync(root: Path) -> list[Difference]:
    """Make the chart copies equal to the sources; returns what was changed."""
    changed = differences(root)
    for kind in ASSETS:
        (root / kind.copy_dir).mkdir(parents=True, exist_ok=True)
    for diff in changed:
        target = root / diff.path
        source = root / next(k.source for k in ASSETS if k.copy_dir == diff.path.parent)
        source_file = source / diff.path.name
        if source_file.exists():
            target.write_bytes(source_file.read_bytes())
        else:
            target.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report differences, change nothing")
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parent.parent,
        help="repository root (default: this script's repository)",
    )
    args = parser.parse_args(argv)
    if args.check:
        found = differences(args.root)
        for diff in found:
            print(f"out of date: {diff}", file=sys.stderr)
        if found:
            print("run scripts/sync-chart-assets.py to update the chart's copies", file=sys.stderr)
        return 1 if found else 0
    for diff in sync(args.root):
        print(f"updated: {diff}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
