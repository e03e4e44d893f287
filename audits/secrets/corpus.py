"""A labelled corpus for measuring the detector: keys in each provider's real format (random, so never live),
placed the way they leak (code, config, minified bundles), and look-alikes that must not count as secrets
(placeholders, documentation examples, UUIDs, hashes, test keys, publishable keys)."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import uuid
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"


@dataclass(frozen=True)
class Sample:
    """One labelled snippet: the provider and kind the detector should report (provider "" for none)."""

    provider: str
    kind: str  # "secret", "publishable", or "" for a look-alike that must not be reported as a secret
    text: str
    key: str = ""  # the planted key, so a hit can be matched to its label by fingerprint


class Keys:
    """Fake keys in each provider's format, from a seeded generator."""

    def __init__(self, seed: int = 6) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible fake keys, not real ones  # nosec B311

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def jwt(self, claims: dict[str, object]) -> str:
        def part(data: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

        return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{self.s(URLSAFE, 43)}"

    def pem(self) -> tuple[str, str]:
        """A PEM private key and its body (what the detector fingerprints: the base64, without line breaks)."""
        body = base64.b64encode(self.rng.randbytes(600)).decode()
        lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return f"-----BEGIN RSA PRIVATE KEY-----\n{lines}\n-----END RSA PRIVATE KEY-----", body


def secrets(k: Keys) -> list[Sample]:
    """One or more keys per provider, each in a line of code or config as it is usually written."""
    u = string.ascii_uppercase + string.digits
    aws_id = "AKIA" + k.s(u, 16)
    aws_secret = k.s(ALNUM + "/+", 40)
    stripe = "sk_live_" + k.s(ALNUM, 99)
    stripe_restricted = "rk_live_" + k.s(ALNUM, 24)
    openai = "sk-proj-" + k.s(URLSAFE, 156)
    openai_legacy = "sk-" + k.s(ALNUM, 20) + "T3BlbkFJ" + k.s(ALNUM, 20)
    anthropic = "sk-ant-api03-" + k.s(URLSAFE, 93) + "AA"
    gemini = "AIza" + k.s(URLSAFE, 35)
    gcp = "AIza" + k.s(URLSAFE, 35)
    sa_id = k.s(HEX, 40)
    azure = k.s(ALNUM + "+/", 86) + "=="
    hf = "hf_" + k.s(string.ascii_letters, 34)
    twilio = "SK" + k.s(HEX, 32)
    twilio_token = k.s(HEX, 32)
    sendgrid = "SG." + k.s(URLSAFE, 22) + "." + k.s(URLSAFE, 43)
    mailgun = "key-" + k.s(HEX, 32)
    slack = f"xoxb-{k.s(string.digits, 12)}-{k.s(string.digits, 13)}-{k.s(ALNUM, 24)}"
    slack_hook = f"https://hooks.slack.com/services/T{k.s(u, 8)}/B{k.s(u, 10)}/{k.s(ALNUM, 24)}"
    ghp = "ghp_" + k.s(ALNUM, 36)
    ghs = "ghs_" + k.s(ALNUM, 36)
    pat = "github_pat_" + k.s(ALNUM + "_", 82)
    gitlab = "glpat-" + k.s(URLSAFE, 20)
    npm = "npm_" + k.s(ALNUM, 36)
    shopify = "shpat_" + k.s(HEX, 32)
    supabase = k.jwt({"iss": "supabase", "ref": k.s(string.ascii_lowercase, 20), "role": "service_role"})
    fcm = "AAAA" + k.s(URLSAFE, 7) + ":APA91b" + k.s(URLSAFE, 134)
    discord = "M" + k.s(ALNUM, 25) + "." + k.s(URLSAFE, 6) + "." + k.s(URLSAFE, 27)
    discord_hook = f"https://discord.com/api/webhooks/{k.s(string.digits, 18)}/{k.s(URLSAFE, 68)}"
    telegram = k.s(string.digits, 10) + ":AA" + k.s(URLSAFE, 33)
    db_password = k.s(ALNUM, 20)
    mongo_password = k.s(ALNUM, 16)
    jwt_secret = k.s(ALNUM + "!#%&*", 48)
    pem, pem_body = k.pem()
    return [
        Sample("aws", "secret", f'AWS_ACCESS_KEY_ID = "{aws_id}"', aws_id),
        Sample("aws", "secret", f"AWS_SECRET_ACCESS_KEY={aws_secret}", aws_secret),
        Sample("stripe", "secret", f'const stripe = new Stripe("{stripe}");', stripe),
        Sample("stripe", "secret", f"STRIPE_RESTRICTED_KEY={stripe_restricted}", stripe_restricted),
        Sample("openai", "secret", f'client = OpenAI(api_key="{openai}")', openai),
        Sample("openai", "secret", f"OPENAI_API_KEY={openai_legacy}", openai_legacy),
        Sample("anthropic", "secret", f'anthropic.Anthropic(api_key="{anthropic}")', anthropic),
        Sample("google_ai", "secret", f'genai.configure(api_key="{gemini}")  # gemini', gemini),
        Sample("gcp_api_key", "secret", f"GOOGLE_CLOUD_API_KEY={gcp}", gcp),
        Sample(
            "gcp_service_account",
            "secret",
            json.dumps({"type": "service_account", "project_id": "acme-prod", "private_key_id": sa_id}),
            sa_id,
        ),
        Sample(
            "azure_storage",
            "secret",
            f"AZURE_STORAGE=DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={azure};"
            "EndpointSuffix=core.windows.net",
            azure,
        ),
        Sample("huggingface", "secret", f'HF_TOKEN = "{hf}"', hf),
        Sample("twilio", "secret", f"TWILIO_API_KEY={twilio}", twilio),
        Sample("twilio", "secret", f'twilioAuthToken: "{twilio_token}",', twilio_token),
        Sample("sendgrid", "secret", f"sgMail.setApiKey('{sendgrid}');", sendgrid),
        Sample("mailgun", "secret", f"MAILGUN_API_KEY={mailgun}", mailgun),
        Sample("slack", "secret", f'SLACK_BOT_TOKEN="{slack}"', slack),
        Sample("slack_webhook", "secret", f"fetch('{slack_hook}', {{method: 'POST'}})", slack_hook),
        Sample("github", "secret", f"GITHUB_TOKEN={ghp}", ghp),
        Sample("github", "secret", f"token: {ghs}", ghs),
        Sample("github", "secret", f'const octokit = new Octokit({{ auth: "{pat}" }});', pat),
        Sample("gitlab", "secret", f"GITLAB_TOKEN={gitlab}", gitlab),
        Sample("npm", "secret", f"//registry.npmjs.org/:_authToken={npm}", npm),
        Sample("shopify", "secret", f'SHOPIFY_ADMIN_TOKEN="{shopify}"', shopify),
        Sample("supabase", "secret", f'createClient(url, "{supabase}")', supabase),
        Sample("firebase", "secret", f"FCM_SERVER_KEY={fcm}", fcm),
        Sample("discord", "secret", f'client.login("{discord}");', discord),
        Sample("discord", "secret", f"DISCORD_WEBHOOK={discord_hook}", discord_hook),
        Sample("telegram", "secret", f'bot = telegram.Bot(token="{telegram}")', telegram),
        Sample("private_key", "secret", pem, pem_body),
        Sample(
            "database_url",
            "secret",
            f"DATABASE_URL=postgres://app_prod:{db_password}@db.acme-prod.internal:5432/app",
            db_password,
        ),
        Sample(
            "database_url",
            "secret",
            f'MONGO_URI = "mongodb+srv://api:{mongo_password}@cluster0.ab12c.mongodb.net/prod"',
            mongo_password,
        ),
        Sample("signing_secret", "secret", f'JWT_SECRET = "{jwt_secret}"', jwt_secret),
    ]


def lookalikes(k: Keys) -> list[Sample]:
    """Strings that look like keys and are not (or are meant to be public)."""
    sha256 = hashlib.sha256(k.rng.randbytes(16)).hexdigest()
    sha1 = hashlib.sha1(k.rng.randbytes(16)).hexdigest()  # noqa: S324 - a look-alike, not a use of SHA-1  # nosec B324
    pk = "pk_live_" + k.s(ALNUM, 99)
    firebase_web = "AIza" + k.s(URLSAFE, 35)
    anon = k.jwt({"iss": "supabase", "ref": k.s(string.ascii_lowercase, 20), "role": "anon"})
    return [
        Sample("stripe", "publishable", f'loadStripe("{pk}")', pk),
        Sample(
            "firebase",
            "publishable",
            f'const firebaseConfig = {{ apiKey: "{firebase_web}", authDomain: "acme.firebaseapp.com" }};',
            firebase_web,
        ),
        Sample("supabase", "publishable", f'createClient(SUPABASE_URL, "{anon}")', anon),
        Sample("", "", f'STRIPE_SECRET_KEY="sk_test_{k.s(ALNUM, 24)}"'),
        Sample("", "", f"STRIPE_KEY=rk_test_{k.s(ALNUM, 24)}"),
        Sample("", "", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"),
        Sample("", "", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        Sample("", "", "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"),
        Sample("", "", "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        Sample("", "", "OPENAI_API_KEY=sk-your-api-key-here"),
        Sample("", "", "OPENAI_API_KEY=<your OpenAI key>"),
        Sample("", "", "DATABASE_URL=postgres://postgres:postgres@localhost:5432/app"),
        Sample("", "", "DATABASE_URL=postgres://user:password@db.example.com/app"),
        Sample("", "", "REDIS_URL=redis://localhost:6379/0"),
        Sample("", "", f'request_id = "{uuid.UUID(int=k.rng.getrandbits(128))}"'),
        Sample("", "", f"sha256: {sha256}"),
        Sample("", "", f'"integrity": "sha1-{sha1}"'),
        Sample("", "", f"commit {sha1}"),
        Sample("", "", "JWT_SECRET=${JWT_SECRET}"),
        Sample("", "", "SECRET_KEY = os.environ['SECRET_KEY']"),
        Sample("", "", 'jwtSecret: process.env.JWT_SECRET || "change-me-in-production"'),
        Sample("", "", "SLACK_WEBHOOK=https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX"),
        Sample(
            "", "", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----"
        ),
        Sample("", "", "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----"),
        Sample("", "", f"const ANALYTICS_ID = 'G-{k.s(string.ascii_uppercase + string.digits, 10)}';"),
        Sample("", "", f'etag: W/"{k.s(HEX, 32)}"'),
        Sample("", "", f'"nonce": "{base64.b64encode(k.rng.randbytes(16)).decode()}"'),
        Sample("", "", "TWILIO_ACCOUNT_SID=AC" + k.s(HEX, 32)),
        Sample("", "", "npm_config_cache=/tmp/npm-cache-dir-for-builds-01"),
    ]


def corpus(seed: int = 6) -> list[Sample]:
    keys = Keys(seed)
    return secrets(keys) + lookalikes(keys)


def minified(samples: list[Sample], keys: Keys, size: int = 20_000) -> str:
    """A minified bundle (one long line) with these samples' snippets buried in it."""
    parts = []
    for sample in samples:
        parts.append(f"function {keys.s(string.ascii_lowercase, 2)}(e,t){{return e+t}};" * 20)
        parts.append(sample.text.replace("\n", "\\n") + ";")
    filler = "var a=function(e){return e&&e.__esModule?e:{default:e}};"
    return "".join(parts) + filler * max(0, (size - sum(map(len, parts))) // len(filler))
