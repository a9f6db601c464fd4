"""Build examples/cluster-snapshot.json from objects recorded from a real kube-apiserver.

The example cluster is the recorded shop scenario (tests/fixtures/recorded) right
after a fresh ``kubectl apply``, with the objects of a few recorded drift cases
swapped in: an env var added with ``kubectl set env``, a Secret value patched,
a label added with ``kubectl label``, a stray ConfigMap carrying the shop's
marker, and a deleted Secret.  Every object is exactly as the server returned it;
the file has the shape of ``kubectl get -A -o json --show-managed-fields``.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests/fixtures/recorded/scenarios/shop/cases"
OUT = ROOT / "examples/cluster-snapshot.json"

SWAPS = {  # (kind, namespace, name) -> recorded case whose version of the object is used
    ("Deployment", "shop", "shop-api"): "set-env-add",
    ("Secret", "shop", "shop-db"): "secret-change",
    ("ConfigMap", "shop", "shop-config"): "label-add",
}
ADDED = {("ConfigMap", "shop", "shop-stray"): "stray"}
DELETED = {("Secret", "shop", "shop-api-token")}


def _ident(item: dict) -> tuple[str, str, str]:
    meta = item["metadata"]
    return item["kind"], meta.get("namespace", ""), meta["name"]


def _items(case: str) -> dict[tuple[str, str, str], dict]:
    data = json.loads((CASES / case / "live.json").read_text())
    return {_ident(item): item for item in data["items"]}


def main() -> None:
    """Write the example snapshot."""
    items = _items("untouched-csa")
    for ident, case in {**SWAPS, **ADDED}.items():
        items[ident] = _items(case)[ident]
    for ident in DELETED:
        items.pop(ident)
    document = {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": [items[k] for k in sorted(items)],
    }
    OUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(items)} objects")


if __name__ == "__main__":
    main()
