"""The providers whose keys the detector knows: how to recognise each key, how much of it may be shown,
and the steps to rotate it (in plain English, with the provider's own console path)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    slug: str
    label: str
    rotation: str


def with_article(label: str) -> str:
    """ "An AWS access key", "A Stripe secret key": the label as the start of a sentence."""
    article = "An" if label[:1] in "AEIOUaeiou" or label.startswith("npm") else "A"
    return f"{article} {label}"


PROVIDERS: dict[str, Provider] = {
    p.slug: p
    for p in [
        Provider(
            "aws",
            "AWS access key",
            "In the AWS console open IAM → Users → (the key's user) → Security credentials, create a new access "
            "key, put it where the app reads its configuration, deploy, then make the old key Inactive and delete "
            "it. Check CloudTrail for calls made with the old key.",
        ),
        Provider(
            "aws_secret",
            "AWS secret access key",
            "In the AWS console open IAM → Users → (the key's user) → Security credentials, create a new access "
            "key (a secret access key comes with its access key id), put it where the app reads its configuration, "
            "deploy, then make the old key Inactive and delete it. Check CloudTrail for calls made with the old key.",
        ),
        Provider(
            "gcp_service_account",
            "Google Cloud service-account key",
            "In the Google Cloud console open IAM & Admin → Service accounts → (the account) → Keys, add a new "
            "JSON key, deploy it through your secret store, then delete the leaked key by its key id.",
        ),
        Provider(
            "gcp_api_key",
            "Google Cloud API key",
            "In the Google Cloud console open APIs & Services → Credentials, regenerate (or create a new) API key, "
            "restrict it to the APIs and referrers that need it, deploy it, then delete the old key.",
        ),
        Provider(
            "firebase_web",
            "Firebase web API key",
            "In the Google Cloud console open APIs & Services → Credentials, create a new API key restricted as "
            "above, put it in the app's Firebase config, deploy, then delete the old key.",
        ),
        Provider(
            "google_ai",
            "Google AI (Gemini) API key",
            "In Google AI Studio open Get API key, create a new key, deploy it to the server side only, then delete "
            "the leaked key. Review usage in the Google Cloud console for calls you did not make.",
        ),
        Provider(
            "azure_storage",
            "Azure storage account key",
            "In the Azure portal open Storage accounts → (the account) → Security + networking → Access keys, "
            "switch the app to the other key, choose Rotate key on the leaked one, then prefer SAS tokens or a "
            "managed identity.",
        ),
        Provider(
            "stripe",
            "Stripe secret key",
            "In the Stripe Dashboard open Developers → API keys, choose Roll key on the leaked secret or "
            "restricted key (expire it now), deploy the new key to the server only, and review Developers → Logs "
            "for requests you did not make.",
        ),
        Provider(
            "openai",
            "OpenAI API key",
            "On platform.openai.com open Settings → API keys (or the project's API keys), create a new key, "
            "deploy it to the server side only, then revoke the leaked key and check Usage for unexpected spend.",
        ),
        Provider(
            "anthropic",
            "Anthropic API key",
            "In the Anthropic Console open Settings → API keys, create a new key, deploy it to the server side, "
            "then disable and delete the leaked key and check Usage for unexpected spend.",
        ),
        Provider(
            "huggingface",
            "Hugging Face token",
            "On huggingface.co open Settings → Access Tokens, create a new fine-grained token, deploy it, then "
            "invalidate and delete the leaked token.",
        ),
        Provider(
            "twilio",
            "Twilio credential",
            "In the Twilio Console open Account → API keys & tokens, create a new API key (or request a secondary "
            "auth token and promote it), deploy it, then delete the leaked key or token.",
        ),
        Provider(
            "sendgrid",
            "SendGrid API key",
            "In SendGrid open Settings → API Keys, create a new key with only Mail Send, deploy it, then delete the "
            "leaked key and check Activity for mail you did not send.",
        ),
        Provider(
            "mailgun",
            "Mailgun API key",
            "In Mailgun open Account → API Security (API keys), create a new key, deploy it, then delete the "
            "leaked key and review the sending logs.",
        ),
        Provider(
            "slack",
            "Slack token",
            "At api.slack.com/apps open the app → OAuth & Permissions, revoke the leaked token and reinstall the "
            "app to get a new one; deploy it to the server side only.",
        ),
        Provider(
            "slack_webhook",
            "Slack incoming webhook",
            "At api.slack.com/apps open the app → Incoming Webhooks, remove the leaked webhook URL, add a new one "
            "and keep it server side; anyone with the URL can post to the channel.",
        ),
        Provider(
            "github",
            "GitHub token",
            "On github.com open Settings → Developer settings → Personal access tokens (or the GitHub App's "
            "settings), delete the leaked token, create a fine-grained one with the least access, and review the "
            "security log.",
        ),
        Provider(
            "gitlab",
            "GitLab token",
            "In GitLab open Preferences → Access tokens (or the project's Settings → Access tokens), revoke the "
            "leaked token, create a new one with the least scope, and review the audit events.",
        ),
        Provider(
            "npm",
            "npm access token",
            "On npmjs.com open your avatar → Access Tokens, delete the leaked token, create a granular token, and "
            "check that no package version was published without you.",
        ),
        Provider(
            "shopify",
            "Shopify access token",
            "In the Shopify admin open Settings → Apps and sales channels → Develop apps → (the app), uninstall and "
            "reinstall it (or rotate the API secret) to get a new token, then deploy it server side.",
        ),
        Provider(
            "supabase",
            "Supabase service-role key",
            "In the Supabase dashboard open Project Settings → API Keys, roll the JWT secret (or create a new "
            "secret key and revoke the old one), deploy the new service key to the server only; the service role "
            "bypasses row-level security.",
        ),
        Provider(
            "firebase",
            "Firebase server key",
            "In the Firebase console open Project settings → Cloud Messaging, delete the legacy server key and move "
            "to the HTTP v1 API with a service account; deploy the new credential server side.",
        ),
        Provider(
            "discord",
            "Discord bot token or webhook",
            "In the Discord Developer Portal open Applications → (the app) → Bot and choose Reset Token (for a "
            "webhook: Server settings → Integrations → Webhooks, delete it and make a new one).",
        ),
        Provider(
            "telegram",
            "Telegram bot token",
            "Message @BotFather, send /revoke, choose the bot to get a new token, and deploy it server side.",
        ),
        Provider(
            "private_key",
            "private key",
            "Treat the key pair as compromised: generate a new key pair, install the new public key or certificate "
            "wherever the old one was trusted (server, deploy key, certificate authority), then remove the old one.",
        ),
        Provider(
            "database_url",
            "database password",
            "Change the database user's password at the database provider (or ALTER USER … PASSWORD), update the "
            "connection string in the host's environment settings, redeploy, and restrict the database to the "
            "app's network.",
        ),
        Provider(
            "signing_secret",
            "JWT or session signing secret",
            "Generate a new random secret (at least 32 bytes), set it in the host's environment settings, redeploy; "
            "every session and token signed with the old one becomes invalid, which is the point.",
        ),
        Provider(
            "mailchimp",
            "Mailchimp API key",
            "In Mailchimp open Profile → Extras → API keys, create a new key, deploy it, then disable the leaked key.",
        ),
    ]
}

# What a publishable key of these providers is called (it is not the secret kind the label names).
PUBLIC_LABELS = {
    "stripe": "Stripe key (pk_live_)",
    "supabase": "Supabase anon key",
    "posthog": "PostHog project key",
}


# --- Providers the rule catalog knows and no hand-written rule covers ------------------------------------
# (slug, what the key is called, where its keys are managed, the catalog rule families it speaks for). A rule
# of a family listed nowhere still gets advice of the same shape, from the rule's own id.
CATALOG_PROVIDERS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("openrouter", "OpenRouter API key", "openrouter.ai → Settings → API Keys", ("openrouter",)),
    ("groq", "Groq API key", "console.groq.com → API Keys", ("groq",)),
    ("together", "Together AI API key", "api.together.ai → Settings → API Keys", ("togetherai",)),
    ("perplexity", "Perplexity API key", "perplexity.ai → Settings → API", ("perplexity",)),
    ("replicate", "Replicate API token", "replicate.com → Account → API tokens", ("replicate",)),
    ("mistral", "Mistral AI API key", "console.mistral.ai → API Keys", ("mistral",)),
    ("xai", "xAI (Grok) API key", "console.x.ai → API Keys", ("xai", "grokxai")),
    ("cohere", "Cohere API key", "dashboard.cohere.com → API Keys", ("cohere",)),
    ("deepseek", "DeepSeek API key", "platform.deepseek.com → API keys", ("deepseek",)),
    ("vercel_ai_gateway", "Vercel AI Gateway key", "the Vercel dashboard → AI Gateway → API Keys", ("vercel-ai",)),
    ("elevenlabs", "ElevenLabs API key", "elevenlabs.io → Developers → API Keys", ("elevenlabs",)),
    ("pinecone", "Pinecone API key", "app.pinecone.io → (the project) → API Keys", ("pinecone",)),
    ("sentry", "Sentry auth token", "sentry.io → Settings → Auth Tokens (or Organization Tokens)", ("sentry",)),
    ("langsmith", "LangSmith API key", "smith.langchain.com → Settings → API Keys", ("langchain", "langsmith")),
    ("honeycomb", "Honeycomb API key", "ui.honeycomb.io → Environment settings → API Keys", ("honeycomb",)),
    ("datadog", "Datadog API key", "Datadog → Organization Settings → API Keys", ("datadog",)),
    ("posthog", "PostHog personal API key", "PostHog → Settings → Personal API keys", ("posthog",)),
    (
        "grafana",
        "Grafana token",
        "Grafana → Administration → Service accounts (or Cloud access policies)",
        ("grafana",),
    ),
    ("new_relic", "New Relic API key", "one.newrelic.com → API Keys", ("new-relic", "newrelic")),
    ("linear", "Linear API key", "linear.app → Settings → Security & access → Personal API keys", ("linear",)),
    ("notion", "Notion integration token", "notion.so/my-integrations → (the integration) → Secrets", ("notion",)),
    ("clickup", "ClickUp API token", "ClickUp → Settings → Apps → API Token", ("clickup",)),
    ("atlassian", "Atlassian API token", "id.atlassian.com → Security → API tokens", ("atlassian", "jira")),
    ("airtable", "Airtable access token", "airtable.com/create/tokens", ("airtable",)),
    (
        "planetscale",
        "PlanetScale credential",
        "PlanetScale → (the database) → Passwords, or Settings → Service tokens",
        ("planetscale",),
    ),
    ("neon", "Neon API key", "console.neon.tech → Account settings → API keys", ("neon",)),
    (
        "supabase_management",
        "Supabase access token",
        "supabase.com/dashboard → Account → Access Tokens",
        ("supabase-management",),
    ),
    (
        "mongodb_atlas",
        "MongoDB Atlas credential",
        "MongoDB Atlas → Organization Access Manager → Applications",
        ("mongodb",),
    ),
    ("doppler", "Doppler token", "dashboard.doppler.com → (the project) → Access", ("doppler",)),
    ("vault", "HashiCorp Vault token", "your Vault server (vault token revoke, then issue a new token)", ("vault",)),
    ("onepassword", "1Password service-account token", "1Password → Developer → Service Accounts", ("1password",)),
    ("square", "Square access token", "developer.squareup.com → Applications → (the app) → Credentials", ("square",)),
    ("paddle", "Paddle API key", "Paddle → Developer tools → Authentication", ("paddle",)),
    ("checkout", "Checkout.com secret key", "the Checkout.com Dashboard → Developers → Keys", ("checkout",)),
    ("paypal", "PayPal client secret", "developer.paypal.com → Apps & Credentials → (the app)", ("paypal",)),
    ("razorpay", "Razorpay key secret", "the Razorpay Dashboard → Account & Settings → API Keys", ("razorpay",)),
    ("digitalocean", "DigitalOcean token", "cloud.digitalocean.com → API → Tokens", ("digitalocean",)),
    ("cloudflare", "Cloudflare API token", "dash.cloudflare.com → My Profile → API Tokens", ("cloudflare",)),
    ("vercel", "Vercel token", "vercel.com → Account Settings → Tokens", ("vercel",)),
    ("render", "Render API key", "dashboard.render.com → Account Settings → API Keys", ("render",)),
    ("flyio", "Fly.io token", "fly.io/dashboard → Tokens (or fly tokens revoke)", ("flyio",)),
    (
        "netlify",
        "Netlify access token",
        "app.netlify.com → User settings → Applications → Personal access tokens",
        ("netlify",),
    ),
    ("resend", "Resend API key", "resend.com → API Keys", ("resend",)),
    ("postmark", "Postmark API token", "account.postmarkapp.com → (the server) → API Tokens", ("postmark",)),
    ("clerk", "Clerk secret key", "dashboard.clerk.com → Configure → API Keys", ("clerk",)),
    ("algolia", "Algolia API key", "the Algolia dashboard → Settings → API Keys", ("algolia",)),
    ("mapbox", "Mapbox token", "account.mapbox.com → Tokens", ("mapbox",)),
]


def generic_rotation(label: str, where: str) -> str:
    """Advice for a key the catalog knows and no hand-written steps cover: where it is managed, then the order."""
    return (
        f"Open {where}, create a new {label.removesuffix(' (public)')}, put it where the app reads its configuration "
        "(the host's environment settings, never the browser build), redeploy, then revoke the leaked one and "
        "check the account's activity for use you did not make."
    )


_CATALOG_BY_SLUG = {
    slug: Provider(slug, label, generic_rotation(label, where)) for slug, label, where, _ in CATALOG_PROVIDERS
}


def catalog_slug(family: str) -> str:
    """The provider a catalog rule family speaks for (the first listed whose family it starts with)."""
    for slug, _, _, families in CATALOG_PROVIDERS:
        if family.startswith(families):  # veles' ids have no separator: "digitaloceanapikey"
            return slug
    return family.split("-", 1)[0].replace(".", "_") or "catalog"


# How a provider spells its own name, where a rule family's slug in title case would not.
SPELLINGS = {"pypi": "PyPI", "github": "GitHub", "gitlab": "GitLab", "npm": "npm", "openai": "OpenAI"}


def provider_for(slug: str) -> Provider:
    """A provider by slug: hand-written, from the catalog table, or named after the rule family itself."""
    if slug in PROVIDERS:
        return PROVIDERS[slug]
    if slug in _CATALOG_BY_SLUG:
        return _CATALOG_BY_SLUG[slug]
    name = SPELLINGS.get(slug, slug.replace("_", " ").title())
    label = f"{name} credential"
    return Provider(
        slug, label, generic_rotation(label, f"{name}'s dashboard (the page where its API keys or tokens are managed)")
    )
