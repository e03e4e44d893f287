"""A repository scan as SARIF 2.1.0, the format GitHub code scanning (and other code-review tools) read.

One rule per kind of finding (each log-hygiene rule among them), with the catalog's severity as its default level
and GitHub's `security-severity`; one result per place a finding was seen, with a path relative to the scanned
folder, its line, and a fingerprint that stays the same from run to run (the finding's subject and path; never the
key: a key's subject holds only its provider and the first 8 hex digits of its SHA-256). Messages show keys
redacted, as every report does."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from audits.catalog import CATALOG, render, severity_of
from audits.findings import Finding, Severity
from audits.secrets.lognames import LOG_RULE_IDS
from audits.secrets.repo import REPO_SCAN_IDS, Location
from audits.secrets.report import Scan

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL = "Launch Ready secret scan"
FINGERPRINT = "launchreadyFinding/v1"

# id -> (name, short description, help): what the rule is about, whatever the finding's own details
RULES: dict[str, tuple[str, str, str]] = {
    "secrets.repo.key": (
        "CommittedSecretKey",
        "A secret key is committed to the repository",
        "Anyone who can read the repository, or any clone, fork or backup of it, can use this key. Rotate it at "
        "the provider now, read it from the environment, and rewrite git history before sharing the repository.",
    ),
    "secrets.repo.publishable": (
        "CommittedPublishableKey",
        "A publishable key is committed to the repository",
        "The key is meant to be public, so this is not a leak. Keep it in configuration so each environment can "
        "use its own, and check its restrictions at the provider.",
    ),
    "secrets.repo.google_key": (
        "CommittedGoogleApiKey",
        "A Google API key is committed to the repository",
        "It may be a Maps or a Gemini key that bills the project's owner. In the Google Cloud console (APIs & "
        "Services, Credentials) restrict it to the app's websites or apps and to the APIs it calls; rotate it if it "
        "was never meant to be public.",
    ),
    "secrets.repo.firebase_key": (
        "CommittedFirebaseWebApiKey",
        "A Firebase web API key is committed to the repository",
        "A Firebase web config is public by design, but its key works for every API enabled on the project. "
        "Restrict it to the Firebase APIs and the app's domains in the Google Cloud console, and turn on App Check.",
    ),
    "secrets.repo.env_file": (
        "CommittedEnvFile",
        "A .env file is committed to the repository",
        "Environment files hold an app's passwords and keys. Rotate every value it held, add .env to .gitignore, "
        "commit only a .env.example with the names, and rewrite git history.",
    ),
    "secrets.repo.unchecked": (
        "ArchiveNotChecked",
        "An archive among the files could not be checked for keys",
        "The scan opens archives inside the repository (a few levels deep) to look for keys; this one was too "
        "deep, damaged, password-protected or unpacked to too much. Unpack it and scan what is inside.",
    ),
    "secrets.repo.debug": (
        "ProductionDebugMode",
        "Production settings are left in debug mode",
        "In production a debug mode shows visitors stack traces, settings and sometimes an interactive console. "
        "Turn it off in the production configuration.",
    ),
    "env.undocumented": (
        "UndocumentedEnvironmentVariable",
        "Environment variables read in code are missing from .env.example",
        "Whoever deploys or takes over the app will not know to set them. List their names in .env.example, "
        "without values.",
    ),
    "env.example_missing": (
        "MissingEnvExample",
        "No .env.example documents the environment variables the code reads",
        "Commit a .env.example at the root with one line per variable the app reads (names only, no values).",
    ),
    "secrets.log.unchecked": (
        "LogHygieneNotChecked",
        "Source files too large for the log-hygiene check were not checked",
        "Their logging calls were not read for passwords, tokens, keys, cookies or personal data. Check them by "
        "hand, or keep generated files out of the repository.",
    ),
    "secrets.log.password": (
        "LoggedPassword",
        "A logging call writes a password",
        "Logs are kept, copied to log services and read by more people than the database. Log the user's id "
        'instead of the password (or a fixed "[redacted]"), purge the logs that hold passwords and have the users '
        "concerned reset them.",
    ),
    "secrets.log.token": (
        "LoggedToken",
        "A logging call writes a token",
        "Whoever reads the logs can act as the user or the app with the token until it expires. Log an identifier "
        "(the user's or the session's id) instead, revoke the tokens already logged and purge those logs.",
    ),
    "secrets.log.api_key": (
        "LoggedApiKey",
        "A logging call writes an API key or secret",
        "Every log store the line reached now holds the key. Log the key's name, or its last 4 characters at most; "
        "rotate the key at its provider and purge those logs.",
    ),
    "secrets.log.authorization": (
        "LoggedAuthorizationHeader",
        "A logging call writes an Authorization header",
        "The header carries the caller's token or password. Log the scheme or the authenticated user's id, never "
        "the header's value; revoke the tokens already logged.",
    ),
    "secrets.log.cookie": (
        "LoggedCookie",
        "A logging call writes a cookie or session id",
        "A session cookie lets whoever reads it take the session over. Log the user's id, or the cookie's name "
        "only; sign out the sessions already logged.",
    ),
    "secrets.log.headers": (
        "LoggedRequestHeaders",
        "A logging call writes whole request headers",
        "Request headers include Authorization and Cookie. Log only the headers needed, by name, or redact "
        "Authorization, Cookie, Set-Cookie and X-Api-Key first.",
    ),
    "secrets.log.request_body": (
        "LoggedRequestBody",
        "A logging call writes a whole request body",
        "A request body holds whatever the client sent: passwords, card numbers, personal details. Log the fields "
        "needed by name, or redact password, token, secret, card and email fields first.",
    ),
    "secrets.log.card": (
        "LoggedCardNumber",
        "A logging call writes a card number",
        "Card numbers must never be stored in the clear (PCI DSS), and logs are stored. Log the brand and the last "
        "4 digits at most, or the payment provider's id for the card; purge the logs that hold card numbers.",
    ),
    "secrets.log.email": (
        "LoggedEmailAddress",
        "A logging call writes an email address",
        "An email address is personal data, and logs keep it outside the app's retention and deletion rules. Log "
        "the user's id instead, or a masked address.",
    ),
}
LEVELS = {
    Severity.BLOCKER: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub's scale: 9.0 and over critical, 7.0 high, 4.0 medium, 0.1 low.
SECURITY_SEVERITY = {
    Severity.BLOCKER: "9.5",
    Severity.HIGH: "7.5",
    Severity.MEDIUM: "5.0",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
RULE_IDS = sorted(REPO_SCAN_IDS)


def _tags(check_id: str) -> list[str]:
    return ["security", "log-hygiene"] if check_id in LOG_RULE_IDS else ["security", "secrets"]


def _rule(check_id: str) -> dict[str, Any]:
    name, short, help_text = RULES[check_id]
    severity = CATALOG[check_id].severity
    return {
        "id": check_id,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": help_text},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {"tags": _tags(check_id), "security-severity": SECURITY_SEVERITY[severity]},
    }


def _message(finding: Finding, place: Location) -> str:
    text = render(finding)
    message = text["title"]
    if finding.params.get("key"):
        message += f" ({finding.params['key']})"
    if place.commit:
        message += f", in git history: commit {place.commit}"
    return f"{message}. " + " ".join(line.strip() for line in text["fix"].splitlines() if line.strip())


def _result(finding: Finding, place: Location) -> dict[str, Any]:
    identity = f"{finding.check_id}\n{finding.subject}\n{place.path}"
    return {
        "ruleId": finding.check_id,
        "ruleIndex": RULE_IDS.index(finding.check_id),
        "level": LEVELS[severity_of(finding)],
        "message": {"text": _message(finding, place)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(place.path, safe="/"), "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": max(place.line, 1)},
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT: hashlib.sha256(identity.encode()).hexdigest()[:32]},
    }


def as_sarif(scan: Scan) -> dict[str, Any]:
    """The scan as one SARIF 2.1.0 log with one run."""
    results = [
        _result(finding, place) for finding in scan.findings for place in scan.locations(finding) or [Location(".")]
    ]
    invocation: dict[str, Any] = {"executionSuccessful": not scan.unchecked}
    if scan.unchecked:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": f"The repository could not be checked: {scan.unchecked}"}}
        ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": TOOL, "rules": [_rule(check_id) for check_id in RULE_IDS]}},
                "invocations": [invocation],
                "results": results,
            }
        ],
    }
