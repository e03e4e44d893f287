"""The demo workspace's repository scan: a small made-up client repository (a Next.js app with a committed
.env, a key pasted into its config and a login route that logs what it should not), scanned when the demo is seeded
so the risk list shows the result."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from audits.models import RepoScan
from audits.secrets.lifecycle import repo_scan_finish
from audits.secrets.repo import scan_upload
from launchready.models import Client
from launchready.sandbox.scenarios import FAKE_STRIPE_SECRET

DEMO_REPOSITORY = {
    "studiokit-main/.env": f"STRIPE_SECRET_KEY={FAKE_STRIPE_SECRET}\nNEXT_PUBLIC_SITE_URL=https://www.studiokit.test\n",
    "studiokit-main/.env.example": "STRIPE_SECRET_KEY=\nNEXT_PUBLIC_SITE_URL=\n",
    "studiokit-main/lib/db.ts": "export const db = new Pool({ connectionString: process.env.DATABASE_URL });\n",
    "studiokit-main/lib/mail.ts": "const key = process.env.RESEND_API_KEY;\nconst from = process.env.MAIL_FROM;\n",
    "studiokit-main/app/api/checkout/route.ts": "const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);\n",
    "studiokit-main/app/api/login/route.ts": "export async function POST(req: Request) {\n"
    "  const { email, password } = await req.json();\n"
    '  console.log("login attempt", email, req.headers.get("authorization"));\n'
    "  return signIn(email, password);\n}\n",
    "studiokit-main/Dockerfile": 'FROM node:20-alpine\nENV NODE_ENV=production\nCMD ["npm", "start"]\n',
}


def demo_repository() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in DEMO_REPOSITORY.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def seed_repo_scan(client: Client) -> RepoScan:
    """Scan the demo repository for this client, as a worker would (the upload is never stored)."""
    data = demo_repository()
    scan = RepoScan.objects.create(client=client, filename="studiokit-main.zip", kind="zip", size=len(data))
    with tempfile.TemporaryDirectory(prefix="lr-demo-") as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        report = scan_upload(path)
    return repo_scan_finish(scan, report.findings, report.stats)
