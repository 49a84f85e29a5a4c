#!/usr/bin/env python3
"""`opsdesk logs search --local` (the `files` source) beside `rg` on the same generated log
files, whole processes, run alternately in one script; prints medians, throughput and the
ratio as markdown tables.

    cargo build --release
    python3 benches/logs_search.py [--gib 1] [--runs 5] [--dir /tmp/opsdesk-logs-bench]

The logs: JSON lines as an app writes them (a timestamp, a level, a service, a message naming
an account among 200,000), in ten rotated files newest first (`app.log`, `app.log.1` …, about
a tenth of the whole each), kept in --dir between runs. Both tools read every byte of every
file (the window spans all of them; the warm page cache holds them):

* fixed string: one customer's account (`rg -F -c ACCOUNT` / `--user ACCOUNT`);
* regex: an error code family (`rg -c 'code=-15\\d{4}'` / `--regex 'code=-15\\d{4}'`).

Time to first result: `--user ACCOUNT --limit 1` for a customer whose newest line is in the
newest file, from the process's start to its first line on stdout.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OPSDESK = os.path.join(HERE, "..", "target", "release", "opsdesk")
FILES = 10
ACCOUNT = "310009876543"
REGEX = r"code=-15\d{4}"
MESSAGES = [
    "登录成功 user={a} channel=app version=8.3.1",
    "委托请求 account={a} stock=600519 side=buy qty=100 price=1688.00 order={o}",
    "查询资金 account={a} avail=18230.55 frozen=0.00",
    "行情订阅 user={a} market=SH codes=600519,601318",
    "请求耗时偏长 user={a} path=/api/position cost=1830ms",
    "委托失败 account={a} order={o} code=-990221 msg=委托价格超出涨跌停范围",
]
RARE = "委托失败 account={a} order={o} code=-150906 msg=可用资金不足"


def generate(directory: str, gib: float) -> None:
    """Ten files of JSON lines, oldest in app.log.9; the target account now and then."""
    marker = os.path.join(directory, f".complete-{gib}")
    if os.path.exists(marker):
        return
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(7)
    per_file = int(gib * (1 << 30) / FILES)
    start = 1_796_000_000  # epoch seconds, late 2026
    t = float(start)
    for n in reversed(range(FILES)):
        name = "app.log" if n == 0 else f"app.log.{n}"
        written = 0
        with open(os.path.join(directory, name), "w", encoding="utf-8") as f:
            while written < per_file:
                rows = []
                for _ in range(2000):
                    t += 0.004
                    account = f"3{rng.randrange(10**10, 10**11):011d}"[:12]
                    roll = rng.random()
                    if roll < 0.00002:
                        account = ACCOUNT
                    template = RARE if roll > 0.999 else rng.choice(MESSAGES)
                    message = template.format(a=account, o=rng.randrange(10**8))
                    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"
                    level = "ERROR" if "失败" in message else "INFO"
                    rows.append(json.dumps({"@timestamp": ts, "level": level, "service": "order", "message": message, "account": account, "trace_id": f"{rng.getrandbits(64):016x}"}, ensure_ascii=False))
                if n == 0 and written == 0:
                    # The newest file holds the customer for the time-to-first-result query.
                    rows[-1] = rows[-1].replace(rows[-1].split('"account": "')[1].split('"')[0], ACCOUNT)
                chunk = "\n".join(rows) + "\n"
                f.write(chunk)
                written += len(chunk.encode())
        os.utime(os.path.join(directory, name), (t, t))
    open(marker, "w").close()


def run(cmd):
    start = time.perf_counter()
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False).stdout
    return time.perf_counter() - start, out


def first_line(cmd):
    """Seconds from the start to the first line on stdout."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdout.readline()
    elapsed = time.perf_counter() - start
    p.kill()
    p.wait()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default="/tmp/opsdesk-logs-bench")
    args = ap.parse_args()
    opsdesk = os.environ.get("OPSDESK_BIN", OPSDESK)
    generate(args.dir, args.gib)
    size = sum(os.path.getsize(os.path.join(args.dir, f)) for f in os.listdir(args.dir) if f.startswith("app.log"))
    config = os.path.join(args.dir, "opsdesk.toml")
    with open(config, "w") as f:
        f.write(f'[[logs.sources]]\nname = "bench"\nkind = "files"\npaths = ["{args.dir}/app.log*"]\n')
    common = [opsdesk, "--config", config, "logs", "search", "--local", "--from", "2026-01-01T00:00:00Z", "--to", "2027-12-31T00:00:00Z"]
    base = common + ["--limit", "10000", "--json"]
    cases = [
        ("fixed string (an account)", base + ["--user", ACCOUNT], ["rg", "-F", "-c", "--no-filename", ACCOUNT, args.dir]),
        (f"regex `{REGEX}`", base + ["--regex", REGEX], ["rg", "-c", "--no-filename", REGEX, args.dir]),
    ]
    for _, ours, theirs in cases:  # warm the page cache
        run(ours)
        run(theirs)
    print(f"{size / (1 << 30):.2f} GiB in {FILES} files, {args.runs} runs each, alternating\n")
    print("| search | opsdesk (median) | lines | rg (median) | lines | opsdesk GiB/s | rg GiB/s | opsdesk ÷ rg throughput |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, ours_cmd, theirs_cmd in cases:
        ours, theirs = [], []
        for _ in range(args.runs):
            t, out = run(ours_cmd)
            ours.append(t)
            found = out.count(b"\n")
            t2, out2 = run(theirs_cmd)
            theirs.append(t2)
            found2 = sum(int(x) for x in out2.split() if x.strip().isdigit())
        a, b = statistics.median(ours), statistics.median(theirs)
        gib = size / (1 << 30)
        print(f"| {name} | {a * 1000:.0f} ms | {found:,} | {b * 1000:.0f} ms | {found2:,} | {gib / a:.2f} | {gib / b:.2f} | {b / a:.2f}× |")
    ttfr = [first_line(common + ["--limit", "1", "--user", ACCOUNT]) for _ in range(args.runs)]
    newest = os.path.join(args.dir, "app.log")
    rg_newest = [run(["rg", "-F", "-m1", ACCOUNT, newest])[0] for _ in range(args.runs)]
    print(f"\ntime to first result (newest first, a hit in the newest file of {os.path.getsize(newest) / (1 << 20):.0f} MiB): "
          f"median {statistics.median(ttfr) * 1000:.0f} ms, slowest {max(ttfr) * 1000:.0f} ms "
          f"(rg -m1 over that file alone: {statistics.median(rg_newest) * 1000:.0f} ms)")


if __name__ == "__main__":
    sys.exit(main())
