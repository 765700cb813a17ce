"""Time twoku on a national-scale synthetic store and print the figures of issue 10.

    python benchmarks/run.py                   # 5,000 rules + 50,000 knowledge items
    python benchmarks/run.py --small           # 500 rules + 5,000 knowledge items, quick
    python benchmarks/run.py --store DIR       # reuse a store made by benchmarks/generate.py

Every figure is the wall time of a whole ``twoku`` process, as a user sees it.  Absolute
times vary from machine to machine, so each is also given as a ratio to a naive
reference over the same files: ruamel.yaml's round-trip loader and a freshly made
``jsonschema`` validator per file (timed on every ``--sample``-th file and scaled to all).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

TARGETS = {
    "help": 0.150,
    "version": 0.150,
    "cold": 3.0,
    "warm": 0.3,
    "changed": 0.5,
    "diff": 0.5,
    "publish": 5.0,
}


def twoku_exe() -> list[str]:
    beside = Path(sys.executable).parent / "twoku"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("twoku")
    return [found] if found else [sys.executable, "-m", "twoku"]


def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def timed(
    args: list[str], cwd: Path, env: dict[str, str], expect: int | None = 0, memory: bool = False
) -> tuple[float, int, int]:
    """(seconds, peak resident bytes of the process tree when ``memory``, else 0, exit code) of one run.

    Watching the memory polls /proc from a thread of this process every 10 ms, which on a two-core
    machine takes time from the run: the runs that report a time alone are not watched."""
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    if memory and sys.platform.startswith("linux"):
        watcher.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    if expect is not None and proc.returncode != expect:
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}:\n{err.decode(errors='replace')[-2000:]}")
    return elapsed, peak, proc.returncode


def best(args: list[str], cwd: Path, env: dict[str, str], runs: int, setup: object = None) -> float:
    times = []
    for _ in range(runs):
        if callable(setup):
            setup()
        times.append(timed(args, cwd, env)[0])
    return min(times)


def naive(root: Path, paths: list[str]) -> float:
    """Seconds for the naive reference over ``paths``: ruamel round-trip + a fresh jsonschema validator each."""
    from jsonschema import Draft202012Validator
    from ruamel.yaml import YAML

    from twoku.model.layout import classify
    from twoku.store.schema.schemas import load_schema

    start = time.perf_counter()
    for path in paths:
        kind = classify(path).kind
        data = YAML(typ="rt").load((root / path).read_text(encoding="utf-8"))
        if kind:
            validator = Draft202012Validator(load_schema(kind), format_checker=Draft202012Validator.FORMAT_CHECKER)
            list(validator.iter_errors(_json(data)))
    return time.perf_counter() - start


def _json(value: object) -> object:
    import datetime as dt

    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def touch_files(root: Path, paths: list[str]) -> None:
    """Add a comment to each file (a real edit, so its blob changes, but not its data)."""
    for path in paths:
        full = root / path
        text = full.read_text(encoding="utf-8")
        full.write_text(text.replace("status: 生效\n", "# 复核：2026 年度\nstatus: 生效\n", 1), encoding="utf-8")


def edit_titles(root: Path, paths: list[str]) -> None:
    """Change each file's data: its title (what a revision of a knowledge item does)."""
    for path in paths:
        full = root / path
        text = full.read_text(encoding="utf-8")
        full.write_text(re.sub(r"^title: (.*)$", r"title: \1（2026 年修订）", text, count=1, flags=re.M), "utf-8")


def edit_thresholds(root: Path, paths: list[str]) -> None:
    """Change each rule's first parameter value (what other items see of it: overrides and records bound to
    it are checked again, and may now drift)."""
    for path in paths:
        full = root / path
        text = full.read_text(encoding="utf-8")
        text = re.sub(r"^(    value: )(\d+)$", lambda m: f"{m[1]}{int(m[2]) + 1}", text, count=1, flags=re.M)
        full.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="500 rules + 5,000 knowledge items")
    parser.add_argument("--rules", type=int)
    parser.add_argument("--knowledge", type=int)
    parser.add_argument("--store", type=Path, help="use (or create) the store in this folder")
    parser.add_argument("--sample", type=int, default=10, help="time the naive reference on every N-th file")
    parser.add_argument("--runs", type=int, default=3, help="runs of each quick figure (the best is kept)")
    args = parser.parse_args()
    rules = args.rules or (500 if args.small else 5000)
    knowledge = args.knowledge or (5000 if args.small else 50000)

    from generate import AFTER, BEFORE, generate

    from twoku.store.files import store_paths

    scratch = Path(tempfile.mkdtemp(prefix="twoku-bench-"))
    root = args.store or scratch / "store"
    if not (root / "twoku.yaml").is_file():
        print(f"generating {rules} rules + {knowledge} knowledge items in {root} …", file=sys.stderr)
        generate(root, rules, knowledge)
    env = {**os.environ, "TWOKU_CACHE_DIR": str(scratch / "cache"), "NO_COLOR": "1", "COLUMNS": "120"}
    exe = twoku_exe()
    paths = store_paths(root)
    rows: list[tuple[str, str, float | None, float | None, str]] = []

    def add(key: str, label: str, seconds: float | None, note: str = "") -> None:
        rows.append((key, label, seconds, TARGETS.get(key), note))

    print("timing …", file=sys.stderr)
    add("help", "twoku --help (whole process)", best([*exe, "--help"], root, env, args.runs))
    add("version", "twoku --version (whole process)", best([*exe, "--version"], root, env, args.runs))
    peak = timed([*exe, "validate", "--no-cache"], root, env, memory=True)[1]
    cold = min(timed([*exe, "validate", "--no-cache"], root, env)[0] for _ in range(args.runs))
    add("cold", f"twoku validate --no-cache ({len(paths)} files)", cold)
    timed([*exe, "validate"], root, env)  # fills the cache
    add("warm", "twoku validate, warm, nothing changed", best([*exe, "validate"], root, env, args.runs))
    knowledge = [p for p in paths if "/knowledge/" in p and p.endswith(".yaml")]
    rules = [p for p in paths if "/rules/" in p]
    edits = [
        ("changed", "comments", touch_files, knowledge[:: max(1, len(knowledge) // 50)][:50], 0),
        ("changed", "knowledge titles", edit_titles, knowledge[7 :: max(1, len(knowledge) // 50)][:50], 0),
        ("changed", "rule thresholds", edit_thresholds, rules[3 :: max(1, len(rules) // 50)][:50], None),
    ]
    for key, what, edit, changed, expect in edits:
        times = []
        for _ in range(args.runs):  # the same edit again, each time from the cached state of the unchanged store
            try:
                edit(root, changed)
                times.append(timed([*exe, "validate"], root, env, expect=expect)[0])
            finally:
                subprocess.run(["git", "checkout", "-q", "--", *changed], cwd=root, check=True)
            timed([*exe, "validate"], root, env, expect=None)
        add(key, f"validate after {len(changed)} files changed: {what}", min(times))
    diff_args = [*exe, "diff", "--since", BEFORE, "--until", AFTER, "--format", "json"]
    if (HERE.parent / "twoku" / "cli" / "diff.py").is_file():
        add("diff", f"twoku diff {BEFORE}..{AFTER}", best(diff_args, root, env, args.runs))
    else:
        add("diff", "twoku diff between the tags", None, "not available")
    help_text = subprocess.run([*exe, "--help"], capture_output=True, text=True, env=env).stdout
    if " publish " in help_text:
        city = next(p.split("/")[3] for p in paths if "/municipal/" in p)
        pub = [*exe, "publish", "--region", city, "--public-summary", "--out", str(scratch / "publish")]
        seconds, _, code = timed(pub, root, env, expect=None)
        label = f"twoku publish --public-summary (city {city})"
        add("publish", label, seconds if code == 0 else None, "" if code == 0 else f"exit {code}")
    else:
        add("publish", "twoku publish --public-summary, one city", None, "not available yet")

    sample = paths[:: args.sample]
    reference = naive(root, sample) * len(paths) / len(sample)
    print(f"\n{len(paths)} files; naive reference (ruamel round-trip + fresh jsonschema validator per file):")
    print(f"  {reference:.1f} s  (timed on {len(sample)} files, every {args.sample}th, scaled to all)\n")
    print(f"| {'figure':<46} | {'time':>9} | {'target':>8} | {'met':^4} | {'naive ÷ twoku':>13} |")
    print(f"|{'-' * 48}|{'-' * 11}|{'-' * 10}|{'-' * 6}|{'-' * 15}|")
    for _key, label, seconds, target, note in rows:
        if seconds is None:
            print(f"| {label:<46} | {note:>9} | {'':>8} | {'':^4} | {'':>13} |")
            continue
        met = "yes" if target is None or seconds <= target else "NO"
        tgt = f"{target:.3g} s" if target else ""
        print(f"| {label:<46} | {seconds:>7.3f} s | {tgt:>8} | {met:^4} | {reference / seconds:>12.0f}× |")
    mib = peak / 2**20
    print(f"| {'peak memory, cold validate (all processes)':<46} | {mib:>5.0f} MiB | {'300 MiB':>8} | ", end="")
    print(f"{'yes' if mib <= 300 else 'NO':^4} | {'':>13} |")
    print(f"\ncold validate is {reference / cold:.0f}× faster than the naive reference (target ≥ 20×)")
    shutil.rmtree(scratch / "cache", ignore_errors=True)
    if args.store is None:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
