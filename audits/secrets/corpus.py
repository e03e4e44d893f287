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
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


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


def catalog_secrets(k: Keys) -> list[Sample]:
    """Keys of the providers AI-built apps carry that only a maintained catalog knows: LLM gateways and
    inference APIs, tracing and error tracking, project tools, database platforms and secrets managers,
    payments beyond Stripe, and hosting. Each format is the one the provider issues (as the Betterleaks and
    Kingfisher rules describe it), filled at random."""
    s = k.s
    key = lambda prefix, alphabet, n: prefix + s(alphabet, n)  # noqa: E731
    uuid4 = lambda: str(uuid.UUID(int=k.rng.getrandbits(128), version=4))  # noqa: E731
    paypal_id = "A" + s(URLSAFE, 79)
    razorpay_id = "rzp_live_" + s(ALNUM, 14)
    rows: list[tuple[str, str, str]] = [
        # LLM gateways and inference APIs
        ("openrouter", "OPENROUTER_API_KEY={}", key("sk-or-v1-", HEX, 64)),
        ("groq", 'groq = Groq(api_key="{}")', key("gsk_", ALNUM, 52)),
        ("together", "TOGETHER_API_KEY={}", key("tgp_v1_", URLSAFE, 43)),
        ("perplexity", 'headers = {{"Authorization": "Bearer {}"}}', key("pplx-", ALNUM, 48)),
        ("replicate", "REPLICATE_API_TOKEN={}", key("r8_", ALNUM, 37)),
        ("mistral", 'MISTRAL_API_KEY="{}"', s(ALNUM, 32)),
        ("xai", "XAI_API_KEY={}", key("xai-", ALNUM, 80)),
        ("cohere", 'COHERE_API_KEY = "{}"', s(ALNUM, 40)),
        (
            "deepseek",
            'const deepseek = new OpenAI({{ baseURL: "https://api.deepseek.com", apiKey: "{}" }});',
            key("sk-", HEX, 32),
        ),
        ("vercel_ai_gateway", "AI_GATEWAY_API_KEY={}", key("vck_", URLSAFE, 56)),
        ("elevenlabs", 'ELEVENLABS_API_KEY="{}"', key("sk_", HEX, 48)),
        ("pinecone", 'pc = Pinecone(api_key="{}")', f"pcsk_{s(ALNUM, 6)}_{s(ALNUM, 63)}"),
        # tracing, error tracking and analytics
        ("sentry", "SENTRY_AUTH_TOKEN={}", key("sntryu_", HEX, 64)),
        ("langsmith", "LANGSMITH_API_KEY={}", f"lsv2_pt_{s(HEX, 32)}_{s(HEX, 10)}"),
        ("langsmith", "LANGCHAIN_API_KEY={}", f"lsv2_sk_{s(HEX, 32)}_{s(HEX, 10)}"),
        ("honeycomb", 'HONEYCOMB_API_KEY="{}"', s(HEX, 32)),
        ("datadog", "DATADOG_API_KEY={}", s(LOWER_ALNUM, 32)),
        ("posthog", "POSTHOG_PERSONAL_API_KEY={}", key("phx_", ALNUM, 43)),
        ("grafana", "GRAFANA_TOKEN={}", f"glsa_{s(ALNUM, 32)}_{s(HEX, 8)}"),
        ("new_relic", "NEW_RELIC_API_KEY={}", key("NRAK-", UPPER_ALNUM, 27)),
        # project tools
        ("linear", 'const linear = new LinearClient({{ apiKey: "{}" }});', key("lin_api_", ALNUM, 40)),
        ("notion", 'notion = Client(auth="{}")', f"ntn_{s(string.digits, 11)}{s(ALNUM, 35)}"),
        ("clickup", "CLICKUP_API_TOKEN={}", f"pk_{s(string.digits, 8)}_{s(UPPER_ALNUM, 32)}"),
        ("atlassian", "JIRA_API_TOKEN={}", key("ATATT3xFfGF0", URLSAFE, 170) + "=" + s(HEX.upper(), 8)),
        ("airtable", 'AIRTABLE_TOKEN="{}"', f"pat{s(ALNUM, 14)}.{s(HEX, 64)}"),
        # database platforms and secrets managers
        ("planetscale", "DATABASE_PASSWORD={}", key("pscale_pw_", URLSAFE, 43)),
        ("neon", "NEON_API_KEY={}", key("napi_", ALNUM, 64)),
        ("supabase_management", "SUPABASE_ACCESS_TOKEN={}", key("sbp_", HEX, 40)),
        ("doppler", "DOPPLER_TOKEN={}", key("dp.pt.", ALNUM, 43)),
        ("vault", "VAULT_TOKEN={}", key("hvs.", URLSAFE, 92)),
        # payments beyond Stripe
        ("square", "SQUARE_ACCESS_TOKEN={}", key("EAAA", URLSAFE, 60)),
        ("paddle", "PADDLE_API_KEY={}", f"pdl_live_apikey_{s(LOWER_ALNUM, 26)}_{s(ALNUM, 22)}_{s(ALNUM, 3)}"),
        ("checkout", 'CHECKOUT_SECRET_KEY="{}"', "sk_" + uuid4()),
        # hosting, infrastructure and email
        ("digitalocean", "DIGITALOCEAN_TOKEN={}", key("dop_v1_", HEX, 64)),
        ("digitalocean", 'do_oauth = "{}"', key("doo_v1_", HEX, 64)),
        ("cloudflare", "CLOUDFLARE_API_TOKEN={}", f"cfut_{s(ALNUM, 40)}{s(HEX, 8)}"),
        ("vercel", "VERCEL_TOKEN={}", key("vcp_", URLSAFE, 56)),
        ("render", "RENDER_API_KEY={}", key("rnd_", ALNUM, 28)),
        ("flyio", 'FLY_API_TOKEN="{}"', "FlyV1 fm2_" + s(ALNUM + "+/", 140)),
        ("resend", 'const resend = new Resend("{}");', f"re_{s(BASE58, 8)}_{s(BASE58, 24)}"),
        ("postmark", "POSTMARK_SERVER_TOKEN={}", uuid4()),
        ("clerk", "CLERK_SECRET_KEY={}", key("sk_live_", ALNUM, 32)),
    ]
    samples = [Sample(provider, "secret", template.format(secret), secret) for provider, template, secret in rows]
    paypal_secret = "E" + s(URLSAFE, 79)
    samples.append(
        Sample("paypal", "secret", f"PAYPAL_CLIENT_ID={paypal_id}\nPAYPAL_CLIENT_SECRET={paypal_secret}", paypal_secret)
    )
    atlas_id, atlas_secret = "mdb_sa_id_" + s(HEX, 24), "mdb_sa_sk_" + s(URLSAFE, 40)
    samples.append(
        Sample(
            "mongodb_atlas",
            "secret",
            f"MONGODB_ATLAS_CLIENT_ID={atlas_id}\nMONGODB_ATLAS_CLIENT_SECRET={atlas_secret}",
            atlas_secret,
        )
    )
    razorpay_secret = s(ALNUM, 24)
    samples.append(
        Sample(
            "razorpay",
            "secret",
            f"RAZORPAY_KEY_ID={razorpay_id}\nRAZORPAY_KEY_SECRET={razorpay_secret}",
            razorpay_secret,
        )
    )
    return samples


def catalog_lookalikes(k: Keys) -> list[Sample]:
    """What the new providers' keys look like in templates, docs and tests, and their public keys."""
    s = k.s
    posthog_public = "phc_" + s(ALNUM, 43)
    return [
        Sample(
            "posthog",
            "publishable",
            f'posthog.init("{posthog_public}", {{ api_host: "https://us.i.posthog.com" }})',
            posthog_public,
        ),
        Sample("", "", "OPENROUTER_API_KEY=sk-or-v1-" + "x" * 64),
        Sample("", "", "GROQ_API_KEY=gsk_" + "X" * 52),
        Sample("", "", "OPENROUTER_API_KEY=sk-or-v1-<your-key>"),
        Sample("", "", "DIGITALOCEAN_TOKEN=dop_v1_" + "0" * 64),
        Sample("", "", "SENTRY_AUTH_TOKEN=sntryu_" + "a" * 64),
        Sample("", "", "LINEAR_API_KEY=lin_api_your_linear_api_key_goes_here_000000"),
        Sample(
            "",
            "",
            "VAULT_TOKEN=hvs.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ),
        Sample("", "", 'REPLICATE_API_TOKEN="r8_{{ replicate_token }}"'),
        Sample("", "", "NEON_API_KEY=${NEON_API_KEY}"),
        Sample("", "", "CLERK_SECRET_KEY=sk_test_" + s(ALNUM, 32)),
        Sample("", "", "PADDLE_API_KEY=pdl_sdbx_apikey_" + s(LOWER_ALNUM, 26) + "_" + s(ALNUM, 22) + "_" + s(ALNUM, 3)),
        Sample("", "", "RAZORPAY_KEY_ID=rzp_test_" + s(ALNUM, 14)),
        Sample(
            "", "", f'sentry_dsn = "https://{s(HEX, 32)}@o{s(string.digits, 6)}.ingest.sentry.io/{s(string.digits, 7)}"'
        ),
        Sample("", "", f"PINECONE_INDEX_HOST=https://docs-{s(LOWER_ALNUM, 7)}.svc.aped-4627-b74a.pinecone.io"),
        Sample("", "", f'"checksum": "sha512-{base64.b64encode(k.rng.randbytes(64)).decode()}"'),
        Sample("", "", f"build_id = {s(HEX, 40)}"),
        Sample("", "", f"trace_id={s(HEX, 32)} span_id={s(HEX, 16)}"),
        Sample("", "", f"POSTHOG_HOST=https://eu.posthog.com # project {s(string.digits, 5)}"),
        Sample("", "", f"CLOUDFLARE_ACCOUNT_ID={s(HEX, 32)}"),
        Sample("", "", f"MISTRAL_MODEL=mistral-large-{s(string.digits, 4)}"),
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
            "firebase_web",
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
    return secrets(keys) + catalog_secrets(keys) + lookalikes(keys) + catalog_lookalikes(keys)


def minified(samples: list[Sample], keys: Keys, size: int = 20_000) -> str:
    """A minified bundle (one long line) with these samples' snippets buried in it."""
    parts = []
    for sample in samples:
        parts.append(f"function {keys.s(string.ascii_lowercase, 2)}(e,t){{return e+t}};" * 20)
        parts.append(sample.text.replace("\n", "\\n") + ";")
    filler = "var a=function(e){return e&&e.__esModule?e:{default:e}};"
    return "".join(parts) + filler * max(0, (size - sum(map(len, parts))) // len(filler))
