"""Log hygiene: logging calls that write passwords, tokens, keys, Authorization headers, cookies, whole request
headers or bodies, card numbers or email addresses trip their rule in each language, safe logging stays quiet,
commented-out calls, docstrings and tests are left alone, and bad input (huge, binary, invalid UTF-8, deeply nested,
made to be slow) gets a bounded answer."""

from __future__ import annotations

import pytest

from audits.catalog import CATALOG, render
from audits.findings import Severity
from audits.secrets.loghygiene import MAX_CALLS, MAX_FILE, Budget, LogHygiene, file_leaks
from audits.secrets.lognames import LOG_RULE_IDS, rule_of_words, words
from audits.secrets.repo import Collector

P, T, K, A, C, H, B, CARD, E = (
    "secrets.log.password",
    "secrets.log.token",
    "secrets.log.api_key",
    "secrets.log.authorization",
    "secrets.log.cookie",
    "secrets.log.headers",
    "secrets.log.request_body",
    "secrets.log.card",
    "secrets.log.email",
)


def found(path: str, source: str) -> set[tuple[str, str, int]]:
    """(rule, name logged, first line) of each finding in one file."""
    return {(leak.rule, leak.name, leak.lines[0]) for leak in file_leaks(path, source.encode())}


# (file, source, what it must report)
TRIPS = [
    # Python: logging, print, structlog
    ("app/auth.py", 'logger.info("login %s %s", email, password)\n', {(E, "email", 1), (P, "password", 1)}),
    ("app/auth.py", "import logging\nlogging.debug(request.headers)\n", {(H, "request.headers", 2)}),
    ("app/keys.py", 'print(f"key={api_key}")\n', {(K, "api_key", 1)}),
    ("app/views.py", 'log.warning("cookie %s", request.COOKIES)\n', {(C, "request.COOKIES", 1)}),
    ("app/views.py", 'log.info("auth %s", request.META["HTTP_AUTHORIZATION"])\n',
     {(A, 'request.META["HTTP_AUTHORIZATION"]', 1)}),
    ("app/api.py", "log = structlog.get_logger()\nlog.info('signed in', token=session.token, user=user.id)\n",
     {(T, "session.token", 2)}),
    ("app/api.py", "def f(request):\n    logger.debug(\n        'body %s',\n        request.body,\n    )\n",
     {(B, "request.body", 4)}),
    ("app/pay.py", "logger.info('charge %s', card_number)\n", {(CARD, "card_number", 1)}),
    ("app/cfg.py", "print(os.environ)\n", {(K, "os.environ", 1)}),
    ("app/cfg.py", 'print(os.environ.get("DATABASE_URL"))\n', {(P, 'os.environ.get("DATABASE_URL")', 1)}),
    ("app/views.py", 'logger.debug("headers %s", dict(request.headers))\n', {(H, "request.headers", 1)}),
    ("app/views.py", 'logger.info("Password: %(pw)s", {"pw": password})\nlogger.info(f"{token=}")\n',
     {(P, "password", 1), (T, "token", 2)}),
    # JavaScript and TypeScript: console, winston, pino
    ("src/server.js", "app.post('/x', (req, res) => {\n  console.log(req.body);\n});\n", {(B, "req.body", 2)}),
    ("src/server.js", 'console.log("auth", req.headers.authorization);\n', {(A, "req.headers.authorization", 1)}),
    ("src/log.ts", 'logger.info({ token }, "refreshed");\n', {(T, "token", 1)}),
    ("src/log.mjs", "winston.info(`cookie ${req.cookies}`);\n", {(C, "req.cookies", 1)}),
    ("src/pay.tsx", "export const Pay = () => { console.log(pan); return <div/>; };\n", {(CARD, "pan", 1)}),
    ("src/mail.ts", "this.logger.log(`sent to ${user.email as string}`);\n", {(E, "user.email", 1)}),
    ("src/env.js", "console.log(process.env)\n", {(K, "process.env", 1)}),
    # Ruby
    ("app/controllers/sessions_controller.rb", 'Rails.logger.info("pw #{params[:password]}")\n',
     {(P, "params[:password]", 1)}),
    ("app/models/user.rb", "def debug\n  puts user.password\nend\n", {(P, "user.password", 2)}),
    ("app/jobs/sync.rb", 'logger.debug { "token=#{access_token}" }\n', {(T, "access_token", 1)}),
    ("app/controllers/hooks_controller.rb", "Rails.logger.info(params.to_json)\n", {(B, "params.to_json", 1)}),
    ("config/boot.rb", 'puts ENV["SECRET_KEY_BASE"]\n', {(K, 'ENV["SECRET_KEY_BASE"]', 1)}),
    ("app/controllers/debug.rb", 'def x\n  pp params\n  p current_user.email\n  warn "t #{token}"\nend\n',
     {(B, "params", 2), (E, "current_user.email", 3), (T, "token", 4)}),
    # PHP
    ("public/login.php", "<?php\nerror_log($_POST['password']);\n", {(P, "$_POST['password']", 2)}),
    ("src/Auth.php", "<?php\n$logger->info('x', ['token' => $token]);\n", {(T, "$token", 2)}),
    ("src/Hook.php", "<?php\nLog::debug(json_encode($request->all()));\n", {(B, "$request->all()", 2)}),
    ("src/Mail.php", '<?php\n$this->logger->info("mail to {$user->email}");\n', {(E, "$user->email", 2)}),
    # Go: log, fmt, slog, logrus, zap
    ("main.go", 'package main\nfunc f() {\n\tlog.Printf("token=%s", token)\n}\n', {(T, "token", 3)}),
    ("main.go", "package main\nfunc f(r *http.Request) {\n\tlog.Println(r.Header)\n}\n", {(H, "r.Header", 3)}),
    ("main.go", "package main\nfunc f() {\n\tfmt.Println(req.Body)\n}\n", {(B, "req.Body", 3)}),
    ("main.go", 'package main\nfunc f() {\n\tslog.Info("login", "password", p)\n}\n', {(P, "p (as password)", 3)}),
    ("main.go", 'package main\nfunc f() {\n\tlog.WithField("cc_number", n).Info("charge")\n}\n',
     {(CARD, "n (as cc_number)", 3)}),
    ("main.go", 'package main\nfunc f() {\n\tzap.L().Info("x", zap.String("email", u.Email))\n}\n',
     {(E, "u.Email", 3)}),
    # One of the request's cookies read by its name, in each language
    ("app/views.py", "logger.info(req.cookies.session)\n", {(C, "req.cookies.session", 1)}),
    ("app/views.py", 'log.info("s %s", request.COOKIES.get("session"))\n', {(C, 'request.COOKIES.get("session")', 1)}),
    ("src/server.js", "console.log(req.cookies.session);\n", {(C, "req.cookies.session", 1)}),
    ("src/server.ts", "logger.info(req.signedCookies['connect.sid']);\n", {(C, "req.signedCookies['connect.sid']", 1)}),
    ("app/controllers/a_controller.rb", "Rails.logger.info(cookies.encrypted[:remember_token])\n",
     {(T, "cookies.encrypted[:remember_token]", 1)}),
    ("app/controllers/b_controller.rb", "logger.info(cookies[:_app_session])\n", {(C, "cookies[:_app_session]", 1)}),
    ("public/a.php", "<?php\nerror_log($_COOKIE['laravel_session']);\n", {(C, "$_COOKIE['laravel_session']", 2)}),
    ("src/A.php", "<?php\n$logger->info($request->cookie('session'));\n", {(C, "$request->cookie('session')", 2)}),
    ("main.go", 'package main\nfunc f() {\n\tlog.Println(r.Cookie("session"))\n}\n', {(C, 'r.Cookie("session")', 3)}),
    # A method that gives the same text back, trimmed, in another case or encoded, in each language
    ("app/auth.py", "log.info(password.strip())\n", {(P, "password.strip()", 1)}),
    ("app/auth.py", 'logger.info("t %s", token.lower())\nlogger.info(str(api_key).strip())\n',
     {(T, "token.lower()", 1), (K, "api_key", 2)}),
    ("app/auth.py", 'logger.info(token.decode("utf-8"))\n', {(T, 'token.decode("utf-8")', 1)}),
    ("src/auth.js", "console.log(token.trim().toLowerCase());\n", {(T, "token.trim().toLowerCase()", 1)}),
    ("app/models/user.rb", "Rails.logger.info(password.strip.downcase)\n", {(P, "password.strip.downcase", 1)}),
    ("src/Auth.php", "<?php\nerror_log(strtolower(trim($password)));\n", {(P, "$password", 2)}),
    ("main.go", "package main\nfunc f() {\n\tlog.Println(strings.TrimSpace(token))\n}\n", {(T, "token", 3)}),
    # A logger the file makes under a name of its own
    ("src/server.js", "const audit = pino();\naudit.info(req.headers);\n", {(H, "req.headers", 2)}),
    ("src/server.js", "const l = require('pino')()\nl.info(req.headers)\n", {(H, "req.headers", 2)}),
    ("src/server.ts", "const trail: Logger = winston.createLogger({});\ntrail.error({ token });\n", {(T, "token", 2)}),
    ("app/audit.py", "trail = logging.getLogger('audit')\ntrail.info(request.headers)\n", {(H, "request.headers", 2)}),
    ("app/lib/audit.rb", "$trail = Logger.new(STDOUT)\n$trail.info(params[:password])\n",
     {(P, "params[:password]", 2)}),
    ("src/Audit.php", "<?php\n$trail = new Logger('audit');\n$trail->info($password);\n", {(P, "$password", 3)}),
    ("main.go", 'package main\nfunc f() {\n\tsugar := zap.NewExample().Sugar()\n\tsugar.Infow("x", "token", t)\n}\n',
     {(T, "t (as token)", 4)}),
    # A logger handed to a function, or kept on an object, whatever its name
    ("app/hooks.py", "def handle(log, password):\n    log.info(password)\n", {(P, "password", 2)}),
    ("app/hooks.py", "def handle(audit: logging.Logger, password):\n    audit.info('pw %s', password)\n",
     {(P, "password", 2)}),
    ("app/hooks.py", "def handle(request, *, trail: 'structlog.stdlib.BoundLogger'):\n"
     "    trail.info(request.headers)\n", {(H, "request.headers", 2)}),
    ("app/svc.py", "class Svc:\n    def __init__(self):\n        self.trail = logging.getLogger('svc')\n\n"
     "    def go(self, token):\n        self.trail.info(token)\n", {(T, "token", 6)}),
    ("src/svc.js", "class Svc {\n  constructor() { this.logger = pino(); }\n"
     "  go(token) { this.logger.info(token); }\n}\n", {(T, "token", 3)}),
    ("src/svc.js", "class Svc {\n  constructor() { this.log = pino(); }\n"
     "  go(token) {\n    this.log.info(token);\n  }\n}\n", {(T, "token", 4)}),
    ("src/svc.js", "class Svc {\n  constructor() {\n    this.audit = pino();\n  }\n"
     "  go(req) { this.audit.info(req.headers); }\n}\n", {(H, "req.headers", 5)}),
    ("src/svc.ts", "class Svc {\n  private audit = pino();\n  go(token: string) { this.audit.warn({ token }); }\n}\n",
     {(T, "token", 3)}),
    ("src/svc.ts", "class Svc {\n  constructor(private readonly audit: pino.Logger) {}\n"
     "  go(password: string) { this.audit.info(password); }\n}\n", {(P, "password", 3)}),
    ("src/hook.ts", "export function handle(trail: Logger, token: string) {\n  trail.info({ token });\n}\n",
     {(T, "token", 2)}),
    ("src/hook.js", "function handle(log, req) {\n  log.info(req.body);\n}\n", {(B, "req.body", 2)}),
]  # fmt: skip

QUIET = [
    ("app/auth.py", 'logger.info("user %s logged in", user.id)\nlog.info("token refreshed")\n'
     'logger.debug("password reset requested for user %s", user.pk)\n'
     'logger.info("len %d", len(password))\nlogger.info("%s", token[:4])\nlogger.info(hashed_password)\n'
     'logger.info("used %d tokens", usage.total_tokens)\nprint("token:", token_count)\n'
     'logger.info("headers", response.headers)\nlog.info(request.headers["User-Agent"])\n'
     'logger.info("page %s", next_page_token)\nprint(settings.DEFAULT_FROM_EMAIL)\n'
     'logger.info({"password": "[redacted]"})\nlogger.info("auth=%s", mask(token))\n'
     'logger.info("API key created: %s", api_key.prefix)\nprint(f"Token expires at {token.expires_at}")\n'
     'logger.info("auth header: %s", bool(request.headers.get("Authorization")))\n'),
    ("src/app.js", "console.log(req.method, req.path);\nlogger.info({ userId: user.id }, 'login');\n"
     "Math.log(password);\nconsole.log(`card ${card.last4} ${card.brand}`);\nconsole.error(err.message);\n"
     "catalog.info(token);\nconsole.log('token:', token.length);\nconsole.log('Token:', token ? 'set' : 'missing');\n"
     "logger.info('Session created', { sessionId: session.id });\nconsole.log(process.env.NODE_ENV);\n"),
    ("app/models/user.rb", 'Rails.logger.info("user #{user.id} signed in")\nputs "password reset"\n'
     "logger.info(params[:page])\n"),
    ("src/Auth.php", "<?php\n$logger->info('user logged in', ['id' => $user->id]);\nerror_log('token expired');\n"
     "Log::info('reset', ['password' => '***']);\n"),
    ("main.go", 'package main\nfunc f() {\n\tlog.Printf("user %d", u.ID)\n\tslog.Info("login", "user", u.ID)\n'
     '\tfmt.Fprintf(w, "%s", token)\n\tfmt.Println(r.Header.Get("User-Agent"))\n\tlog.Printf("%+v", r)\n}\n'),
    # What is said of a secret, not the secret, whatever the attribute or method
    ("app/safe.py", "logger.info(user.id)\nlogger.info(len(token))\nlogger.info(token_id)\n"
     "logger.info(password_reset_sent)\nlogger.info(token.startswith('sk_'))\nlogger.info(password.isdigit())\nlogger.info(req.cookies.theme)\n"
     "logger.info(hashlib.sha256(token.encode()).hexdigest())\nlogger.info(text.replace(token, '***'))\n"),
    ("src/safe.js", "const audit = pino();\naudit.info({ userId: user.id });\naudit.info(token.length);\n"
     "console.log(req.cookies.locale);\nconst x = other();\nx.info(token);\n"),
    ("app/models/safe.rb", "logger.info(cookies[:theme])\nlogger.info(password.length)\n"),
    ("src/Safe.php", "<?php\nerror_log(strlen(trim($password)));\n$logger->info($_COOKIE['consent']);\n"),
    ("safe.go", 'package main\nfunc f() {\n\tlog.Println(len(strings.TrimSpace(token)))\n'
     '\tlog.Println(r.Cookie("theme"))\n}\n'),
    # Loggers handed over or kept on an object, logging safely; other objects handed over or kept, not loggers
    ("app/safe_hooks.py", "def handle(audit: logging.Logger, cache: Cache, password):\n"
     "    audit.info('length %d', len(password))\n    cache.set(password)\n    cache.info(password)\n"
     "    self.store = redis.Redis()\n    self.store.info(token)\n"),
    ("src/safe_svc.ts", "class Svc {\n  private audit = pino();\n  private store = new Redis();\n"
     "  constructor(private readonly cache: Cache, private trail: Logger) {}\n"
     "  go(token: string) {\n    this.audit.info({ userId: user.id });\n    this.trail.info(token.length);\n"
     "    this.store.set(token);\n    this.cache.info(token);\n    this.audit.flush(token);\n  }\n}\n"),
    ("src/safe_svc.js", "class Svc {\n  constructor() { this.metrics = statsd(); this.log = pino(); }\n"
     "  go(token) { this.metrics.info(token); this.log.info('refreshed'); }\n}\n"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "source", "expected"), TRIPS, ids=[f"{p}:{s[:40]}" for p, s, _ in TRIPS])
def test_a_planted_logging_call_trips_its_rule(path: str, source: str, expected: set[tuple[str, str, int]]) -> None:
    assert found(path, source) == expected


def test_every_rule_trips_in_some_language() -> None:
    assert {rule for _, _, expected in TRIPS for rule, _, _ in expected} == LOG_RULE_IDS


@pytest.mark.parametrize(("path", "source"), QUIET, ids=[p for p, _ in QUIET])
def test_safe_logging_stays_quiet(path: str, source: str) -> None:
    assert found(path, source) == set()


def test_the_rules_are_high_but_an_email_is_medium_and_none_blocks() -> None:
    severities = {rule: CATALOG[rule].severity for rule in LOG_RULE_IDS}
    assert severities.pop(E) == Severity.MEDIUM
    assert set(severities.values()) == {Severity.HIGH}


def test_a_finding_names_the_file_line_what_is_logged_and_the_fix() -> None:
    hygiene = LogHygiene()
    source = b'import logging\nlog = logging.getLogger(__name__)\n\nlog.info("pw %s", password)\n'
    hygiene.tree_file("app/auth.py", source)
    ((finding, places),) = hygiene.located()
    text = render(finding)
    assert finding.check_id == P and places == [("app/auth.py", 4)]
    assert text["title"] == "app/auth.py logs a password: password"
    assert text["explanation"].startswith("log.info on line 4 writes password to the logs.")
    assert "log who it concerns by id (user.id)" in text["fix"]
    assert finding.evidence == {
        "file": "app/auth.py", "line": 4, "logged": "password", "call": "log.info", "lines": [4],
    }  # fmt: skip


def test_the_same_name_logged_again_is_one_finding_with_its_lines() -> None:
    hygiene = LogHygiene()
    hygiene.tree_file("app/a.py", b"print(user.email)\nx = 1\nprint(user.email)\nprint(user.email)\n")
    ((finding, places),) = hygiene.located()
    assert [line for _, line in places] == [1, 3, 4]
    assert "(and on 2 more lines)" in render(finding)["explanation"]


def test_names_are_read_by_their_last_word() -> None:
    assert words("HTTP_AUTHORIZATION") == ["http", "authorization"] and words("apiKey") == ["api", "key"]
    assert rule_of_words(words("x-api-key")) == K and rule_of_words(words("stripeSecretKey")) == K
    assert rule_of_words(words("refresh_token")) == T and rule_of_words(words("token_expiry")) is None
    assert rule_of_words(words("encrypted_password")) is None and rule_of_words(words("PHP_AUTH_PW")) == P
    assert rule_of_words(words("cache_key")) is None and rule_of_words(words("public_key")) is None
    assert rule_of_words(words("session_id")) == C and rule_of_words(words("sender_email")) is None
    assert rule_of_words(words("user_pw")) == P and rule_of_words(words("DATABASE_URL")) == P
    assert rule_of_words(words("conn_string")) == P and rule_of_words(words("SECRET_KEY_BASE")) == K
    assert found("src/a.js", 'console.log(req.headers["x-api-key"], cc_number)\n') == {
        (K, 'req.headers["x-api-key"]', 1),
        (CARD, "cc_number", 1),
    }


def test_commented_out_calls_docstrings_and_block_comments_are_left_alone() -> None:
    docstring = 'def f():\n    """Example:\n\n    >>> print(password)\n    """\n'
    assert found("app/a.py", "# print(password)\n" + docstring) == set()
    assert found("src/a.js", "/*\n console.log(token)\n*/\n// console.log(token)\n") == set()
    assert found("src/a.js", 'fetch("http://x").then(() => console.log(token));\n') == {(T, "token", 1)}
    assert found("src/A.php", "<?php\n# error_log($password);\n#[Attr] error_log($password);\n") == {
        (P, "$password", 3)
    }


def test_tests_minified_and_vendored_files_are_not_read() -> None:
    call = b"console.log(req.headers.authorization);\n"
    hygiene = LogHygiene()
    for path in ("tests/test_auth.py", "src/auth.test.ts", "spec/auth_spec.rb", "main_test.go", "dist/app.min.js"):
        hygiene.tree_file(path, call if not path.endswith(".py") else b"print(password)\n")
    hygiene.tree_file("src/bundle.js", b"var a=1;" * 1000 + call)  # one long line: minified
    assert hygiene.located() == []
    collector = Collector()
    collector.tree_file("node_modules/lib/index.js", call)
    assert not [f for f in collector.findings() if f.check_id in LOG_RULE_IDS]
    collector.tree_file("src/index.js", call)
    assert [f.check_id for f in collector.findings() if f.check_id in LOG_RULE_IDS] == [A]


def test_binary_huge_and_invalid_utf8_files_get_an_answer_not_a_crash() -> None:
    hygiene = LogHygiene()
    hygiene.tree_file("app/blob.py", b"\x00\x01print(password)\n" * 100)  # binary: not read
    assert hygiene.located() == []
    hygiene.tree_file("app/huge.py", b"x = 1\n" * (MAX_FILE // 6 + 1) + b"print(password)\n")  # over 2 MB
    assert [finding.check_id for finding, _ in hygiene.located()] == ["secrets.log.unchecked"]  # named, not read
    leaks = file_leaks("app/latin1.py", b"# caf\xe9 \xff\xfe\nprint('\xe9t\xe9 %s' % password, '\xff')\nprint(\xff)\n")
    assert [(leak.rule, leak.name, leak.lines) for leak in leaks] == [(P, "password", [2])]
    odd = file_leaks("src/a.js", b"console.log(req.headers['\x1b]0;x\x07authorization'], pass\xffword, token);\n")
    assert [(leak.rule, leak.name) for leak in odd] == [(T, "token")]  # neither is a name it can read
    shown = file_leaks("src/b.js", b"console.log(user['\x1b[31m'].password);\n")
    assert [leak.name for leak in shown] == ['user["…"].password']  # a literal that names nothing is not quoted


def test_deeply_nested_code_is_bounded() -> None:
    nested = b"logger.info(" + b"[" * 500 + b"password" + b"]" * 500 + b")\n"
    assert file_leaks("app/deep.py", nested) == []  # deeper than the walk goes: not read, not a crash
    deeper = b"logger.info(" + b"[" * 20_000 + b"password" + b"]" * 20_000 + b")\n"
    assert file_leaks("app/deeper.py", deeper) == []
    calls = b"print(" * 20_000 + b"password" + b")" * 20_000 + b"\n"
    budget = Budget()
    assert file_leaks("app/calls.py", calls, budget) == []
    chain = b"logger" + b".child()" * 5_000 + b".info(password)\n"
    assert file_leaks("src/chain.js", chain) == []
    shallow = b"logger.info(" + b"[" * 5 + b"password" + b"]" * 5 + b")\n"
    assert [leak.name for leak in file_leaks("app/shallow.py", shallow)] == ["password"]


def test_a_file_made_to_be_slow_is_read_within_its_limits() -> None:
    budget = Budget()
    spam = b"print(password)\n" * (MAX_CALLS + 50)
    ((leak,),) = [file_leaks("app/spam.py", spam, budget)]
    assert len(leak.lines) == 20  # the lines kept per finding
    assert budget.stats["log_calls"] == MAX_CALLS and budget.stats["log_left_out"] == 50
    scan = Budget(hints=10)
    file_leaks("app/more.py", b"print(1)\n" * 20 + b"print(password)\n", scan)
    assert scan.stats["log_left_out"] == 1 and scan.hints <= 0  # the scan's own limit, shared by its files
    assert file_leaks("app/later.py", b"print(password)\n", scan) == []


def test_a_scan_keeps_at_most_a_hundred_findings_and_counts_the_rest() -> None:
    hygiene = LogHygiene()
    for i in range(105):
        hygiene.tree_file(f"app/m{i}.py", b"print(password)\n")
    assert len(hygiene.located()) == 100 and hygiene.stats["log_left_out"] == 5


KEY = "sk_live_hGAkWvj7FAc9QeWJKY40uvSw"


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("app/a.py", f'logging.info("a %s", h.get("authorization", "{KEY}"))\n'),
        (
            "app/b.py",
            'log.info("x %s", request.headers.get("Authorization", "Bearer ghp_abcdefghijklmnopqrstuvwxyz012345"))\n',
        ),
        ("app/c.js", f'console.log(req.headers["{KEY}"].authorization);\n'),
        ("app/d.php", f'<?php error_log($_POST["password"] ?? "{KEY}");\n'),
        ("app/e.rb", f'Rails.logger.info(params.fetch(:password, "{KEY}"))\n'),
    ],
)
def test_what_is_logged_is_named_never_quoted(path: str, source: str) -> None:
    """A logged expression's string literals (a default value, an argument) may be the key itself: the finding
    names the expression with each literal shown as "…", and nothing in it long enough to be a key."""
    leaks = file_leaks(path, source.encode())
    assert leaks, "the planted call trips a rule"
    for leak in leaks:
        assert "hGAk" not in leak.name and "ghp_abc" not in leak.name and "abcdefghij" not in leak.name, leak.name


def test_a_source_file_too_large_to_read_is_named_as_not_checked() -> None:
    from audits.secrets.report import Scan, _read_what

    collector = Collector()
    big = b"x = 1\n" * (MAX_FILE // 6 + 1) + b"print(password)\n"
    collector.tree_file("app/generated.py", big)
    collector.tree_file("src/huge.js", b"var a = 1;\n" * (MAX_FILE // 11 + 1))
    collector.tree_file("app/small.py", b"print(password)\n")
    collector.tree_file("assets/big.css", b"a{}\n" * (MAX_FILE // 4 + 1))  # not a language the rules read
    report = collector.report()
    (unchecked,) = [f for f in report.findings if f.check_id == "secrets.log.unchecked"]
    assert CATALOG[unchecked.check_id].severity == Severity.LOW
    assert unchecked.evidence["files"] == ["app/generated.py", "src/huge.js"] and unchecked.evidence["count"] == 2
    text = render(unchecked)
    assert text["title"] == "2 source files not checked for logging leaks"
    assert text["explanation"].startswith("app/generated.py, src/huge.js are over 2 MB")
    assert report.stats["log_too_large"] == 2
    assert [f.check_id for f in report.findings if f.check_id == P] == [P]  # the small file is still read
    assert report.locations[(unchecked.check_id, unchecked.subject)][0].path == "app/generated.py"
    assert "2 source files over the log-hygiene size limit" in _read_what(Scan("x", "zip", True, report))
