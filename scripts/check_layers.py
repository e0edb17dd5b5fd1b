#!/usr/bin/env python3
"""Layer rules of the `shared` crate, checked over its file-level import graph.

Every reference to `crate::a::b::…` (in `use` items or inline paths) and every `super::…`
path becomes an edge from the file that writes it to the file that defines the module it
names. The check fails on:

- a circle between files (module `mod.rs` files re-exporting their children aside: an edge
  from a parent module file into its own child is not an import);
- a layer arrow that runs back up (see RULES);
- `sqlx::query*` outside `shared/src/db/` in non-test code of the workspace (the floor
  programs under `bench/` aside);
- `std::env::var` outside the config module in non-test code of the workspace (the same);
- a comment that points at an issue, the seed or a design document outside the repository;
- a function `main.rs` longer than 20 lines.

Run from the repository root: `python3 scripts/check_layers.py`.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "shared", "src")

# (layer prefix, forbidden import prefixes)
RULES = [
    ("domain", ["db", "adapters", "http", "services", "config", "app", "telemetry", "ports", "text"]),
    ("text", ["db", "adapters", "http", "services", "config", "app", "telemetry", "ports"]),
    ("config", ["db", "adapters", "http", "services", "app", "ports"]),
    ("ports", ["db", "adapters", "http", "services", "app"]),
    ("db", ["services", "adapters", "http", "app"]),
    ("adapters", ["services", "http", "app"]),
    ("services", ["http", "app"]),
    ("http", ["app"]),
]
FORBIDDEN_CRATES_IN = {"services": ["axum", "http"]}


def module_files():
    """Map of module path tuple -> relative file path."""
    mods = {}
    for dirpath, _, files in os.walk(SRC):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), SRC)
            parts = rel[:-3].split(os.sep)
            if parts[-1] == "mod":
                parts = parts[:-1]
            if parts == ["lib"]:
                parts = []
            mods[tuple(parts)] = rel
    return mods


def strip_tests(text):
    """Drop `#[cfg(test)] mod … { … }` blocks (brace-matched) so tests may import freely."""
    out = []
    i = 0
    pat = re.compile(r"#\[cfg\(test\)\]\s*(pub\s+)?mod\s+\w+\s*\{")
    while True:
        m = pat.search(text, i)
        if not m:
            out.append(text[i:])
            break
        out.append(text[i:m.start()])
        depth = 1
        j = m.end()
        while j < len(text) and depth:
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
            j += 1
        i = j
    return "".join(out)


def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def expand_use(body):
    """Expand a `use` tree (`a::{b, c::{d}}`) into flat paths."""
    body = re.sub(r"\s+", "", body)
    out = []

    def rec(prefix, s):
        # split s at top-level commas
        depth, start, items = 0, 0, []
        for k, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(s[start:k])
                start = k + 1
        items.append(s[start:])
        for it in items:
            if not it:
                continue
            if "{" in it:
                head, rest = it.split("{", 1)
                rec(prefix + head, rest[:-1] if rest.endswith("}") else rest)
            else:
                out.append(prefix + it.split(" as ")[0].split("as")[0] if False else prefix + re.sub(r"as\w+$", "", it))
    rec("", body)
    return out


def resolve(mods, path_parts):
    """The file defining the longest module prefix of `path_parts`."""
    for n in range(len(path_parts), -1, -1):
        key = tuple(path_parts[:n])
        if key in mods:
            return mods[key]
    return None


def edges_of(mods, modpath, rel, text):
    code = strip_comments(strip_tests(text))
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        paths.extend(expand_use(m.group(1)))
    paths.extend(m.group(0) for m in re.finditer(r"\b(?:crate|super)(?:::\w+)+", code))
    targets = set()
    is_mod_file = rel.endswith("mod.rs") or rel == "lib.rs"
    for p in paths:
        parts = [x for x in p.split("::") if x]
        if not parts:
            continue
        if parts[0] == "crate":
            absolute = parts[1:]
        elif parts[0] == "super":
            base = list(modpath if is_mod_file else modpath[:-1]) if False else list(modpath)
            while parts and parts[0] == "super":
                base = base[:-1]
                parts = parts[1:]
            absolute = base + parts
        elif parts[0] == "self":
            absolute = list(modpath) + parts[1:]
        else:
            continue
        t = resolve(mods, absolute)
        if t and t != rel:
            targets.add(t)
    return targets, code


def layer_of(rel):
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def find_cycles(graph):
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            strong(v)
    return sccs


def workspace_sources():
    for top in ("shared", "functions", "standalone", "aws", "bench"):
        for dirpath, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [d for d in dirs if d not in ("target", "node_modules")]
            for f in files:
                if f.endswith(".rs"):
                    yield os.path.join(dirpath, f)


def main():
    errors = []
    mods = module_files()
    rev = {v: k for k, v in mods.items()}
    graph = {}
    for rel, modpath in ((v, k) for k, v in mods.items()):
        with open(os.path.join(SRC, rel), encoding="utf-8") as fh:
            text = fh.read()
        targets, code = edges_of(mods, modpath, rel, text)
        is_parent = rel.endswith("mod.rs") or rel == "lib.rs"
        kept = set()
        for t in targets:
            # a parent module naming its own children (mod declarations, re-exports)
            tmod = rev[t]
            if is_parent and tmod[: len(modpath)] == modpath and len(tmod) > len(modpath):
                continue
            kept.add(t)
        graph[rel] = kept
        lay = layer_of(rel)
        for prefix, forbidden in RULES:
            if lay != prefix:
                continue
            for t in kept:
                tl = layer_of(t)
                if tl in forbidden:
                    errors.append(f"layer: {rel} ({lay}) imports {t} ({tl})")
            for crate in FORBIDDEN_CRATES_IN.get(prefix, []):
                if re.search(rf"\b{crate}::", code):
                    errors.append(f"layer: {rel} ({lay}) uses the `{crate}` crate")
    # Services must not reach HTTP through another module either.
    for rel in graph:
        if layer_of(rel) != "services":
            continue
        seen, todo = set(), [rel]
        while todo:
            v = todo.pop()
            for w in graph.get(v, ()):
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        for w in sorted(seen):
            if layer_of(w) in ("http", "app"):
                errors.append(f"layer: {rel} (services) reaches {w} through its imports")
                break
    for comp in find_cycles(graph):
        errors.append("circle: " + " <-> ".join(comp))

    for path in workspace_sources():
        rel = os.path.relpath(path, ROOT)
        parts = rel.split(os.sep)
        if "migrations" in parts:
            continue
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        # Tests, benches and the floor programs under bench/ (which must not depend on the
        # product crates, so they hold their own SQL and settings) may run SQL and read the
        # environment; every file keeps its comments inside the repository.
        exempt = "tests" in parts or "benches" in parts or parts[0] == "bench"
        code = "" if exempt else strip_comments(strip_tests(text))
        if re.search(r"\bsqlx::query", code) and not rel.startswith(os.path.join("shared", "src", "db")):
            errors.append(f"sql: {rel} runs sqlx::query outside shared/src/db/")
        if re.search(r"\bstd::env::var|\benv::var\(", code) and not rel.startswith(os.path.join("shared", "src", "config")):
            errors.append(f"env: {rel} reads the environment outside shared/src/config/")
        for n, line in enumerate(text.splitlines(), 1):
            c = line.split("//", 1)[1] if "//" in line else ""
            if re.search(r"\b[Ii]ssue\s*#?\d|\bthe seed\b|\bseed('s|\s*§|\s+section|:)|\(seed\b|DESIGN\.md|\.\./shared", c):
                errors.append(f"comment: {rel}:{n} points outside the repository: {c.strip()}")
        if parts[0] == "functions" and parts[-1] == "main.rs":
            lines = len(text.splitlines())
            if lines > 20:
                errors.append(f"main: {rel} has {lines} lines (at most 20)")

    for e in errors:
        print(e)
    if errors:
        print(f"check_layers: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_layers: {len(graph)} files, no circle, layers hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
