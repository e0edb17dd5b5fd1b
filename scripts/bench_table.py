#!/usr/bin/env python3
"""Reads benchmark output on stdin and prints `make bench`'s summary: one table with every
`SUMMARY|figure|value|floor|ratio|goal|met|note` line, and the machine it ran on."""
import os
import platform
import sys
from datetime import datetime, timezone


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    rows = []
    for line in sys.stdin:
        line = line.strip()
        if line.startswith("SUMMARY|"):
            parts = line.split("|")[1:]
            parts += [""] * (7 - len(parts))
            rows.append(parts[:7])
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print()
    print(f"make bench summary — {when}; {os.cpu_count()} cores, {cpu_model()}, {platform.machine()}, "
          "client, server and Postgres (fsync off) on this one machine")
    print()
    print("| figure | value | floor (same run) | ratio | goal | met | note |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(c.replace("|", "/") for c in r) + " |")
    if not rows:
        print("| (no figure was measured) | | | | | | |")
    missed = [r[0] for r in rows if r[5] == "no"]
    print()
    print(f"goals met: {sum(1 for r in rows if r[5] == 'yes')}, missed: {len(missed)}, "
          f"not a goal: {sum(1 for r in rows if r[5] not in ('yes', 'no'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
