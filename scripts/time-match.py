#!/usr/bin/env python3
"""Time `newsalert match` on the first N articles of a generated input
(scripts/gen-match-input.py), under `/usr/bin/time -v`, and print a
Markdown table: articles, MB, wall time, MB/s, articles/s, max RSS, and
the time ratio to the previous size.

Usage: scripts/time-match.py BINARY DIR [--sizes 1000,2000,4000,8000]
                             [--threads N]

DIR holds rules.toml and articles.jsonl; the prefixes are written to
DIR/first-N.jsonl. Output goes to /dev/null; the exit code must be 0.
"""

import argparse
import os
import re
import subprocess


def prefix(path, n, out):
    if not os.path.exists(out):
        with open(path) as src, open(out, "w") as dst:
            for i, line in enumerate(src):
                if i == n:
                    break
                dst.write(line)
    return out


def timed(binary, config, file, threads):
    env = dict(os.environ)
    env.pop("RUST_LOG", None)
    if threads is not None:
        env["NEWSALERT__PIPELINE__MATCH_THREADS"] = str(threads)
    with open(os.devnull, "w") as null:
        p = subprocess.run(
            ["/usr/bin/time", "-v", binary, "match", "--config", config, file],
            stdout=null, stderr=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"{binary} failed on {file}:\n{p.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", p.stderr)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return seconds, rss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("dir")
    ap.add_argument("--sizes", default="1000,2000,4000,8000")
    ap.add_argument("--threads", type=int)
    args = ap.parse_args()
    src = os.path.join(args.dir, "articles.jsonl")
    print("| articles | MB | wall s | MB/s | articles/s | max RSS MB | time vs previous |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    prev = None
    for n in (int(s) for s in args.sizes.split(",")):
        file = prefix(src, n, os.path.join(args.dir, f"first-{n}.jsonl"))
        mb = os.path.getsize(file) / 1e6
        seconds, rss = timed(args.binary, args.dir, file, args.threads)
        ratio = f"{seconds / prev[1]:.2f}× for {n / prev[0]:.0f}× input" if prev else ""
        print(f"| {n} | {mb:.1f} | {seconds:.2f} | {mb / seconds:.1f} | {n / seconds:.0f} | {rss:.0f} | {ratio} |",
              flush=True)
        prev = (n, seconds)


if __name__ == "__main__":
    main()
