#!/usr/bin/env python3
"""Module import edges between the files under src/ (`use crate::`,
`super::`, `self::` paths, comments and inline test modules ignored) and
the cycles among them (Tarjan). Exits 1 if there is a cycle; `-v` lists
every edge. Run by `make lint`."""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else "src"
mods = {}
for dp, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith(".rs"): continue
        p = os.path.join(dp, f)
        rel = os.path.relpath(p, root)[:-3]
        parts = rel.split(os.sep)
        if parts[-1] in ("mod", "lib", "main"): parts = parts[:-1]
        mods["::".join(parts)] = p
def resolve(cur, path):
    # cur: module path list; path: list of segments after crate/super
    segs = path
    best = None
    for i in range(len(segs), 0, -1):
        name = "::".join(segs[:i])
        if name in mods: return name
    return None
edges = {}
for m, p in mods.items():
    src = re.sub(r"//[^\n]*", "", open(p).read())
    src = re.sub(r"(?s)#\[cfg\(test\)\]\s*mod tests \{.*", "", src)
    # strip test modules roughly: ignore files named tests*
    cur = m.split("::") if m else []
    is_dir_mod = p.endswith("mod.rs") or p.endswith("lib.rs")
    for mt in re.finditer(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)", src):
        kind, rest = mt.group(1), mt.group(2)
        segs = rest.strip(":").split("::")
        if kind == "crate": base = []
        elif kind == "super":
            base = cur[:-1] if not is_dir_mod else cur[:-1]
            # super from file module a::b -> a ; from dir module a::b (mod.rs) -> a
        else: base = cur if is_dir_mod else cur
        # multiple super::super
        full = base + segs
        while "super" in full:
            i = full.index("super"); full = full[:i-1] + full[i+1:]
        t = resolve(cur, full)
        if t is None or t == m: continue
        # ignore edges to ancestors (parent mod re-exports) only if target is prefix
        edges.setdefault(m, set()).add(t)
# tests modules excluded
def is_test(m): return any(s.startswith("tests") for s in m.split("::"))
g = {m: {t for t in ts if not is_test(t) and not (m.startswith(t + "::") if t else True)} for m, ts in edges.items() if not is_test(m)}
# Tarjan SCC
idx = {}; low = {}; st = []; on = set(); sccs = []; c = [0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in g.get(v, ()):
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(comp)
for v in list(g):
    if v not in idx: sc(v)
if "-v" in sys.argv:
    for m in sorted(g):
        print(f"{m or 'crate'} -> {', '.join(sorted(x or 'crate' for x in g[m]))}")
for comp in sccs:
    print("CYCLE:", " <-> ".join(sorted(comp)))
print(f"{len(mods)} modules, {sum(len(v) for v in g.values())} edges, {len(sccs)} cycles")
sys.exit(1 if sccs else 0)
