"""Regenerate driftwatch/compare/builtin_schema.json.gz from recorded OpenAPI v3 documents.

Usage: python scripts/build_builtin_schema.py [OPENAPI_DIR]
(default: tests/fixtures/recorded/server/openapi/v3, recorded from a real kube-apiserver).
Custom resources (non-k8s.io groups other than the built-in ones) are left out: their
schemas come from the live cluster's documents at run time.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from driftwatch.compare.schema import merge_trimmed, trim_document

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "driftwatch" / "compare" / "builtin_schema.json.gz"


def main() -> None:
    """Trim every group-version document and write the merged index."""
    source = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else ROOT / "tests/fixtures/recorded/server/openapi/v3"
    )
    parts = []
    for path in sorted(source.rglob("*.json")):
        rel = path.relative_to(source).as_posix()
        if not (rel == "api/v1.json" or (rel.startswith("apis/") and rel.count("/") == 2)):
            continue
        if rel.startswith("apis/example.com/"):
            continue
        parts.append(trim_document(json.loads(path.read_text())))
    merged = merge_trimmed(parts)
    blob = json.dumps(merged, sort_keys=True, separators=(",", ":")).encode()
    OUT.write_bytes(gzip.compress(blob, mtime=0))
    print(
        f"{OUT.relative_to(ROOT)}: {len(merged['components'])} components, "
        f"{len(merged['gvk'])} kinds, {len(blob)} bytes raw, {OUT.stat().st_size} gzipped"
    )


if __name__ == "__main__":
    main()
