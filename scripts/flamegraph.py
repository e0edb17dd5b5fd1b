#!/usr/bin/env python3
"""Turns `perf script` output (stdin) into folded stacks and a flame graph SVG.

    perf script -i perf.data | python3 scripts/flamegraph.py OUT_PREFIX [TITLE]

writes OUT_PREFIX.folded (one `frame;frame;... count` line per distinct stack) and
OUT_PREFIX.svg (widths proportional to samples; hover a box for its name and share), and
prints the 25 functions with the most samples on the CPU (self time)."""
import html
import re
import sys
from collections import Counter, defaultdict


def stacks(lines):
    stack = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if stack:
                yield list(reversed(stack))
            stack = []
            continue
        if line[0] not in " \t":
            stack = []  # the sample's header line (comm pid time event)
            continue
        parts = line.strip().split(None, 1)
        name = parts[1] if len(parts) > 1 else parts[0]
        name = re.sub(r"\s+\(\S*\)$", "", name)  # the object file
        name = re.sub(r"\+0x[0-9a-f]+$", "", name)
        stack.append(name or "[unknown]")
    if stack:
        yield list(reversed(stack))


def short(name):
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    return name


def main():
    prefix = sys.argv[1]
    title = sys.argv[2] if len(sys.argv) > 2 else "flame graph"
    folded = Counter()
    self_time = Counter()
    for st in stacks(sys.stdin):
        st = [short(f) for f in st]
        folded[";".join(st)] += 1
        self_time[st[-1]] += 1
    total = sum(folded.values())
    with open(prefix + ".folded", "w") as f:
        for k, v in sorted(folded.items()):
            f.write(f"{k} {v}\n")
    # Tree of frames: children keyed by name, in first-seen order for a stable picture.
    tree = {"n": 0, "c": {}}
    for k, v in folded.items():
        node = tree
        node["n"] += v
        for frame in k.split(";"):
            node = node["c"].setdefault(frame, {"n": 0, "c": {}})
            node["n"] += v
    width, row = 1200.0, 16
    boxes = []
    depth_max = [0]

    def walk(node, x, depth):
        depth_max[0] = max(depth_max[0], depth)
        for name, child in sorted(node["c"].items()):
            w = width * child["n"] / total if total else 0
            if w >= 0.3:
                boxes.append((x, depth, w, name, child["n"]))
                walk(child, x, depth + 1)
            x += w

    walk(tree, 0.0, 0)
    height = (depth_max[0] + 2) * row + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(width)}" height="{height}" '
           'font-family="monospace" font-size="11">',
           f'<text x="4" y="16">{html.escape(title)} ({total} samples)</text>']
    for x, depth, w, name, n in boxes:
        y = height - (depth + 1) * row
        hue = 20 + (hash(name) % 40)
        label = html.escape(name)
        pct = 100.0 * n / total
        out.append(f'<g><title>{label} — {n} samples, {pct:.1f}%</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" '
                   f'fill="hsl({hue},80%,60%)"/>')
        chars = int(w / 7)
        if chars >= 3:
            text = name if len(name) <= chars else name[: chars - 2] + ".."
            out.append(f'<text x="{x + 2:.1f}" y="{y + row - 4}">{html.escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    with open(prefix + ".svg", "w") as f:
        f.write("\n".join(out))
    print(f"flamegraph: {total} samples -> {prefix}.svg, {prefix}.folded")
    print("flamegraph: functions with the most samples on the CPU (self)")
    for name, n in self_time.most_common(25):
        print(f"  {100.0 * n / total:5.1f}%  {name[:140]}")
    # Which of our own code paths the time sits under (inclusive), for the top of the picture.
    inclusive = defaultdict(int)
    for k, v in folded.items():
        for frame in set(k.split(";")):
            if frame.startswith(("gomomo", "<gomomo", "sqlx", "<sqlx", "serde_json", "tracing")):
                inclusive[frame] += v
    print("flamegraph: gomomo / sqlx / serde_json / tracing frames by inclusive share")
    for name, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:25]:
        print(f"  {100.0 * n / total:5.1f}%  {name[:140]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
