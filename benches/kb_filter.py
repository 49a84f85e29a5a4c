#!/usr/bin/env python3
"""`opsdesk kb filter` beside `fzf --filter`, whole processes, run alternately in one script on
the same generated lines (benches/kb_lines.py) and queries; prints the medians and the ratio
as a markdown table, and how many lines each found.

    cargo build --release
    python3 benches/kb_filter.py [--sizes 100000,1000000] [--runs 7]

fzf cannot read pinyin, so for the pinyin queries it finds nothing: its time is still the
cost of reading and scanning the lines, the floor of any filter run this way.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OPSDESK = os.path.join(HERE, "..", "target", "release", "opsdesk")
QUERIES = ["开户失败", "khsb", "kaihu", "yinhangka", "opne acount", "app crash", "资金 不一致"]


def run(cmd, path):
    with open(path, "rb") as stdin:
        start = time.perf_counter()
        out = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, check=False).stdout
        return time.perf_counter() - start, out.count(b"\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    opsdesk = os.environ.get("OPSDESK_BIN", OPSDESK)
    print("| lines | query | opsdesk kb filter (median) | found | fzf --filter (median) | found | fzf ÷ opsdesk |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    ratios = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in map(int, args.sizes.split(",")):
            path = os.path.join(tmp, f"lines-{size}.txt")
            with open(path, "wb") as f:
                subprocess.run([sys.executable, os.path.join(HERE, "kb_lines.py"), str(size)], stdout=f, check=True)
            for q in QUERIES:
                ours, theirs = [], []
                for _ in range(args.runs):
                    t, found = run([opsdesk, "kb", "filter", q], path)
                    ours.append(t)
                    t2, found2 = run(["fzf", "--filter", q], path)
                    theirs.append(t2)
                a, b = statistics.median(ours), statistics.median(theirs)
                ratios.setdefault(size, []).append(b / a)
                print(f"| {size:,} | `{q}` | {a * 1000:.0f} ms | {found:,} | {b * 1000:.0f} ms | {found2:,} | {b / a:.1f}× |")
    for size, rs in ratios.items():
        print(f"\nmedian ratio at {size:,} lines: fzf takes {statistics.median(rs):.1f}× as long")


if __name__ == "__main__":
    main()
