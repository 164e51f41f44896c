#!/usr/bin/env python3
"""End-to-end benchmark: `newsalert match` against native matchers
(benches/native: Hyperscan, token hash, aho-corasick) over the same
generated articles and rule sets, interleaved in one run.

Usage: scripts/bench-match.py [--work target/bench-match] [--articles 20000]
                              [--reps 3] [--quick] [--no-build]
                              [--wait-load SECONDS] [--keep-output]
                              [--rulesets r1k,r100k,r1k+99k]

- Inputs (generated with scripts/gen-match-input.py when absent, under
  WORK): ARTICLES articles (~5 KB each; 20 000 = 100 MB) and their first
  half (the linearity figure); rule sets r1k (1 000 rules), r100k
  (100 000 rules of the same mix; its first 1 000 are r1k) and r1k+99k
  (r1k plus 99 000 rules built only from words that never occur).
- Builds `cargo build --release --bin newsalert` and
  `cargo build --release --manifest-path benches/native/Cargo.toml`
  (needs Hyperscan: Debian's libhyperscan-dev, and pkg-config).
- Runs every engine on every rule set over the whole input, round-robin,
  REPS times (the order rotates by one each repetition), plus newsalert
  over the first half (r1k, r100k) and every engine over no articles at
  all (start-up: settings, rules, compile); each run under
  `/usr/bin/time -v` (wall time, max RSS) with its full output written to
  WORK/out/. Prints the medians as a Markdown table, the linearity and
  +99k figures, and the agreement check. The outputs are deleted at the
  end (newsalert's are ~64 KB per article at 100k rules) unless
  --keep-output.
- newsalert's rules cache (`rules.cache_dir`) is WORK/rules-cache,
  emptied at the start; one untimed run per rule set compiles and stores
  it (printed as the first run), the timed runs read it back; the job
  `newsalert-nocache` (cache off: compiling at every start) runs r1k+99k
  and every start-up, so both figures are in the report.
- --wait-load S: first wait up to S seconds for the 1-minute load average
  to drop below 3.
- Agreement: for the rules whose query is one bare word, the (article,
  rule) pairs of newsalert with cleaning off
  (NEWSALERT__PIPELINE__CLEAN_TEXT=false, one extra untimed run per rule
  set) must equal the token-hash baseline's; the timed newsalert run
  (cleaning on) must find a subset of them (the baselines also match words
  in HTML tags and trailing link lists, which newsalert removes). Exit
  status 1 if either fails.
- --quick: 2 000 articles, one repetition (a smoke run, own work dir).
- --rulesets: only these rule sets (r1k,r1k+99k takes minutes; newsalert
  at r100k takes most of a full run).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINES = ["newsalert", "hyperscan", "tokenhash", "aho"]
RULESETS = {  # name: gen-match-input.py arguments
    "r1k": ["--rules", "1000"],
    "r100k": ["--rules", "100000"],
    "r1k+99k": ["--rules", "1000", "--nonmatching", "99000"],
}
WORD = re.compile(r"^[A-Za-z0-9]+$")


def gen(out, *args):
    if not os.path.exists(os.path.join(out, "rules.toml")):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts/gen-match-input.py"), out, *args],
                       check=True)


def inputs(work, articles):
    adir = os.path.join(work, f"articles-{articles}")
    gen(adir, "--rules", "0", "--articles", str(articles))
    full = os.path.join(adir, "articles.jsonl")
    half = os.path.join(adir, "first-half.jsonl")
    if not os.path.exists(half):
        with open(full) as src, open(half + ".tmp", "w") as dst:
            for i, line in enumerate(src):
                if i == articles // 2:
                    break
                dst.write(line)
        os.replace(half + ".tmp", half)
    for name, args in RULESETS.items():
        gen(os.path.join(work, name), "--articles", "0", *args)
    return full, half


def wait_load(seconds):
    deadline = time.time() + seconds
    while True:
        load = os.getloadavg()[0]
        if load < 3 or time.time() >= deadline:
            print(f"load average: {load}", file=sys.stderr)
            return
        time.sleep(15)


def build():
    cargo = os.environ.get("CARGO", "cargo")
    subprocess.run([cargo, "build", "--release", "--bin", "newsalert"], cwd=ROOT, check=True)
    # The same target dir as the main crate, so shared dependencies build once.
    subprocess.run([cargo, "build", "--release", "--manifest-path", "benches/native/Cargo.toml",
                    "--target-dir", "target"], cwd=ROOT, check=True)


def command(engine, work, ruleset, file):
    rules = os.path.join(work, ruleset)
    if engine.startswith("newsalert"):
        return [os.path.join(ROOT, "target/release/newsalert"), "match", "--config", rules, file]
    return [os.path.join(ROOT, "target/release/native-match"), "--engine", engine,
            os.path.join(rules, "rules.toml"), file]


def engine_env(engine, work):
    """newsalert's rules cache (rules.cache_dir): WORK/rules-cache, or off
    for `newsalert-nocache`."""
    env = dict(os.environ)
    env["NEWSALERT__RULES__CACHE_DIR"] = ("off" if engine == "newsalert-nocache"
                                          else os.path.join(work, "rules-cache"))
    return env


def timed(cmd, out, env=None):
    """Run `cmd` under /usr/bin/time -v with stdout to `out`: (wall s, max RSS MB)."""
    env = dict(os.environ if env is None else env)
    env.pop("RUST_LOG", None)
    with open(out, "wb") as stdout:
        p = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=stdout, stderr=subprocess.PIPE,
                           text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    h, m, s = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", p.stderr).groups()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return int(h or 0) * 3600 + int(m) * 60 + float(s), rss * 1024 / 1e6


def word_rules(path):
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    return {r["id"] for r in doc.get("rule", []) if WORD.match(r["query"].strip())}


RULE_KEY = re.compile(rb'"((?:[^"\\]|\\.)*)":\[')
LINE_ID = re.compile(rb'^\{"id":"((?:[^"\\]|\\.)*)"')


def pairs(out, rules):
    """(article id, rule id) pairs of an output file, for rules in `rules`.
    newsalert lines have a `"matches":{"ID":[hits],…}` object (the keys
    read from the text between `"matches":{` and `},"hits":[`); native-match
    lines a `"matches":[ids]` list."""
    found = set()
    with open(out, "rb") as f:
        for line in f:
            start = line.find(b',"matches":{')
            if start >= 0:
                aid = LINE_ID.match(line)
                section = line[start + 12:line.find(b'},"hits":[', start)]
                ids = [m.group(1) for m in RULE_KEY.finditer(section)]
                aid = aid.group(1) if aid else None
            else:
                obj = json.loads(line)
                aid, ids = obj["id"], obj["matches"]
            if aid is None or any(b"\\" in r for r in ids if isinstance(r, bytes)):
                obj = json.loads(line)  # escapes: take the slow path
                aid, ids = obj["id"], list(obj["matches"])
            if isinstance(aid, bytes):
                aid = aid.decode()
            for r in ids:
                r = r.decode() if isinstance(r, bytes) else r
                if r in rules:
                    found.add((aid, r))
    return found


def markup_articles(path):
    """Ids of the articles whose body is HTML or ends in a link list."""
    ids = set()
    with open(path) as f:
        for line in f:
            a = json.loads(line)
            if a.get("body_format") == "html" or "Latest news" in a.get("body", ""):
                ids.add(a["id"])
    return ids


def agreement(work, full, outdir, rulesets):
    print("\n## Agreement with the token-hash baseline (rules that are one bare word)\n")
    ok = True
    markup = None
    for ruleset in rulesets:
        words = word_rules(os.path.join(work, ruleset, "rules.toml"))
        raw_out = os.path.join(outdir, f"newsalert-noclean-{ruleset}.jsonl")
        env = dict(os.environ, NEWSALERT__PIPELINE__CLEAN_TEXT="false")
        timed(command("newsalert", work, ruleset, full), raw_out, env)
        base = pairs(os.path.join(outdir, f"tokenhash-{ruleset}.jsonl"), words)
        raw = pairs(raw_out, words)
        clean = pairs(os.path.join(outdir, f"newsalert-{ruleset}.jsonl"), words)
        print(f"- **{ruleset}** ({len(words)} one-word rules): token hash {len(base)} pairs; "
              f"newsalert, cleaning off: {len(raw)}; newsalert, cleaning on (the timed run): {len(clean)}")
        for label, a, b in [("only newsalert (cleaning off)", raw - base, None),
                            ("only token hash (vs cleaning off)", base - raw, None),
                            ("only newsalert (cleaning on)", clean - base, None)]:
            if a:
                ok = False
                print(f"  - FAIL: {len(a)} pairs {label}, first 10: {sorted(a)[:10]}")
        extra = base - clean
        if extra:
            if markup is None:
                markup = markup_articles(full)
            arts = {a for a, _ in extra}
            print(f"  - cleaning on: {len(extra)} pairs only the baseline finds, in {len(arts)} articles, "
                  f"{len(arts & markup)} of them with an HTML body or a trailing link list "
                  f"(words in tags and boilerplate that newsalert removes)")
        if not (raw - base or base - raw):
            print("  - cleaning off: identical")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default=os.path.join(ROOT, "target/bench-match"))
    ap.add_argument("--articles", type=int, default=20_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--wait-load", type=float, default=0)
    ap.add_argument("--keep-output", action="store_true")
    ap.add_argument("--rulesets", default=",".join(RULESETS))
    args = ap.parse_args()
    if args.quick:
        args.articles, args.reps = 2_000, 1
        args.work = os.path.join(args.work, "quick")
    sets = args.rulesets.split(",")
    if not sets or not set(sets) <= set(RULESETS):
        ap.error(f"--rulesets: a comma-separated subset of {','.join(RULESETS)}")
    os.makedirs(args.work, exist_ok=True)
    full, half = inputs(args.work, args.articles)
    if not args.no_build:
        build()
    outdir = os.path.join(args.work, "out")
    os.makedirs(outdir, exist_ok=True)
    empty = os.path.join(args.work, "empty.jsonl")
    open(empty, "w").close()
    files = {"full": full, "half": half, "none": empty}

    jobs = [(e, r, "full") for r in sets for e in ENGINES]
    jobs += [("newsalert-nocache", r, "full") for r in sets if r == "r1k+99k"]
    jobs += [("newsalert", r, "half") for r in sets if r != "r1k+99k"]
    jobs += [(e, r, "none") for r in sets for e in ENGINES + ["newsalert-nocache"]]
    times = {job: [] for job in jobs}
    # newsalert's rules cache starts empty; one untimed run per rule set
    # compiles and stores (the cold start, printed), the timed runs read it.
    cache = os.path.join(args.work, "rules-cache")
    shutil.rmtree(cache, ignore_errors=True)
    cold = {}
    for ruleset in sets:
        cold[ruleset] = timed(command("newsalert", args.work, ruleset, empty), os.devnull,
                              engine_env("newsalert", args.work))
        print(f"newsalert {ruleset}: compile + store in the rules cache: {cold[ruleset][0]:.2f} s, "
              f"{cold[ruleset][1]:.0f} MB", file=sys.stderr)
    wait_load(args.wait_load)
    loads = [os.getloadavg()[0]]
    for rep in range(args.reps):
        k = rep % len(jobs)
        for job in jobs[k:] + jobs[:k]:
            engine, ruleset, which = job
            suffix = "" if which == "full" else f"-{which}"
            out = os.path.join(outdir, f"{engine}-{ruleset}{suffix}.jsonl")
            wall, rss = timed(command(engine, args.work, ruleset, files[which]), out,
                              engine_env(engine, args.work))
            times[job].append((wall, rss))
            loads.append(os.getloadavg()[0])
            print(f"rep {rep + 1}/{args.reps}: {engine:9} {ruleset:8} {which}: {wall:.2f} s, "
                  f"{rss:.0f} MB", file=sys.stderr, flush=True)

    mb = os.path.getsize(full) / 1e6
    med = {job: statistics.median(w for w, _ in runs) for job, runs in times.items()}
    rss = {job: max(r for _, r in runs) for job, runs in times.items()}
    threads = os.environ.get("NEWSALERT__PIPELINE__MATCH_THREADS", "0 (one per core)")
    print(f"\n## End to end: {args.articles} articles, {mb:.1f} MB, median of {args.reps} "
          f"interleaved runs\n")
    print(f"newsalert: `pipeline.match_threads` = {threads}, {os.cpu_count()} cores; "
          "baselines single-threaded. 1-minute load average during the runs: "
          f"{min(loads):.1f}–{max(loads):.1f}. wall s: median (min–max); max RSS: the largest "
          "of the runs; start-up: the same command over no articles (median); "
          "time / newsalert's: > 1 means newsalert is faster.\n")
    print("| engine | rules | wall s | MB/s | articles/s | max RSS MB | start-up s | time / newsalert's |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for ruleset in sets:
        for engine in ENGINES + ["newsalert-nocache"]:
            job = (engine, ruleset, "full")
            if job not in med:
                continue
            w = med[job]
            walls = [t for t, _ in times[job]]
            ratio = w / med[("newsalert", ruleset, "full")]
            print(f"| {engine} | {ruleset} | {w:.2f} ({min(walls):.2f}–{max(walls):.2f}) | "
                  f"{mb / w:.1f} | {args.articles / w:,.0f} | {rss[job]:.0f} | "
                  f"{med[(engine, ruleset, 'none')]:.2f} | {ratio:.2f}× |")
    print("\n## Figures\n")
    for ruleset in [r for r in sets if r != "r1k+99k"]:
        full_t, half_t = med[("newsalert", ruleset, "full")], med[("newsalert", ruleset, "half")]
        print(f"- linearity, newsalert {ruleset}: {args.articles} vs {args.articles // 2} articles: "
              f"{full_t:.2f} s / {half_t:.2f} s = **{full_t / half_t:.2f}×** for 2× the input "
              f"(target ≤ 2.1×)")
    for engine in ENGINES if {"r1k", "r1k+99k"} <= set(sets) else []:
        a, b = med[(engine, "r1k+99k", "full")], med[(engine, "r1k", "full")]
        print(f"- +99k rules that match nothing, {engine}: {a:.2f} s / {b:.2f} s = **{a / b:.2f}×**"
              + (" (target ≤ 1.3×)" if engine == "newsalert" else ""))
    if {"r1k", "r1k+99k"} <= set(sets):
        a, b = med[("newsalert-nocache", "r1k+99k", "full")], med[("newsalert", "r1k", "full")]
        print(f"- +99k rules, newsalert with its rules cache off (compiling at every start): "
              f"{a:.2f} s / {b:.2f} s = {a / b:.2f}×")
    for ruleset in sets:
        print(f"- start-up, newsalert {ruleset}: rules cache read {med[('newsalert', ruleset, 'none')]:.2f} s; "
              f"cache off {med[('newsalert-nocache', ruleset, 'none')]:.2f} s; first run "
              f"(compile + store) {cold[ruleset][0]:.2f} s, {cold[ruleset][1]:.0f} MB")
    for ruleset in [r for r in sets if r != "r1k+99k"]:
        fastest = min(ENGINES[1:], key=lambda e: med[(e, ruleset, "full")])
        n, f = med[("newsalert", ruleset, "full")], med[(fastest, ruleset, "full")]
        print(f"- {ruleset}: fastest baseline {fastest} {f:.2f} s; newsalert {n:.2f} s "
              f"({'at least as fast' if n <= f else f'{n / f:.2f}× slower'})")
    ok = agreement(args.work, full, outdir, [r for r in sets if r != "r1k+99k"])
    if not args.keep_output:
        for name in os.listdir(outdir):
            os.remove(os.path.join(outdir, name))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
