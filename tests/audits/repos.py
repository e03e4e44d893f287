"""Client repositories for the scan tests, built with dulwich (two commits: a .env with an AWS key is committed
and then deleted), and packed the three ways a consultant uploads them."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

from dulwich import porcelain
from dulwich.bundle import create_bundle_from_repo, write_bundle
from dulwich.repo import Repo

from launchready.sandbox.scenarios import FAKE_STRIPE_PUBLISHABLE, FAKE_STRIPE_SECRET

DEV = b"Dev <dev@example.com>"
AWS_SECRET = "Zq8vL2mXk9Rt4Wp7Nc3Hs6Jd1Fb5Gy0Ua2Ei9Ko4"
GITHUB_TOKEN = "ghp_" + "R8kVw2Lq9Xz4Tn7Mb3Hc6Jd1Fs5Gy0Pa2Ei9"

FIRST = {
    ".env": f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}\nDEBUG=1\n",
    ".env.example": "DATABASE_URL=\n# SENTRY_DSN=\n",
    "README.md": "Set STRIPE_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx in your environment (example).\n",
    "app/settings.py": "import os\nDEBUG = True\n"
    'DATABASE_URL = os.environ["DATABASE_URL"]\nSENTRY = os.getenv("SENTRY_DSN")\n',
    "app/server.py": 'from flask import Flask\napp = Flask(__name__)\nTOKEN = os.environ.get("GITHUB_TOKEN")\n'
    "if __name__ == '__main__':\n    app.run(host='0.0.0.0', debug=True)\n",
}
SECOND = {
    "web/pay.js": f'const stripe = require("stripe")("{FAKE_STRIPE_SECRET}");\n'
    f'const pk = "{FAKE_STRIPE_PUBLISHABLE}";\nconst api = process.env.API_URL + import.meta.env.VITE_MAPS_KEY;\n',
    "config/environments/production.rb": "Rails.application.configure do\n"
    '  config.consider_all_requests_local = true\n  key = ENV.fetch("RAILS_MASTER_KEY")\nend\n',
    "worker/main.go": 'package main\nimport "os"\nvar q = os.Getenv("QUEUE_URL")\n',
    "site/index.php": "<?php $k = getenv('MAILER_DSN'); $h = $_SERVER['HTTP_HOST']; ?>\n",
    "Dockerfile": "FROM node:20\nENV NODE_ENV=development\n",
    "deploy/ci.yml": f"token: {GITHUB_TOKEN}\n",
}


def build_repo(root: Path) -> Path:
    """A working copy with its .git: the .env (and its AWS key) is in the first commit only."""
    root.mkdir(parents=True, exist_ok=True)
    repo = porcelain.init(str(root))
    _write(root, FIRST)
    porcelain.add(repo, [str(root / p) for p in FIRST])
    porcelain.commit(repo, message=b"First version", author=DEV, committer=DEV)
    porcelain.rm(repo, [str(root / ".env")])
    _write(root, SECOND)
    porcelain.add(repo, [str(root / p) for p in SECOND])
    porcelain.commit(repo, message=b"Payments", author=DEV, committer=DEV)
    repo.close()
    return root


def git(cwd: Path, *args: str) -> str:
    """Run the real `git` in a test's own repository (the product never runs it), with no user or system
    configuration: what the tests see does not depend on the machine's git settings."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def zip_of(root: Path, out: Path, top: str = "acme-main") -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, f"{top}/{path.relative_to(root)}")
    return out


def tar_of(root: Path, out: Path) -> Path:
    with tarfile.open(out, "w:gz") as archive:
        archive.add(root, arcname="acme")
    return out


def bundle_of(root: Path, out: Path) -> Path:
    with Repo(str(root)) as repo:
        bundle = create_bundle_from_repo(repo)
        with open(out, "wb") as f:
            write_bundle(f, bundle)
    return out


def zip_bytes(entries: dict[str, bytes], *, symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def tar_bytes(entries: dict[str, bytes], *, links: dict[str, tuple[bytes, str]] | None = None) -> bytes:
    """A tar.gz; `links` maps a name to (tar type, target): tarfile.SYMTYPE or tarfile.LNKTYPE."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, (kind, target) in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()
