"""The floor as a whole process: import the client, load the kubeconfig, LIST, parse the YAML.

``python -m bench.speed_floor --kubeconfig K --repo DIR`` is the least a new
process can do to read what ``driftwatch check`` reads: ``import kubernetes``,
a client from the kubeconfig, every declared type listed across all
namespaces as raw JSON (4 types at a time, driftwatch's concurrency; the same
page size), and every YAML file parsed with ``yaml.load_all(CSafeLoader)``.
``--lists-only`` leaves the YAML out (the floor of a run whose Git side is
already known).  ``--repeat 2`` lists twice in the process: the second listing,
on a warm interpreter, is the floor of a warm ``serve`` run.  Prints one JSON
object with the in-process timings; the caller times the whole process.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

STARTED = time.perf_counter()


def main(argv: list[str] | None = None) -> int:
    """Measure; print JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.speed_floor", description=__doc__)
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--lists-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="list this often (in-process)")
    args = parser.parse_args(argv)

    import kubernetes  # noqa: F401  (timed: what every client process pays)

    from bench.floor import measure_lists, measure_yaml

    imported = time.perf_counter() - STARTED
    lists = [
        measure_lists(args.kubeconfig, args.page_size, threads=4)["seconds"]
        for _ in range(max(1, args.repeat))
    ]
    yaml_seconds = None if args.lists_only else measure_yaml(args.repo)["seconds"]
    print(
        json.dumps(
            {"import_seconds": imported, "list_seconds": lists, "yaml_seconds": yaml_seconds}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
