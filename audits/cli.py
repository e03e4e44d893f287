"""`launchready-scan-repo`: `manage.py scan_repo` as an installed command, for the pre-commit hook
(.pre-commit-hooks.yaml runs `launchready-scan-repo --files` on the staged files) and for CI.

It runs in the calling project's environment, whose DATABASE_URL, SECRET_KEY or DJANGO_ENV belong to that project:
the scan needs no database, broker or mail, so those of the names Launch Ready's settings read are set aside in
this process, and the settings are always Launch Ready's own."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.management import execute_from_command_line

# The variables launchready/config.py reads and checks; the scan runs on their development defaults.
OWN_SETTINGS = (
    "DJANGO_ENV",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "LAUNCHREADY_ENCRYPTION_KEYS",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "SITE_URL",
)
CHECKOUT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> None:
    """Run scan_repo with these arguments (default: the command line's); exits with its status."""
    for name in OWN_SETTINGS:
        os.environ.pop(name, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "launchready.settings"
    if not (CHECKOUT / "manage.py").exists():
        # Installed as a package (pre-commit's own environment): the compiled rules are cached in that
        # environment, not beside the installed modules.
        os.environ.setdefault("LAUNCHREADY_VAR_DIR", str(Path(sys.prefix) / "var" / "launchready"))
    execute_from_command_line(["launchready-scan-repo", "scan_repo", *(sys.argv[1:] if argv is None else argv)])
