"""Log hygiene: what the pass costs alone, and what it adds to a repository scan.

What is measured
    1. The pass alone (audits/secrets/loghygiene.py) over a real source tree, by default this virtual
       environment's site-packages: every file is read into memory first, then given to the pass as the
       repository scan gives its working-tree files; MB/s is all the bytes offered (it skips what is not Python,
       JavaScript, TypeScript, Ruby, PHP or Go at once) and the source bytes it reads, over the CPU time of this
       process (the machine is shared: wall time moves with the load, and is printed too). Then each finding
       on that tree, which holds no application's logging: a library's `print(password)` in a prompt helper is
       real, and the list shows how often it speaks.
    2. The same over the generated working tree of bench/secrets_recall.py's speed repository (Python,
       JavaScript and CSS with a logging call every seventh Python line): the adversarial case, dense in places
       that may begin a call.
    3. What it adds to a whole repository scan: scan_directory over that generated tree (--size-mb of it, no
       history), with the pass and with it turned off, best of --runs each.
    4. Start-up: importing tree-sitter and its seven grammars and the first parse, and what they take on disk.

Run:
    .venv/bin/python bench/log_hygiene.py
    .venv/bin/python bench/log_hygiene.py --tree path/to/a/checkout --size-mb 40 --runs 3
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")
os.environ.setdefault("DJANGO_ENV", "test")

import django

django.setup()

from secrets_recall import filler  # noqa: E402

from audits.secrets import loghygiene  # noqa: E402
from audits.secrets.archive import Limits  # noqa: E402
from audits.secrets.local import scan_directory  # noqa: E402
from audits.secrets.loghygiene import LogHygiene, is_checked  # noqa: E402

SITE_PACKAGES = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
DISTRIBUTIONS = [
    "tree-sitter",
    "tree-sitter-python",
    "tree-sitter-javascript",
    "tree-sitter-typescript",
    "tree-sitter-ruby",
    "tree-sitter-php",
    "tree-sitter-go",
]
BIG = Limits(upload_bytes=4 << 30, total_bytes=8 << 30, files=2_000_000, depth=64, file_bytes=16 << 20, seconds=7200)


def read_tree(root: Path) -> list[tuple[str, bytes]]:
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= 16 << 20:
            data = path.read_bytes()
            if b"\x00" not in data[:8000]:  # the scan reads binary files for keys only, never for this pass
                files.append((path.relative_to(root).as_posix(), data))
    return files


def timed_pass(files: list[tuple[str, bytes]], runs: int) -> tuple[LogHygiene, float, float]:
    """The pass over the files: the best CPU and wall seconds of `runs`."""
    best_cpu = best_wall = float("inf")
    hygiene = LogHygiene()
    for _ in range(runs):
        hygiene = LogHygiene()
        cpu, wall = time.process_time(), time.perf_counter()
        for path, data in files:
            hygiene.tree_file(path, data)
        best_cpu, best_wall = min(best_cpu, time.process_time() - cpu), min(best_wall, time.perf_counter() - wall)
    return hygiene, best_cpu, best_wall


def report_pass(label: str, files: list[tuple[str, bytes]], runs: int, show: int) -> None:
    total = sum(len(d) for _, d in files)
    source = [(p, d) for p, d in files if is_checked(p, d)]
    read = sum(len(d) for _, d in source)
    hygiene, cpu, wall = timed_pass(files, runs)
    stats = hygiene.stats
    rules = Counter(rule for rule, _, _ in hygiene.leaks).most_common()
    print(
        f"\n{label}: {len(files)} files, {total / 1e6:.1f} MB ({len(source)} source files read, {read / 1e6:.1f} MB)"
        f"\n  {total / 1e6 / cpu:6.0f} MB/s of all bytes, {read / 1e6 / cpu:6.0f} MB/s of source (CPU {cpu:.2f} s; "
        f"wall {wall:.2f} s: {total / 1e6 / wall:.0f} MB/s)"
        f"\n  {stats['log_calls']} logging calls parsed, {stats['log_left_out']} places left out at a limit, "
        f"{len(hygiene.leaks)} findings: " + (", ".join(f"{rule.split('.')[-1]} {n}" for rule, n in rules) or "none")
    )
    for leak in list(hygiene.leaks.values())[:show]:
        print(f"    {leak.rule.split('.')[-1]:13} {leak.path}:{leak.lines[0]}  {leak.call}: {leak.name}")


def generated_tree(root: Path, size_mb: float) -> None:
    """The working tree of secrets_recall.py's speed repository: about size_mb MB of Python, JavaScript and CSS."""
    rng = random.Random(2)
    files = int(size_mb * 1e6 / 53_000)
    for i in range(files):
        kind = rng.choice(["py", "js", "css"])
        path = root / f"pkg{i % 40}" / f"m{i}.{kind}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(filler(rng, kind if kind != "css" else "cfg", 1000))


def scan_share(root: Path, runs: int) -> None:
    """scan_directory with the pass and without it (the pass replaced by one that reads nothing), and the pass's
    own CPU time over the same files for its share (the difference of two scans is within their noise)."""
    real = LogHygiene.tree_file
    figures = {}
    for label, method in (("with log hygiene", real), ("without", lambda self, path, data: None)):
        LogHygiene.tree_file = method  # type: ignore[method-assign]
        best = float("inf")
        for _ in range(runs):
            started = time.process_time()
            report = scan_directory(root, BIG, history=False)
            best = min(best, time.process_time() - started)
        figures[label] = (best, report.stats["bytes"])
    LogHygiene.tree_file = real  # type: ignore[method-assign]
    (on, scanned), (off, _) = figures["with log hygiene"], figures["without"]
    _, alone, _ = timed_pass(read_tree(root), runs)
    print(
        f"\nWhole scan of the generated tree ({scanned / 1e6:.1f} MB, no history), CPU best of {runs}:"
        f"\n  with log hygiene {scanned / 1e6 / on:6.2f} MB/s ({on:.2f} s), without {scanned / 1e6 / off:6.2f} MB/s "
        f"({off:.2f} s); the pass alone {alone:.2f} s, {100 * alone / on:.1f}% of the scan"
    )


def start_up() -> None:
    started = time.perf_counter()
    loghygiene.file_leaks("a.py", b"print(password)\n")  # imports were made at start; this is the first parse
    first = time.perf_counter() - started
    size = 0
    licences = set()
    for name in DISTRIBUTIONS:
        dist = importlib.metadata.distribution(name)
        size += sum(dist.locate_file(f).stat().st_size for f in dist.files or [] if dist.locate_file(f).exists())
        classifiers = [
            c.rsplit(" :: ", 1)[-1].removesuffix(" License")
            for c in dist.metadata.get_all("Classifier") or []
            if "License" in c
        ]
        licences.add(dist.metadata.get("License-Expression") or dist.metadata.get("License") or ", ".join(classifiers))
    print(
        f"\ntree-sitter and seven grammars: {size / 1e6:.1f} MB installed, licence {', '.join(sorted(licences))}; "
        f"first parse {first * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=SITE_PACKAGES, help="a real source tree (default: site-packages)")
    parser.add_argument("--size-mb", type=float, default=20.0, help="MB of the generated working tree")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs")
    parser.add_argument("--show", type=int, default=30, help="findings on the real tree to print")
    args = parser.parse_args()
    print(f"Load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    start_up()
    report_pass(f"Real tree {args.tree}", read_tree(args.tree), args.runs, args.show)
    with tempfile.TemporaryDirectory(prefix="bench-loghygiene-") as tmp:
        root = Path(tmp)
        generated_tree(root, args.size_mb)
        report_pass("Generated working tree", read_tree(root), args.runs, 10)
        scan_share(root, args.runs)


if __name__ == "__main__":
    main()
