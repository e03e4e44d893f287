"""Log hygiene in a repository's working tree: logging calls that write passwords, tokens, API keys, Authorization
headers, cookies, whole request headers or bodies, card numbers or email addresses, in Python, JavaScript,
TypeScript, Ruby, PHP and Go source.

Cheap before exact: each file is searched, as bytes, for the places a logging call may begin (`log`, `print`,
`puts`, `console.`, …) that have a sensitive word within the next kilobyte; only there is a piece of the file,
from the start of that call, parsed with tree-sitter (audits/secrets/logcalls.py), and the parse tree decides
whether it is a logging call and what it writes. A name the file makes a logger of (`const audit = pino()`) is
read as a logger too. Tests and minified files are left out; source files over 2 MB are named as not checked. Each
file and each scan has its limits (places looked at, pieces and bytes parsed, findings kept): a repository made
to be slow costs a bounded time, and what it left unread is counted."""

from __future__ import annotations

import bisect
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field

from audits.findings import Finding
from audits.secrets.logcalls import logged_at_start, logger_name
from audits.secrets.lognames import RULES, UNCHECKED
from launchready.formatting import plural

LANGUAGES = {
    ".py": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".rb": "ruby", ".rake": "ruby",
    ".php": "php",
    ".go": "go",
}  # fmt: skip
MAX_FILE = 2 << 20  # bigger source files are generated
MAX_HINTS = 20_000  # places in one file that may begin a logging call
MAX_CALLS = 300  # pieces parsed in one file
LONG_PIECE = 4096  # bytes of one call parsed at most
MAX_BRACKETS = 64  # brackets followed to find where a call ends
MAX_SPAN = 1024  # bytes after a place that begins a call searched for a sensitive word
SCAN_HINTS = 500_000  # places looked at in one scan (a real repository has a few thousand)
SCAN_PARSED = 16 << 20  # bytes parsed in one scan
MAX_FINDINGS = 100  # (rule, file, name) findings kept in one scan
MAX_LINES = 20  # lines kept per finding
MAX_NAMED = 60  # files named in the finding that says which were too large to read

# Code that does not run in production: tests and their fixtures.
_TESTS = re.compile(
    r"(?:^|/)(?:tests?|spec|specs|__tests__|__mocks__|testdata|fixtures?|e2e|cypress)/"
    r"|(?:^|/)(?:test_[^/]*\.py|[^/]*_test\.(?:py|go)|conftest\.py|[^/]*\.(?:test|spec)\.[cm]?[jt]sx?|[^/]*_spec\.rb)$"
)
# Where a logging call may begin, in the lowercased file, by language (each pattern starts with a literal, which
# `re` finds fast); the parse tree then says whether it is one.
_LOG = re.compile(rb"log(?:ger|ging|rus)?s?\b\s*(?:[.(]|->|::|\)\s*(?:\.|->))")
_PRINT = re.compile(rb"print(?:ln|f)?\s*[( ]")
_BRACKETS = re.compile(rb"[()]")
_HINTS = {
    "python": [_LOG, _PRINT],
    "javascript": [_LOG, re.compile(rb"console\s*\."), re.compile(rb"winston\s*\.")],
    "ruby": [_LOG, _PRINT, re.compile(rb"puts\b"), re.compile(rb"warn\b"), re.compile(rb"(?m)^[ \t]*pp?[ (]")],
    "php": [_LOG],
    "go": [_LOG, _PRINT, re.compile(rb"zap\s*\.")],
}
_HINTS["typescript"] = _HINTS["tsx"] = _HINTS["javascript"]
# A name the file makes a logger of, whatever it is called: `const audit = pino()`, `this.audit = pino()`,
# `l = logging.getLogger()`, `$audit = new Logger('app')`, `sugar := zap.NewExample().Sugar()`; or one it is handed,
# typed as a logger: `def handle(audit: logging.Logger)`, `constructor(private audit: Logger)`. Its calls are then
# read as logging calls.
_JS_LOGGERS = rb"pino|winston|bunyan|log4js|signale|consola|loglevel|tslog|roarr"
_MADE = {
    "python": re.compile(
        rb"(?m)^[ \t]*(?:self\.|cls\.)?([A-Za-z_]\w{0,40})[ \t]*(?::[^=\n]{1,60})?=[ \t]*"
        rb"(?:logging\.|structlog\.|loguru\.)?(?:getLogger|get_logger|LoggerAdapter|logger\.bind)\("
        rb"|(?:[(,][ \t\n]*|^[ \t]*)([A-Za-z_]\w{0,40})[ \t]*:[ \t]*[\"']?"
        rb"(?:logging\.|structlog\.(?:stdlib\.|typing\.)?|loguru\.)?(?:Logger|LoggerAdapter|BoundLogger|FilteringBoundLogger)\b"
    ),
    "javascript": re.compile(
        rb"(?m)(?:\b(?:const|let|var)\s+|\bthis\.|^[ \t]*(?:(?:private|public|protected|readonly|static)\s+)*)"
        rb"([A-Za-z_$][\w$]{0,40})\s*(?::[^=\n]{1,60})?=\s*(?:await\s+)?(?:new\s+)?"
        rb"(?:require\(\s*[\"'](?:" + _JS_LOGGERS + rb")[\"']\s*\)\s*\(|(?:" + _JS_LOGGERS + rb")\s*\("
        rb"|(?:" + _JS_LOGGERS + rb")\.(?:createLogger|getLogger|create|child)\(|Logger\(|Signale\()"
        rb"|(?:[(,][ \t\n]*|^[ \t]*)(?:(?:private|public|protected|readonly)\s+)*([A-Za-z_$][\w$]{0,40})\??\s*:\s*"
        rb"(?:(?:pino|winston|bunyan|log4js|tslog)\.)?(?:Logger|BaseLogger|LoggerService)\b"
    ),
    "ruby": re.compile(
        rb"(?m)^[ \t]*([$@]{0,2}[A-Za-z_]\w{0,40})[ \t]*=[ \t]*(?:::)?(?:(?:ActiveSupport::)?(?:Tagged)?Logger\.new"
        rb"|ActiveSupport::TaggedLogging\.new|SemanticLogger\[|Rails\.logger\b)"
    ),
    "php": re.compile(rb"(\$[A-Za-z_]\w{0,40})\s*=\s*(?:new\s+\\?(?:Monolog\\)?Logger\s*\(|Log::channel\()"),
    "go": re.compile(
        rb"\b([A-Za-z_]\w{0,40})(?:\s*,\s*[A-Za-z_]\w*)?\s*:?=\s*(?:zap\.New\w*\([^)\n]*\)\.Sugar\(|zap\.New\w*\("
        rb"|zap\.[LS]\(|logrus\.(?:New|WithFields?)\(|slog\.(?:New|Default|With)\(|log\.New\(|zerolog\.New\()"
    ),
}
_MADE["typescript"] = _MADE["tsx"] = _MADE["javascript"]
# What a file that makes a logger holds (searched first, as plain bytes: most files make none).
_MAKES = {
    "python": (b"etLogger(", b"et_logger(", b"Logger", b".bind("),
    "javascript": (b"pino", b"winston", b"bunyan", b"log4js", b"ignale", b"consola", b"loglevel", b"tslog", b"roarr",
                   b"Logger"),
    "ruby": (b"Logger", b"Rails.logger"),
    "php": (b"Logger", b"Log::channel("),
    "go": (b"zap.", b"logrus.", b"slog.", b"log.New(", b"zerolog."),
}  # fmt: skip
_MAKES["typescript"] = _MAKES["tsx"] = _MAKES["javascript"]
MAX_MADE = 20  # names made loggers of, in one file
# A word a logged name or key must hold for a rule to apply (lowercased; a superset: the parse tree decides).
_SENSITIVE = re.compile(
    rb"passw|passp|_pass\b|pass_|pwd|\bpw\b|_pw\b|\bpw_|token|jwt|bearer|secret|api[_-]?key|private_?key|access_?key"
    rb"|credential|auth|cookie|session|sid\b|card|\bcc_?n|_cc_?n|\bpan\b|cvv|cvc|mail"
    rb"|database_?url|db_?url|conn(?:ection)?_?str"
    rb"|\$_(?:post|request|get|server|env)|environ|\benv\b|params|headers|getenv"
    rb"|(?:req(?:uest)?|\br|event)\W{1,4}(?:body|raw|data|post|form|json|get_?json|values|all|input|get_?content"
    rb"|get_?parsed|content|payload|text|header|meta|environ|env)"
)
# A literal of every alternative of _SENSITIVE, searched first.
_WORDS = re.compile(
    rb"pass|pw|token|jwt|bearer|secret|key|cred|auth|cookie|session|sid|card|cc|pan|cvv|cvc|mail|database|db_?url"
    rb"|conn|\$_|params|headers|getenv|req|r\.body|r\.header|r\.form|r\.postform|event|env"
)
_CHAIN = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$@.:\\>-?")
_NOT_FIRST = frozenset(b".:>-?0123456789")
_LINE_COMMENTS = {
    "python": (b"#",),
    "ruby": (b"#",),
    "php": (b"#", b"//"),
    "javascript": (b"//",),
    "typescript": (b"//",),
    "tsx": (b"//",),
    "go": (b"//",),
}


def language_of(path: str) -> str | None:
    """The language whose logging calls the file is read for, or None."""
    return LANGUAGES.get(posixpath.splitext(path)[1].lower())


def is_checked(path: str, data: bytes) -> bool:
    """Source that runs in production and is written by hand: not a test, not minified, not generated, not
    binary."""
    if language_of(path) is None or len(data) > MAX_FILE or _TESTS.search(path) or b"\x00" in data[:8000]:
        return False
    minified = path.endswith((".min.js", ".min.mjs", ".bundle.js")) or (len(data) > 4096 and b"\n" not in data[:4096])
    return not minified


@dataclass
class _Blocks:
    """Where the file's block comments or triple-quoted strings open and close, found once per file."""

    marks: list[tuple[list[int], list[int]]]

    @classmethod
    def of(cls, low: bytes, language: str) -> _Blocks:
        if language == "python":
            pairs = [(b'"""', b'"""'), (b"'''", b"'''")]
        elif language == "ruby":
            pairs = [(b"\n=begin", b"\n=end")]
        else:
            pairs = [(b"/*", b"*/")]
        marks = []
        for opening, closing in pairs:
            opens = [m.start() for m in re.finditer(re.escape(opening), low)]
            closes = opens if opening == closing else [m.start() for m in re.finditer(re.escape(closing), low)]
            marks.append((opens, closes))
        return cls(marks)

    def inside(self, position: int) -> bool:
        for opens, closes in self.marks:
            if opens is closes:
                if bisect.bisect_left(opens, position) % 2:
                    return True
                continue
            last_open = bisect.bisect_left(opens, position) - 1
            if last_open >= 0:
                last_close = bisect.bisect_left(closes, position) - 1
                if last_close < 0 or closes[last_close] < opens[last_open]:
                    return True
        return False


def _call_end(low: bytes, start: int) -> int:
    """Where a call that begins at `start` ends, near enough: the end of its line when the line's brackets
    balance (or it has none: Ruby's `puts x`), else after the bracket that closes its arguments and those of the
    calls chained to it (`log.WithField(…).Info(…)`); within LONG_PIECE bytes and MAX_BRACKETS brackets."""
    limit = min(len(low), start + LONG_PIECE)
    line_end = low.find(b"\n", start, limit)
    line_end = limit if line_end == -1 else line_end
    if line_end - start <= 1024 and low.count(b"(", start, line_end) == low.count(b")", start, line_end):
        return line_end
    opening = low.find(b"(", start, line_end)
    if opening == -1:
        return min(line_end, start + 1024)
    depth = 0
    for seen, bracket in enumerate(_BRACKETS.finditer(low, opening, limit)):
        depth += 1 if bracket.group() == b"(" else -1
        if depth == 0:
            after = bracket.end()
            if not low.startswith((b".", b"->", b"?."), after):
                return after
        if seen >= MAX_BRACKETS:
            break
    return limit


def _sensitive(low: bytes, start: int, end: int) -> bool:
    """Whether a word a rule looks for is between start and end (literals first: `re` is slow on alternations
    that do not start with one)."""
    return _WORDS.search(low, start, end) is not None and _SENSITIVE.search(low, start, end) is not None


def _chain_start(low: bytes, position: int, hint_end: int) -> int:
    """Where the expression holding a hint begins: `self.logger.info(` from its `self`."""
    start = position
    while start < hint_end and low[start] in b" \t\n":  # the Ruby hint starts at the line's indentation
        start += 1
    floor = max(0, start - 120)
    while start > floor and low[start - 1] in _CHAIN:
        start -= 1
    while start < hint_end and low[start] in _NOT_FIRST:
        start += 1
    return start


def _commented(before: bytes, language: str) -> bool:
    """Whether the line before a call opens a comment: `#` (not PHP's `#[` attribute), `//` (not a URL's)."""
    for mark in _LINE_COMMENTS[language]:
        at = before.find(mark)
        while at != -1:
            url = mark == b"//" and before[at - 1 : at] == b":"
            attribute = mark == b"#" and before[at + 1 : at + 2] == b"["
            if not url and not attribute:
                return True
            at = before.find(mark, at + 1)
    return False


@dataclass
class Budget:
    """What one scan may still spend on log hygiene, and what it left out for want of it."""

    hints: int = SCAN_HINTS
    parsed: int = SCAN_PARSED
    stats: Counter[str] = field(default_factory=lambda: Counter(log_calls=0, log_left_out=0, log_too_large=0))


def loggers_made(data: bytes, language: str) -> frozenset[str]:
    """The names the file makes loggers of that do not say so themselves (`const audit = pino()`)."""
    if not any(needle in data for needle in _MAKES[language]):
        return frozenset()
    names = (m[m.lastindex or 1].decode("ascii", "replace") for m in _MADE[language].finditer(data))
    return frozenset([name for name in dict.fromkeys(names) if not logger_name(name)][:MAX_MADE])


def _made_hints(known: frozenset[str]) -> list[re.Pattern[bytes]]:
    """Where a call on one of these names may begin (`audit.info(`, `$audit->info(`)."""
    return [
        re.compile(rb"(?<![\w$@])" + re.escape(name.lower().encode()) + rb"\s*(?:\.|->|\?\.)") for name in sorted(known)
    ]


def _candidates(
    low: bytes, language: str, budget: Budget, known: frozenset[str] = frozenset()
) -> list[tuple[int, int]]:
    """(start, end) of each place that may be a logging call writing a sensitive name, in file order. The bytes
    searched are bounded too (twice the file, and some): places packed close together are not each searched far."""
    found: dict[int, int] = {}
    looked = 0
    searched, most = 0, 2 * len(low) + 65536
    for hint in _HINTS[language] + _made_hints(known):
        for match in hint.finditer(low):
            looked += 1
            if looked > MAX_HINTS or looked > budget.hints or searched > most:
                budget.stats["log_left_out"] += 1
                budget.hints -= looked - 1
                return sorted(found.items())
            end = _call_end(low, match.start())
            searched += min(end - match.start(), MAX_SPAN)
            if not _sensitive(low, match.start(), min(end, match.start() + MAX_SPAN)):
                continue
            start = _chain_start(low, match.start(), match.end())
            found[start] = max(end, found.get(start, 0))
    budget.hints -= looked
    return sorted(found.items())


@dataclass
class LogLeak:
    rule: str
    path: str
    name: str
    call: str
    lines: list[int] = field(default_factory=list)


@dataclass
class LogHygiene:
    """What the log-hygiene rules have found in a scan's files so far. `stats` counts the logging calls read
    (`log_calls`: those that name a sensitive word, each parsed) and the places left unread because a file or the
    scan reached a limit (`log_left_out`)."""

    leaks: dict[tuple[str, str, str], LogLeak] = field(default_factory=dict)
    budget: Budget = field(default_factory=Budget)
    too_large: list[str] = field(default_factory=list)  # source files over MAX_FILE, not read (the first few)

    @property
    def stats(self) -> Counter[str]:
        return self.budget.stats

    def tree_file(self, path: str, data: bytes) -> None:
        """Read one working-tree file (any file: those not in a checked language are skipped at once). Source that
        would be read but is over MAX_FILE is counted and named as not checked."""
        if len(data) > MAX_FILE and is_checked(path, data[:MAX_FILE]):
            self.stats["log_too_large"] += 1
            if len(self.too_large) < MAX_NAMED:
                self.too_large.append(path)
            return
        if not is_checked(path, data):
            return
        for leak in file_leaks(path, data, self.budget):
            key = (leak.rule, leak.path, leak.name)
            if key in self.leaks:
                known = self.leaks[key]
                known.lines = sorted(set(known.lines + leak.lines))[:MAX_LINES]
            elif len(self.leaks) < MAX_FINDINGS:
                self.leaks[key] = leak
            else:
                self.stats["log_left_out"] += 1

    def located(self) -> list[tuple[Finding, list[tuple[str, int]]]]:
        """Each finding with the places (path, line) it was seen, the first five; then, when source files were too
        large to read, the finding that names them."""
        found = [(self._finding(leak), [(leak.path, line) for line in leak.lines[:5]]) for leak in self.leaks.values()]
        if self.too_large:
            found.append((self._unchecked(), [(path, 0) for path in self.too_large[:5]]))
        return found

    def _unchecked(self) -> Finding:
        count = self.stats["log_too_large"]
        shown = self.too_large[:12]
        rest = count - len(shown)
        names = ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")
        return Finding(
            UNCHECKED,
            "repo#log-hygiene-unchecked",
            {"files": self.too_large, "count": count, "limit": f"{MAX_FILE >> 20} MB"},
            {
                "files": plural(count, "source file"),
                "names": names,
                "are": "is" if count == 1 else "are",
                "limit": f"{MAX_FILE >> 20} MB",
            },
        )

    @staticmethod
    def _finding(leak: LogLeak) -> Finding:
        line = leak.lines[0] if leak.lines else 0
        more = len(leak.lines) - 1
        return Finding(
            leak.rule,
            f"repo#{leak.path}#{leak.name}",
            {"file": leak.path, "line": line, "logged": leak.name, "call": leak.call, "lines": leak.lines},
            {
                "path": leak.path,
                "line": line,
                "logged": leak.name,
                "call": leak.call,
                "what": RULES[leak.rule],
                "more": f" (and on {more} more line{'s' if more > 1 else ''})" if more > 0 else "",
            },
        )


def file_leaks(path: str, data: bytes, budget: Budget | None = None) -> list[LogLeak]:
    """The sensitive names the logging calls of one source file write, with their lines."""
    language = language_of(path)
    budget = budget if budget is not None else Budget()
    if language is None:
        return []
    low = data.lower()
    blocks: _Blocks | None = None
    found: dict[tuple[str, str], LogLeak] = {}
    counted_to, line = 0, 1
    parsed = 0
    known = loggers_made(data, language)
    for start, end in _candidates(low, language, budget, known):
        if _commented(low[low.rfind(b"\n", 0, start) + 1 : start], language):
            continue
        blocks = blocks or _Blocks.of(low, language)
        if blocks.inside(start):
            continue  # in a docstring or a block comment
        if parsed >= MAX_CALLS or budget.parsed < end - start:
            budget.stats["log_left_out"] += 1
            continue
        parsed += 1
        budget.parsed -= end - start
        is_log, names = logged_at_start(language, data[start:end], known)
        if not is_log:
            continue
        budget.stats["log_calls"] += 1
        line += data.count(b"\n", counted_to, start)
        counted_to = start
        for name in names:
            leak = found.setdefault((name.rule, name.name), LogLeak(name.rule, path, name.name, name.call))
            if len(leak.lines) < MAX_LINES:
                leak.lines.append(line + name.line)
    for leak in found.values():
        leak.lines = sorted(set(leak.lines))
    return list(found.values())
