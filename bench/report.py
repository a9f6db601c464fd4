"""Turning measurements into tables: a summary row per N, a table per N, the targets' verdicts."""

from __future__ import annotations

from typing import Any

STAGES = ("git", "render", "snapshot", "compare", "emit")

TARGET_E2E = 1.5
"""10,000 objects end to end within this multiple of the floor."""
TARGET_UNCHANGED = 1.2
"""An unchanged-SHA run within this multiple of the floor."""
TARGET_COMPARE = 20_000
"""Compare objects/s on one core."""
TARGET_RSS_MB = 400
"""Peak RSS of a one-shot check at 50,000 objects."""


def derive(size: dict[str, Any]) -> dict[str, Any]:
    """The figures the tables show, computed from one size's raw measurements."""
    first = size["first"]["runs"][0]
    floor = size["floor"]["seconds"]
    second_new = size["second"]["runs"][0]
    second_same = size["second"]["runs"][-1]
    compare = first["stages"].get("compare", 0.0)
    return {
        "total": first["seconds"],
        "stages": first["stages"],
        "floor": floor,
        "ratio": first["seconds"] / floor if floor else 0.0,
        "compare_rate": first["compared"] / compare if compare else 0.0,
        "rss": size["first"]["peak_rss_mb"],
        "second_new": second_new["seconds"],
        "second_new_skipped": second_new["render_skipped"],
        "second_same": second_same["seconds"],
        "second_same_skipped": second_same["render_skipped"],
        "second_vs_first": second_new["seconds"] / first["seconds"],
        "second_vs_floor": second_new["seconds"] / floor if floor else 0.0,
        "same_vs_floor": second_same["seconds"] / floor if floor else 0.0,
    }


def _s(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def summary_table(sizes: list[dict[str, Any]]) -> str:
    """One row per N (markdown)."""
    head = (
        "| N | total s | git | render | snapshot | compare | emit | floor s | x floor "
        "| compare obj/s | peak RSS MB | unchanged SHA s (new proc) | x first | x floor "
        "| unchanged SHA s (same proc) | x floor |"
    )
    rows = [head, "|" + "---:|" * 16]
    for size in sizes:
        d = derive(size)
        stages = " | ".join(_s(d["stages"].get(s, 0.0)) for s in STAGES)
        rows.append(
            f"| {size['objects']:,} | {_s(d['total'])} | {stages} | {_s(d['floor'])} "
            f"| {d['ratio']:.2f} | {d['compare_rate']:,.0f} | {d['rss']:.0f} "
            f"| {_s(d['second_new'])} | {d['second_vs_first']:.2f} | {d['second_vs_floor']:.2f} "
            f"| {_s(d['second_same'])} | {d['same_vs_floor']:.2f} |"
        )
    return "\n".join(rows) + "\n"


def size_table(size: dict[str, Any]) -> str:
    """Everything measured at one N (markdown)."""
    d = derive(size)
    first = size["first"]["runs"][0]
    floor = size["floor"]
    second = size["second"]["runs"]
    per_ns = floor.get("per_namespace_list") or {}
    check = size["first"].get("drift_check") or {}
    stages = ", ".join(f"{s} {_s(first['stages'].get(s, 0.0))}" for s in STAGES)
    rows = [
        (
            "Objects: generated N / declared in Git / live in the cluster / compared",
            f"{size['objects']:,} / {size['declared']:,} / {size['live_objects']:,} / "
            f"{first['compared']:,}",
        ),
        (
            "Drift found = drift generated",
            f"{'yes' if check.get('ok') else 'NO'} "
            f"({check.get('found')} of {check.get('expected')})",
        ),
        ("First run (fresh cache), pipeline wall s", _s(d["total"])),
        ("  per stage s", stages),
        (
            "  per stage CPU s (driftwatch process, all threads)",
            ", ".join(f"{s} {_s(first.get('stage_cpu', {}).get(s, 0.0))}" for s in STAGES),
        ),
        (
            "  resident MB as each stage begins, then at the end",
            ", ".join(
                f"{k.removeprefix('before_')} {v['rss_mb']:.0f}"
                for k, v in first.get("marks", {}).items()
            ),
        ),
        ("  -o json output s (outside the pipeline)", _s(first["output_seconds"])),
        (
            "  driftwatch process wall s (interpreter start + imports included)",
            _s(size["first"]["process_seconds"]),
        ),
        (
            "  driftwatch CPU s / API server CPU s",
            f"{_s(first['cpu_seconds'])} / {_s(size['first']['server_cpu_seconds'])}",
        ),
        (
            "  API requests (driftwatch / floor)",
            f"{first['api_requests']} / {floor['list_requests']}",
        ),
        (
            "Floor s: bare-client list + YAML C-parse",
            f"{_s(floor['list_seconds'])} + {_s(floor['yaml_seconds'])} = {_s(d['floor'])}",
        ),
        (
            "  list: one type after another / 4 threads (the faster is the floor)",
            f"{_s(floor['list_sequential_seconds'])} / {_s(floor['list_concurrent_seconds'])}",
        ),
        (
            "  same lists per namespace, as driftwatch issues them (info)",
            f"{_s(per_ns.get('seconds', 0.0))} s, {per_ns.get('requests', 0)} requests",
        ),
        ("Ratio to floor", f"{d['ratio']:.2f} (target ≤ {TARGET_E2E} at 10,000)"),
        ("Compare throughput in the run, objects/s", f"{d['compare_rate']:,.0f}"),
        (
            "Peak RSS of the one-shot check, MB",
            f"{d['rss']:.0f} (target < {TARGET_RSS_MB} at 50,000)",
        ),
        (
            "Unchanged SHA, new process (render from disk cache) s",
            f"{_s(d['second_new'])}, render skipped: {d['second_new_skipped']}, "
            f"{d['second_vs_first']:.2f}x first, {d['second_vs_floor']:.2f}x floor "
            f"(target ≤ {TARGET_UNCHANGED}x)",
        ),
        ("  per stage s", ", ".join(f"{s} {_s(second[0]['stages'].get(s, 0.0))}" for s in STAGES)),
        (
            "Unchanged SHA, same process (as serve) s",
            f"{_s(d['second_same'])}, render skipped: {d['second_same_skipped']}, "
            f"{d['same_vs_floor']:.2f}x floor",
        ),
        ("  per stage s", ", ".join(f"{s} {_s(second[-1]['stages'].get(s, 0.0))}" for s in STAGES)),
        ("  peak RSS after two runs in one process, MB", f"{size['second']['peak_rss_mb']:.0f}"),
        (
            "Samples s: first run / unchanged SHA new process / same process",
            " / ".join(
                ", ".join(_s(v) for v in size.get("samples", {}).get(k, []))
                for k in ("first", "second_new_process", "second_same_process")
            ),
        ),
        (
            "Setup (not measured against): generate repo s / seed server s",
            f"{_s(size['generate_seconds'])} / {size.get('seed_seconds', '?')}",
        ),
    ]
    out = [f"### N = {size['objects']:,}\n", "| Measurement | Value |", "|---|---|"]
    out += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(out) + "\n"


def micro_line(micro: dict[str, Any]) -> str:
    """The compare microbenchmark in one sentence."""
    text = (
        f"Compare alone, one core (process_time, best of {len(micro['cpu_seconds'])}) at "
        f"{micro['objects']:,} objects: compare_target {micro['objects_per_second_best']:,.0f} "
        f"objects/s (median {micro['objects_per_second_median']:,.0f})"
    )
    if "stage_objects_per_second_best" in micro:
        text += (
            f"; the whole stage (compare_target + type_errors on differing objects) "
            f"{micro['stage_objects_per_second_best']:,.0f} objects/s "
            f"(median {micro['stage_objects_per_second_median']:,.0f})"
        )
    return text + f"; target ≥ {TARGET_COMPARE:,}.\n"


def verdicts(sizes: list[dict[str, Any]], micro: dict[str, Any] | None) -> list[str]:
    """Each target, met or not, with the number behind it (only those this run measured)."""
    by_n = {s["objects"]: derive(s) for s in sizes}
    out: list[str] = []

    def line(ok: bool, text: str) -> None:
        out.append(f"- [{'x' if ok else ' '}] {text}")

    if 10_000 in by_n:
        r = by_n[10_000]["ratio"]
        line(r <= TARGET_E2E, f"10,000 objects end to end ≤ {TARGET_E2E}x floor: {r:.2f}x")
    for n, d in sorted(by_n.items()):
        r = d["second_vs_floor"]
        line(
            r <= TARGET_UNCHANGED,
            f"unchanged SHA ≤ {TARGET_UNCHANGED}x floor at {n:,}: {r:.2f}x (new process), "
            f"{d['same_vs_floor']:.2f}x (same process)",
        )
    if micro is not None:
        rate = micro["objects_per_second_best"]
        stage = micro.get("stage_objects_per_second_best")
        shown = f"compare_target {rate:,.0f}" + (f", whole stage {stage:,.0f}" if stage else "")
        line(min(rate, stage or rate) >= TARGET_COMPARE, f"compare ≥ {TARGET_COMPARE:,}/s: {shown}")
    if 50_000 in by_n:
        rss = by_n[50_000]["rss"]
        line(rss < TARGET_RSS_MB, f"peak RSS < {TARGET_RSS_MB} MB at 50,000: {rss:.0f} MB")
    return out


def hotspot_tables(hotspots: dict[str, list[dict[str, Any]]], top: int = 8) -> str:
    """Top functions by own time per stage (markdown)."""
    out = []
    for stage, rows in hotspots.items():
        if not rows or stage == "emit":
            continue
        out.append(f"#### {stage}\n\n| own s | cum s | calls | function |\n|---:|---:|---:|---|")
        out += [
            f"| {r['tottime']:.3f} | {r['cumtime']:.3f} | {r['calls']:,} | `{r['function']}` |"
            for r in rows[:top]
        ]
        out.append("")
    return "\n".join(out)
