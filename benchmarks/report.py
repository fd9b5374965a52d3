"""Markdown tables for ``benchmarks/README.md`` from the JSON the benchmarks wrote.

    python benchmarks/report.py lipsync [benchmarks/out/lipsync.json]
    python benchmarks/report.py render [benchmarks/out/render.json]

``lipsync`` prints the per-clip table with its mean row (and the training-length table when the
run had ``--lengths``); ``render`` prints the case table and the memory-with-length line. The
README's tables are pasted from this output, so a figure there is the figure in the JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "out"


def provenance(started: float) -> dict[str, Any]:
    """What a benchmark's JSON says about its run: the commit it ran (``+dirty`` when the
    working tree had changes), when it started and finished (UTC), the load average after."""
    import os

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=Path(__file__).parent, capture_output=True,
                                  text=True, timeout=10, check=False)  # fmt: skip
        except OSError:
            return ""
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += "+dirty"
    stamp = "%Y-%m-%d %H:%M:%S UTC"
    return {
        "commit": commit,
        "started": time.strftime(stamp, time.gmtime(started)),
        "finished": time.strftime(stamp, time.gmtime()),
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def _f(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` places; "–" for a missing one."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _offset(sample: dict[str, Any]) -> str:
    """The A/V offset cell: the lag, and its peak against the chance level."""
    peak, chance = sample.get("av_peak_r"), sample.get("av_chance_r")
    if sample.get("av_offset") is None:
        return f"unmeasured (lag {sample.get('av_lag')}: {_f(peak, 2)} ≤ {_f(chance, 2)})"
    return f"{sample['av_offset']} ({_f(peak, 2)} > {_f(chance, 2)})"


LIPSYNC_HEAD = (
    "| clip | held frames | r (sample) | r (linear) | r (base loop) | r track / selected "
    "| A/V offset (peak r > chance) | M-LMD (sample / base) | open std ratio | sharpness | seam "
    "| tone (sample / base) | faces | loop (frames; step) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def lipsync(report: dict[str, Any]) -> str:
    """The per-clip table (and the training-length one) of a ``lipsync.py`` report."""
    lines = [LIPSYNC_HEAD]
    for row in report["results"]:
        s, b, t, loop = row["sample"], row["baseline"], row["track_r"], row.get("loop") or {}
        span = f"{loop.get('start')}–{loop.get('end')}" + (" bounce" if loop.get("bounce") else "")
        lines.append(
            f"| {Path(row['clip']).stem} | {row['held_frames']} | {_f(s['open_r'])} "
            f"| {_f(row['linear']['open_r'])} | {_f(b['open_r'])} "
            f"| {_f(t['blend'])} / {_f(t['selected'])} | {_offset(s)} "
            f"| {_f(s['m_lmd'], 4)} / {_f(b['m_lmd'], 4)} | {_f(s['open_std'])} "
            f"| {_f(s['sharpness'])} | {_f(s['seam'])} | {_f(s.get('tone'), 2)} / "
            f"{_f(b.get('tone'), 2)} | {_f(s['faces'], 2)} | {span}; {_f(loop.get('step'), 2)} |"
        )
    mean = report["mean"]
    s, b, t, off = mean["sample"], mean["baseline"], mean["track_r"], mean["offsets"]
    steps = [float(r["loop"]["step"]) for r in report["results"] if r.get("loop", {}).get("step")]
    over = sum(x > 1 for x in steps)
    unmeasured = f"; {off['unmeasured']} unmeasured" if off["unmeasured"] else ""
    ratio = s["m_lmd"] / b["m_lmd"] if b.get("m_lmd") else float("nan")
    lines.append(
        f"| **mean** | {_f(s['frames'], 1)} | **{_f(s['open_r'])}** "
        f"| {_f(mean['linear']['open_r'])} | {_f(b['open_r'])} "
        f"| {_f(t['blend'])} / {_f(t['selected'])} "
        f"| {off['within_1']} of {off['measured']} measured within ±1 (max {off['max_abs']})"
        f"{unmeasured} | **{_f(s['m_lmd'], 4)} / {_f(b['m_lmd'], 4)}** (ratio {ratio:.3f}) "
        f"| {_f(s['open_std'])} | {_f(s['sharpness'])} | {_f(s['seam'])} "
        f"| {_f(s.get('tone'), 2)} / {_f(b.get('tone'), 2)} | {_f(s['faces'], 2)} "
        f"| step {sum(steps) / max(1, len(steps)):.2f} (> 1 on {over}) |"
    )
    if report.get("lengths"):
        lines += [
            "",
            "| trained on | frames | r (sample) | r (linear) | r (target track) | r (selected) "
            "| M-LMD | open std ratio |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in report["lengths"]:
            s = row["sample"]
            lines.append(
                f"| {row['train_seconds']:g} s | {row['train_frames']} | {_f(s['open_r'])} "
                f"| {_f(row['linear']['open_r'])} | {_f(row['track_r']['blend'])} "
                f"| {_f(row['track_r']['selected'])} | {_f(s['m_lmd'], 4)} "
                f"| {_f(s['open_std'])} |"
            )
    return "\n".join(lines)


RENDER_HEAD = (
    "| case (fit cover) | e2e s | **RTF e2e** | raw encoder fps (cores busy) | ratio "
    "| peak RSS MB (p50) | speech done | CPU s: speech / render (main, encoder thread, "
    "prefetch, native) |\n|---|---|---|---|---|---|---|---|"
)


def render(report: dict[str, Any]) -> str:
    """The case table and the memory line of a ``render.py`` report."""
    lines = [RENDER_HEAD]
    for row in report["cases"]:
        cpu = row.get("cpu_render_s") or {}
        threads = ", ".join(
            _f(cpu.get(k), 1) for k in ("main", "video-encoder", "prefetch", "native")
        )
        # the raw encoder's keys before 2026-12-06 named x264 (every case was an MP4 then)
        raw_fps = row.get("raw_fps", row.get("raw_x264_fps"))
        raw_busy = row.get("raw_cores_busy", row.get("raw_x264_cores_busy"))
        lines.append(
            f"| {row['case']} | {_f(row['e2e_s'], 2)} | **{_f(row['rtf'])}** "
            f"| {_f(raw_fps, 1)} ({_f(raw_busy, 2)}) "
            f"| {_f(row.get('ratio'), 2)} | {row['peak_rss_mb']} ({_f(row.get('rss_p50_mb'), 0)}) "
            f"| {_f(row.get('speech_done_s'), 1)} s | {_f(row.get('cpu_speech_s'), 1)} / "
            f"{threads} |"
        )
    memory = report.get("memory")
    if memory:
        growth = memory["growth_after_first_min_mb"]  # one per long run
        growth = max(growth) if isinstance(growth, list) else growth
        lines += [
            "",
            f"Memory ({memory['case']}): {len(memory['one_min_peaks_mb'])} renders of "
            f"{memory['one_min_s']:.1f} s peaked at "
            f"{', '.join(f'{x:.0f}' for x in memory['one_min_peaks_mb'])} MB, "
            f"{len(memory['long_peaks_mb'])} of {memory['long_s'] / 60:.1f} min at "
            f"{', '.join(f'{x:.0f}' for x in memory['long_peaks_mb'])} MB; medians "
            f"{memory['one_min_median_mb']:.0f} / {memory['long_median_mb']:.0f} MB, "
            f"at most +{growth:.1f} MB after the first minute, "
            f"`no_higher` {str(memory['no_higher']).lower()}, under 1.5 GB "
            f"{str(memory['under_1_5_gb']).lower()}.",
        ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    kinds = {"lipsync": lipsync, "render": render}
    if not argv or argv[0] not in kinds:
        print(__doc__, file=sys.stderr)
        return 2
    path = Path(argv[1]) if len(argv) > 1 else OUT / f"{argv[0]}.json"
    if not path.is_file():
        print(f"{path} not found: run python benchmarks/{argv[0]}.py first", file=sys.stderr)
        return 1
    report = json.loads(path.read_text())
    for key in ("commit", "started", "finished"):
        if report.get(key):
            print(f"{key}: {report[key]}")
    print(kinds[argv[0]](report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
