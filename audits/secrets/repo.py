"""The repository scan: an uploaded archive or git bundle, its working tree and its whole git history, turned
into findings (committed keys, committed .env files, environment variables .env.example does not document,
production settings left in debug mode, and in the working tree's source, logging calls that write secrets or
personal data). Pure: it reads a file and returns findings; the caller stores them."""

from __future__ import annotations

import bisect
import hashlib
import posixpath
import re
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from audits.findings import Finding
from audits.secrets.archive import (
    ArchiveError,
    Budget,
    Limits,
    git_dir_of,
    is_archive,
    members,
    nested_members,
    sniff,
)
from audits.secrets.detector import Hit, Kind
from audits.secrets.gitdata import GitObjects, object_format_of, read_refs
from audits.secrets.history import HistoryBlob, Repository, head_files, read_bundle, repository, upload_blobs
from audits.secrets.loghygiene import LogHygiene
from audits.secrets.lognames import LOG_RULE_IDS
from audits.secrets.providers import with_article
from audits.secrets.scanning import BlobScanner
from launchready.formatting import escape_controls, plural

# Every finding id the scan may produce.
REPO_SCAN_IDS = frozenset(
    {
        "secrets.repo.key",
        "secrets.repo.publishable",
        "secrets.repo.google_key",
        "secrets.repo.firebase_key",
        "secrets.repo.env_file",
        "secrets.repo.debug",
        "secrets.repo.unchecked",
        "env.undocumented",
        "env.example_missing",
        "secrets.log.unchecked",
    }
    | LOG_RULE_IDS
)
# A Google key, by provider: one to restrict (a Maps key at medium, a Firebase config's at low), as the bundle check
# says of one in a public script (audits/checks/secrets.py).
RESTRICTED_FINDINGS = {"gcp_api_key": "secrets.repo.google_key", "firebase_web": "secrets.repo.firebase_key"}
# The files of a .git folder the scan reads: its objects, its refs, and its configuration for the object
# format. Anything else (object alternates and a linked worktree's pointers to other places on disk, hooks,
# the index, logs) is never read, so that reading the upload can only ever read the upload.
LOOSE_OBJECT = re.compile(r"^objects/[0-9a-f]{2}/(?:[0-9a-f]{38}|[0-9a-f]{62})$")
REF_FILES = re.compile(r"^(?:HEAD|packed-refs|config|refs/.+)$")
VENDORED = ("node_modules/", "vendor/", ".venv/", "venv/", "site-packages/", "bower_components/", ".next/")
ENV_FILE = re.compile(r"(?:^|/)\.env(?:\.[\w.-]+)?$")
EXAMPLE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".defaults", ".schema")
EXAMPLE_NAMES = (".env.example", ".env.sample", ".env.template", ".env.dist", "example.env", "env.example")
_DOCUMENTED = re.compile(r"^\s*#?\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", re.MULTILINE)

_NAME = r"([A-Z_][A-Z0-9_]{1,80})"


def _word(name: str) -> str:
    """`name` as a whole word at the start of a pattern (what a leading \\b says), written after the name so
    that the regular expression engine looks for the name itself rather than trying every position."""
    return rf"{re.escape(name)}(?<!\w{re.escape(name)})"


ENV_USES: dict[tuple[str, ...], list[re.Pattern[str]]] = {
    (".py",): [
        re.compile(rf"{_word('environ')}\[\s*[\"']{_NAME}[\"']\s*\]"),
        re.compile(rf"{_word('environ')}\.(?:get|setdefault)\(\s*[\"']{_NAME}[\"']"),
        re.compile(rf"{_word('getenv')}\(\s*[\"']{_NAME}[\"']"),
        re.compile(
            rf"{_word('env')}(?:\.(?:str|bool|int|float|list|json|url|db_url|cache_url))?\(\s*[\"']{_NAME}[\"']"
        ),
    ],
    (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".vue", ".svelte", ".astro"): [
        re.compile(rf"{_word('process')}\.env\.{_NAME}\b"),
        re.compile(rf"{_word('process')}\.env\[\s*[\"'`]{_NAME}[\"'`]\s*\]"),
        re.compile(rf"{_word('import')}\.meta\.env\.{_NAME}\b"),
    ],
    (".rb", ".rake", ".erb"): [
        re.compile(rf"{_word('ENV')}\[\s*[\"']{_NAME}[\"']\s*\]"),
        re.compile(rf"{_word('ENV')}\.fetch\(\s*[\"']{_NAME}[\"']"),
    ],
    (".go",): [re.compile(rf"{_word('os')}\.(?:Getenv|LookupEnv)\(\s*\"{_NAME}\"")],
    (".php",): [
        re.compile(rf"{_word('getenv')}\(\s*[\"']{_NAME}[\"']"),
        re.compile(rf"\$_(?:ENV|SERVER)\[\s*[\"']{_NAME}[\"']\s*\]"),
        re.compile(rf"{_word('env')}\(\s*[\"']{_NAME}[\"']"),
    ],
}
# Set by the platform, the shell, the build tool or the web server, not by whoever deploys the app.
NOT_CONFIG = {
    "NODE_ENV", "PATH", "HOME", "PWD", "USER", "SHELL", "TERM", "TZ", "LANG", "CI", "HOSTNAME", "PORT",
    "MODE", "DEV", "PROD", "SSR", "BASE_URL", "TMPDIR", "DJANGO_SETTINGS_MODULE", "VERCEL", "VERCEL_URL",
    "REQUEST_METHOD", "REQUEST_URI", "SERVER_NAME", "SERVER_PORT", "REMOTE_ADDR", "SCRIPT_NAME", "QUERY_STRING",
    "DOCUMENT_ROOT", "HTTPS", "PHP_SELF", "SCRIPT_FILENAME", "SERVER_PROTOCOL", "REQUEST_TIME", "PATH_INFO",
    "CONTENT_TYPE", "CONTENT_LENGTH", "SERVER_ADDR", "SERVER_SOFTWARE", "REQUEST_SCHEME", "REMOTE_PORT",
}  # fmt: skip


@dataclass(frozen=True)
class DebugRule:
    applies: re.Pattern[str]  # to these paths
    pattern: re.Pattern[str]
    setting: str
    fix: str
    needle: str = ""  # what every match holds: without it in the file, the pattern is not run


DEBUG_RULES = [
    DebugRule(
        re.compile(r"(?:^|/)(?:settings\.py|settings/(?!.*(?:dev|local|test))[\w]+\.py|(?:prod|production)\.py)$"),
        re.compile(r"^DEBUG\s*=\s*True\b", re.MULTILINE),
        "DEBUG = True",
        'Set DEBUG = False for production, read from the environment (DEBUG = env.bool("DEBUG", default=False)), '
        "and list the real domains in ALLOWED_HOSTS.",
        "DEBUG",
    ),
    DebugRule(
        re.compile(r"^(?!.*(?:^|/)tests?/)(?!.*test_).*\.py$"),
        re.compile(r"\b(?:app|application|server)\.run\([^)\n]*\bdebug\s*=\s*True"),
        "app.run(debug=True)",
        "Remove debug=True (the Werkzeug debugger runs any code a visitor types); serve the app with gunicorn "
        "in production and leave FLASK_DEBUG unset.",
        ".run(",
    ),
    DebugRule(
        re.compile(r"^(?!.*(?:^|/)tests?/).*\.py$"),
        re.compile(r"\bFastAPI\([^)\n]*\bdebug\s*=\s*True"),
        "FastAPI(debug=True)",
        "Remove debug=True from FastAPI(...) so errors do not return tracebacks to visitors.",
        "FastAPI(",
    ),
    DebugRule(
        re.compile(
            r"(?:^|/)(?:Dockerfile[\w.-]*|Procfile|fly\.toml|render\.ya?ml|app\.ya?ml|netlify\.toml|vercel\.json|"
            r"heroku\.yml|ecosystem\.config\.c?js|\.env\.prod(?:uction)?|[\w.-]*prod[\w.-]*\.(?:ya?ml|json|toml|env))$"
        ),
        re.compile(r"NODE_ENV[\"']?\s*[:=]\s*[\"']?development\b"),
        "NODE_ENV=development",
        "Set NODE_ENV=production in the production configuration: development mode serves unminified code, "
        "detailed errors and skips production safeguards.",
        "NODE_ENV",
    ),
    DebugRule(
        re.compile(r"(?:^|/)config/environments/production\.rb$"),
        re.compile(r"consider_all_requests_local\s*=\s*true"),
        "config.consider_all_requests_local = true",
        "Set config.consider_all_requests_local = false in config/environments/production.rb so visitors see the "
        "public error page, not the exception and its backtrace.",
        "consider_all_requests_local",
    ),
    DebugRule(
        re.compile(r"(?:^|/)\.env\.prod(?:uction)?$"),
        re.compile(r"^(?:APP_DEBUG|DEBUG)\s*=\s*[\"']?(?:true|1|on)\b", re.MULTILINE | re.IGNORECASE),
        "APP_DEBUG=true",
        "Set APP_DEBUG=false (DEBUG=false) in the production environment so errors show the public error page.",
    ),
]


@dataclass(frozen=True)
class Location:
    """Where a finding is: a file and line (0 when the finding is about the whole file), and the commit when
    the place is in git history only."""

    path: str
    line: int = 0
    commit: str = ""


# Where a place comes in the scan's order: working-tree files first, in the order they were read, then git
# history in the order of the walk (tips first), however the history's blobs happen to be read.
Order = tuple[int, int]


@dataclass
class Leak:
    hit: Hit
    first: Order
    seen: list[tuple[Order, str, Location]] = field(default_factory=list)  # its first five places
    in_tree: bool = False
    in_history: bool = False
    deleted: bool = False

    @property
    def places(self) -> list[str]:
        return [place for _, place, _ in self.seen]

    @property
    def locations(self) -> list[Location]:
        return [location for _, _, location in self.seen]


@dataclass
class RepoReport:
    findings: list[Finding]
    stats: dict[str, int]
    # (check id, subject) -> where each finding was seen, for the command line's report and SARIF
    locations: dict[tuple[str, str], list[Location]] = field(default_factory=dict)


def git_blob_id(data: bytes) -> bytes:
    """The id git gives these bytes as a blob, so a history blob already read as a working-tree file is skipped."""
    return hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest().encode()


class Collector:
    """What the scan has seen so far, kept redacted. `environment` off leaves out the checks that need the whole
    repository (variables .env.example does not list), for a scan of a few files. An archive among the files is
    read for its own files, within `budget` (the scan's, or limits of its own: a folder has no upload to measure)."""

    def __init__(
        self, *, environment: bool = True, scanner: BlobScanner | None = None, budget: Budget | None = None
    ) -> None:
        self.environment = environment
        self.budget = budget or Budget(Limits(), upload_size=Limits().total_bytes)
        self.scanner = scanner or BlobScanner()  # the keys in each distinct blob, found beside the reading
        self.leaks: dict[tuple[str, str], Leak] = {}
        self.env_files: dict[str, tuple[str, Location]] = {}  # path -> (where, location)
        self.uses: dict[str, str] = {}  # variable -> first file that reads it
        self.documented: set[str] | None = None
        self.example_path = ""
        self.debug: list[tuple[str, int, DebugRule]] = []
        self.tree_blobs: set[bytes] = set()
        self.logging = LogHygiene()  # the working tree's files only: a logging call in history no longer runs
        self.env_order: dict[str, Order] = {}
        self.stats = {"files": 0, "blobs": 0, "bytes": 0, "commits_with_history": 0}

    def close(self) -> None:
        self.scanner.close()

    def _env_file(self, path: str, where: str, location: Location, order: Order) -> None:
        if order < self.env_order.get(path, (2, 0)):  # the first place in the scan's order stands
            self.env_order[path] = order
            self.env_files[path] = (where, location)

    def tree_file(self, path: str, data: bytes) -> None:
        """One file of the working tree; an archive's own files instead of it (`backup.zip/config/.env`)."""
        if not is_archive(data):
            self._tree_file(path, data)
            return
        self.tree_blobs.add(git_blob_id(data))
        for member in nested_members(path, data, self.budget):
            self._tree_file(member.path, member.data)

    def _tree_file(self, path: str, data: bytes) -> None:
        path = escape_controls(path)  # a file name is shown in reports, terminals and CI logs: never as control codes
        order = (0, self.stats["files"])
        self.stats["files"] += 1
        self.stats["bytes"] += len(data)
        blob_id = git_blob_id(data)
        self.tree_blobs.add(blob_id)
        vendored = path.startswith(VENDORED) or any(f"/{v}" in path for v in VENDORED)
        self.scanner.scan(blob_id, data, lambda hits: self._tree_hits(hits, path, order))
        if is_env_file(path):
            self._env_file(path, "the working tree", Location(path), order)
        if vendored or b"\x00" in data[:8000]:
            return
        self.logging.tree_file(path, data)
        text = data.decode("utf-8", "replace")
        if self.environment:
            if posixpath.basename(path) in EXAMPLE_NAMES and (self.documented is None or "/" not in path):
                self.documented = (self.documented or set()) | set(_DOCUMENTED.findall(text))
                self.example_path = self.example_path or path
            self._env_uses(path, text)
        for rule in DEBUG_RULES:
            if rule.applies.search(path) and rule.needle in text:
                match = rule.pattern.search(text)
                if match:
                    self.debug.append((path, text.count("\n", 0, match.start()) + 1, rule))

    def history_blob(self, blob: HistoryBlob, deleted: bool) -> None:
        """One blob of git history; an archive's own files instead of it, each as a blob of the same commit."""
        if not is_archive(blob.data):
            self._history_blob(blob, deleted)
            return
        if (blob.sha if len(blob.sha) == 40 else git_blob_id(blob.data)) in self.tree_blobs:
            return  # the same archive as a working-tree file: already read
        for member in nested_members(blob.path, blob.data, self.budget):
            inner = HistoryBlob(member.path, blob.commit, member.data, git_blob_id(member.data), blob.order)
            self._history_blob(inner, deleted)

    def _history_blob(self, blob: HistoryBlob, deleted: bool) -> None:
        blob.path = escape_controls(blob.path)
        order = (1, blob.order)
        where = f"git history: {blob.path} in commit {blob.commit}" + (" (file since deleted)" if deleted else "")
        if is_env_file(blob.path):
            self._env_file(blob.path, where, Location(blob.path, 0, blob.commit), order)
        blob_id = blob.sha if len(blob.sha) == 40 else git_blob_id(blob.data)  # a SHA-256 repository's are not
        if blob_id in self.tree_blobs:
            return  # the same bytes as a working-tree file: already scanned
        self.stats["blobs"] += 1
        self.stats["bytes"] += len(blob.data)
        path, commit = blob.path, blob.commit  # what the keys' places need, not the blob's bytes

        def record(hits: list[Hit]) -> None:
            self._history_hits(hits, path, commit, where, order, deleted)

        self.scanner.scan(blob_id, blob.data, record)

    def _tree_hits(self, hits: list[Hit], path: str, order: Order) -> None:
        for hit in hits:
            self._leak(hit, _place(path, hit.line), Location(path, hit.line), order, in_tree=True)

    def _history_hits(self, hits: list[Hit], path: str, commit: str, where: str, order: Order, deleted: bool) -> None:
        for hit in hits:
            place = Location(path, hit.line, commit)
            self._leak(hit, _place(where, hit.line, ", "), place, order, in_tree=False, deleted=deleted)

    def _leak(
        self, hit: Hit, place: str, location: Location, order: Order, *, in_tree: bool, deleted: bool = False
    ) -> None:
        leak = self.leaks.setdefault((hit.provider, hit.fingerprint), Leak(hit, order))
        if order < leak.first:
            leak.hit, leak.first = hit, order
        bisect.insort(leak.seen, (order, place, location), key=lambda seen: seen[0])
        del leak.seen[5:]
        leak.in_tree |= in_tree
        leak.in_history |= not in_tree
        leak.deleted |= deleted

    def _env_uses(self, path: str, text: str) -> None:
        for suffixes, patterns in ENV_USES.items():
            if path.endswith(suffixes):
                for pattern in patterns:
                    for name in pattern.findall(text):
                        if name not in NOT_CONFIG and not name.startswith("HTTP_"):
                            self.uses.setdefault(name, path)

    def findings(self) -> list[Finding]:
        return [finding for finding, _ in self.located()]

    def located(self) -> list[tuple[Finding, list[Location]]]:
        """Every finding with the places it was seen (the first five of a key's)."""
        self.scanner.settle()
        leaks = sorted(self.leaks.values(), key=lambda leak: leak.first)
        found = [(self._leak_finding(leak), leak.locations) for leak in leaks]
        for path, (where, location) in sorted(self.env_files.items()):
            finding = Finding(
                "secrets.repo.env_file",
                f"repo#{path}",
                {"file": path, "found in": where},
                {"path": path, "where": where},
            )
            found.append((finding, [location]))
        if self.environment:
            found.extend(self._env_findings())
        for path, line, rule in self.debug:
            finding = Finding(
                "secrets.repo.debug",
                f"repo#{path}#{rule.setting}",
                {"file": path, "line": line, "setting": rule.setting},
                {"path": path, "line": line, "setting": rule.setting, "fix": rule.fix},
            )
            found.append((finding, [Location(path, line)]))
        for finding, places in self.logging.located():
            found.append((finding, [Location(path, line) for path, line in places]))
        if self.budget.unchecked_count:
            found.append(self._unchecked())
        return found

    def _unchecked(self) -> tuple[Finding, list[Location]]:
        """The archives among the files that were not read (too deep, damaged, encrypted, a bomb), and why."""
        count, named = self.budget.unchecked_count, self.budget.unchecked
        shown = "; ".join(f"{escape_controls(path)} ({why})" for path, why in named[:12])
        rest = count - min(len(named), 12)
        finding = Finding(
            "secrets.repo.unchecked",
            "repo#unchecked-archives",
            {"archives": {escape_controls(path): why for path, why in named}, "count": count},
            {
                "files": plural(count, "archive"),
                "names": shown + (f"; and {rest} more" if rest > 0 else ""),
                "them": "it" if count == 1 else "them",
            },
        )
        return finding, [Location(escape_controls(path)) for path, _ in named[:5]]

    def report(self) -> RepoReport:
        located = self.located()
        return RepoReport(
            [finding for finding, _ in located],
            self.stats | dict(self.logging.stats) | {"unchecked_archives": self.budget.unchecked_count},
            {(finding.check_id, finding.subject): places for finding, places in located},
        )

    def _leak_finding(self, leak: Leak) -> Finding:
        hit = leak.hit
        if leak.in_tree:
            history = "deleting it in a new commit will not remove it from git history."
        else:
            history = "it is no longer in the files, but git history keeps it for anyone with a copy."
        where = leak.places[0] + (f" and {len(leak.places) - 1} more places" if len(leak.places) > 1 else "")
        return Finding(
            repo_check_id(hit),
            f"repo#{hit.provider}-{hit.fingerprint}",
            {
                "key": hit.redacted,
                "provider": hit.label,
                "found in": "; ".join(leak.places),
                "seen in": "the working tree" if leak.in_tree else "git history only",
            },
            {
                "provider": hit.label,
                "a_provider": with_article(hit.label),
                "key": hit.redacted,
                "where": where,
                "history": history,
                "rotation": hit.rotation,
            },
        )

    def _env_findings(self) -> list[tuple[Finding, list[Location]]]:
        missing = sorted(set(self.uses) - (self.documented or set()))
        if not missing:
            return []
        check_id = "env.example_missing" if self.documented is None else "env.undocumented"
        names = ", ".join(missing[:12]) + (f" and {len(missing) - 12} more" if len(missing) > 12 else "")
        # Where it is fixed: the example file when there is one, else the first file that reads a variable.
        where = [Location(self.example_path)] if self.example_path else []
        where += [Location(path) for path in dict.fromkeys(self.uses[name] for name in missing)][:5]
        return [
            (
                Finding(
                    check_id,
                    "repo#environment",
                    {"variables": {name: self.uses[name] for name in missing[:60]}, "example file": self.example_path},
                    {
                        "count": len(missing),
                        "variables": f"{len(missing)} environment variable{'s' if len(missing) != 1 else ''}",
                        "names": names,
                        "lines": "\n".join(f"{n}=" for n in missing),
                    },
                ),
                where[:5],
            )
        ]


def _place(where: str, line: int, comma: str = " ") -> str:
    """'app.py line 3'; a key in a binary file (a .pyc, a SQLite database) has no line."""
    return f"{where}{comma}line {line}" if line else f"{where} (in the text of a binary file)"


def repo_check_id(hit: Hit) -> str:
    """The finding a committed key is."""
    if hit.kind == Kind.RESTRICT:
        return RESTRICTED_FINDINGS[hit.provider]
    return "secrets.repo.publishable" if hit.kind == Kind.PUBLISHABLE else "secrets.repo.key"


def is_env_file(path: str) -> bool:
    return bool(ENV_FILE.search(path)) and not path.endswith(EXAMPLE_SUFFIXES)


def _strip_top(paths: list[str]) -> str:
    """The one folder every path is under (a GitHub "Download ZIP" has one), or ''."""
    tops = {p.split("/", 1)[0] for p in paths}
    return f"{tops.pop()}/" if len(tops) == 1 and all("/" in p for p in paths) else ""


def scan_upload(path: Path, limits: Limits | None = None, *, history: bool = True) -> RepoReport:
    """Scan an uploaded file. Raises ArchiveError, with a reason to show, when it cannot be scanned. Without
    `history` only the files are read (a bundle's files at HEAD), never the git history."""
    limits = limits or Limits()
    size = path.stat().st_size
    if size > limits.upload_bytes:
        raise ArchiveError(f"The file is {size / 2**20:.0f} MB; the limit is {limits.upload_bytes // 2**20} MB.")
    if size == 0:
        raise ArchiveError("The file is empty.")
    with open(path, "rb") as f:
        kind = sniff(f.read(512))
    if kind is None:
        raise ArchiveError("This is not a zip, tar.gz or git bundle.")
    budget = Budget(limits, size)
    collector = Collector(budget=budget)
    try:
        if kind == "bundle":
            _scan_bundle(path, budget, collector, history)
        else:
            _scan_archive(path, kind, budget, collector, history)
        collector.stats |= {"skipped_links": budget.skipped_links, "skipped_large": budget.skipped_large}
        return collector.report()
    finally:
        collector.close()


def _scan_bundle(path: Path, budget: Budget, collector: Collector, history: bool) -> None:
    objects, repo = read_bundle(path.read_bytes(), budget)
    # A bundle has no working tree: the files at HEAD stand for it; every other blob is history.
    current = head_files(repo)
    files = {name: sha for name, (sha, mode) in current.items() if stat.S_ISREG(mode)}
    if not history:
        at_head = dict(objects.blobs(set(files.values())))
    else:
        at_head = _scan_history(objects, repo, budget, collector, set(current), skip=set(files.values()))
    for name, sha in sorted(files.items()):
        if sha in at_head:
            collector.tree_file(name, at_head[sha])


def _scan_history(
    objects: GitObjects,
    repo: Repository,
    budget: Budget,
    collector: Collector,
    present: set[str],
    *,
    skip: set[bytes],
) -> dict[bytes, bytes]:
    """Scan every blob of the history but those in `skip`, which are returned (id -> bytes) for the caller to
    scan as working-tree files. `present` are the paths (from the repository's folder) the working tree holds:
    a blob's path that is not there was deleted since."""
    kept: dict[bytes, bytes] = {}
    for blob in upload_blobs(objects, repo, budget):
        if blob.sha in skip:
            kept[blob.sha] = blob.data
        else:
            collector.history_blob(blob, deleted=blob.path not in present)
    collector.stats["commits_with_history"] += 1
    return kept


def _scan_archive(path: Path, kind: str, budget: Budget, collector: Collector, history: bool) -> None:
    tree: list[tuple[str, bytes]] = []
    git: dict[str, dict[str, bytes]] = defaultdict(dict)  # repository folder -> its .git files that are read
    seen_git: set[str] = set()  # every repository's folder, read or not, so the paths come out the same
    for member in members(path, kind, budget):
        git_dir = git_dir_of(member.path)
        if git_dir is None:
            tree.append((member.path, member.data))
            continue
        seen_git.add(git_dir)
        inner = member.path[len(git_dir) + len("/.git/") :] if git_dir else member.path[len(".git/") :]
        if history and (_is_object_file(inner) or REF_FILES.match(inner)):
            git[git_dir].setdefault(inner, member.data)  # a duplicate name: the first one stands
    top = _strip_top([p for p, _ in tree] + [f"{g}/.git" if g else ".git" for g in seen_git])
    for name, data in tree:
        collector.tree_file(name[len(top) :], data)
    present = {name[len(top) :] for name, _ in tree}
    del tree
    for git_dir, files in git.items():
        prefix = f"{git_dir}/"[len(top) :] if git_dir else ""
        objects = GitObjects(budget, object_format_of(files.get("config", b"")))
        for inner in sorted(files):
            if inner.endswith(".pack"):
                objects.add_pack(files[inner])
            elif LOOSE_OBJECT.match(inner):
                objects.add_loose(files[inner])
        repo = repository(objects, *read_refs(files, objects.format), budget)
        in_folder = {name[len(prefix) :] for name in present if name.startswith(prefix)}
        _scan_history(objects, repo, budget, collector, in_folder, skip=set())


def _is_object_file(inner: str) -> bool:
    return bool(LOOSE_OBJECT.match(inner)) or (inner.startswith("objects/pack/") and inner.endswith(".pack"))
