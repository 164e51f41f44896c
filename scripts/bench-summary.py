#!/usr/bin/env python3
"""Summarise `cargo bench --bench matcher` and `--bench memory` results.

Reads target/criterion/<group>/<size>/new/{estimates,benchmark}.json and
target/criterion/memory.json and prints, per benchmark, the median time of
one pass over the corpus, MB/s and articles/s (one core: the benchmark is
single-threaded), then the targets of the matcher benchmark issue.
Usage: python3 scripts/bench-summary.py [TARGET_DIR]
"""

import json
import os
import sys

TARGET = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "target")
ROOT = os.path.join(TARGET, "criterion")
SIZES = ["100", "1k", "10k", "100k"]


def load(group, size):
    d = os.path.join(ROOT, group, size, "new")
    try:
        with open(os.path.join(d, "estimates.json")) as f:
            median_ns = json.load(f)["median"]["point_estimate"]
        with open(os.path.join(d, "benchmark.json")) as f:
            tp = json.load(f).get("throughput") or {}
    except FileNotFoundError:
        return None
    elements = bytes_ = None
    if "ElementsAndBytes" in tp:
        elements = tp["ElementsAndBytes"]["elements"]
        bytes_ = tp["ElementsAndBytes"]["bytes"]
    elif "Elements" in tp:
        elements = tp["Elements"]
    elif "Bytes" in tp:
        bytes_ = tp["Bytes"]
    return {"s": median_ns / 1e9, "elements": elements, "bytes": bytes_}


def fmt_time(s):
    return f"{s * 1e3:9.2f} ms" if s < 10 else f"{s:9.2f} s "


def main():
    rows = [("prepare", "corpus")]
    rows += [(g, s) for g in ("match", "baseline_aho_corasick") for s in SIZES]
    rows += [("match_1k_plus_99k_nonmatching", "100k")]
    print(f"{'benchmark':42} {'median/pass':>12} {'MB/s':>8} {'articles/s':>11} {'us/article':>11}")
    results = {}
    for g, s in rows:
        r = load(g, s)
        if r is None:
            continue
        results[(g, s)] = r
        mbs = r["bytes"] / r["s"] / 1e6 if r["bytes"] else float("nan")
        aps = r["elements"] / r["s"] if r["elements"] else float("nan")
        print(f"{g + '/' + s:42} {fmt_time(r['s']):>12} {mbs:8.2f} {aps:11.0f} {1e6 / aps:11.1f}")

    print()
    print("compile (Matcher::compile of parsed rules, median):")
    for s in ("10k", "100k"):
        r = load("compile", s)
        if r:
            print(f"  compile/{s:5} {fmt_time(r['s'])}  ({r['s'] / r['elements'] * 1e6:.2f} us/rule)")

    mem_path = os.path.join(ROOT, "memory.json")
    mem = []
    if os.path.exists(mem_path):
        with open(mem_path) as f:
            mem = json.load(f)
        print()
        print("memory (fresh process each; matcher: RSS added by Matcher::compile;")
        print("        book: the whole process after RuleBook::load of a generated rules.toml;")
        print("        binary: newsalert check (load s, max RSS) and newsalert match - idle (RSS)):")
        print(f"  {'mode':>8} {'rules':>7} {'parse s':>8} {'compile s':>10} {'RSS MiB':>8} {'added MiB':>10} {'B/rule':>8} {'peak MiB':>9}")
        for m in mem:
            added = m.get("added_bytes", m.get("matcher_bytes", 0))
            print(
                f"  {m.get('mode', 'matcher'):>8} {m['rules']:>7} {m['parse_s']:8.3f} {m['compile_s']:10.3f} "
                f"{m['rss_after'] / 2**20:8.1f} {added / 2**20:10.1f} "
                f"{added / m['rules']:8.0f} {m['peak'] / 2**20:9.1f}"
            )

    print()
    print("targets:")

    def ok(b):
        return "MET" if b else "MISSED"

    a, b = results.get(("match", "1k")), results.get(("match_1k_plus_99k_nonmatching", "100k"))
    if a and b:
        ratio = b["s"] / a["s"]
        print(f"  (1k + 99k non-matching) / 1k = {ratio:.2f}x  (<= 1.3x)  {ok(ratio <= 1.3)}")
    for s in SIZES:
        m, base = results.get(("match", s)), results.get(("baseline_aho_corasick", s))
        if m and base:
            speedup = base["s"] / m["s"]
            print(f"  matcher vs baseline at {s:>4}: {speedup:.2f}x as fast  (> 1x)  {ok(speedup > 1)}")
    c = load("compile", "100k")
    if c:
        print(f"  compile 100k = {c['s']:.2f} s  (<= 2 s)  {ok(c['s'] <= 2)}")
    for m in mem:
        if m["rules"] == 100000:
            rss = m["rss_after"]
            what = "RuleBook process" if m.get("mode") == "book" else "matcher bench process"
            added = m.get("added_bytes", m.get("matcher_bytes", 0))
            line = (f"  {what} RSS with 100k rules = {rss / 2**20:.1f} MiB = {rss / 1e6:.1f} MB "
                    f"(added {added / 2**20:.1f} MiB, peak {m['peak'] / 2**20:.1f} MiB)")
            if m.get("mode") == "binary":
                # What a container limit sees: the real binary loading them.
                peak = m["peak"]
                print(f"  newsalert check, 100k rules: max RSS {peak / 2**20:.1f} MiB = {peak / 1e6:.1f} MB, "
                      f"load {m['compile_s']:.2f} s  (<= 100 MB)  {ok(peak <= 100e6)}")
                print(f"  newsalert match - idle, 100k rules: RSS {rss / 2**20:.1f} MiB  (info)")
                continue
            # The target is what the service holds: the RuleBook process.
            print(line + (f"  (<= 100 MB)  {ok(rss <= 100e6)}" if m.get("mode") == "book" else "  (info)"))


if __name__ == "__main__":
    main()
