"""The secret detector on a small labelled corpus: every provider's key found and classified, look-alikes
left alone, and no key ever shown or returned whole."""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path

import pytest

from audits.secrets.catalog import catalog_matches, catalog_scan
from audits.secrets.corpus import ALNUM, Keys, Sample, catalog_secrets, corpus, lookalikes, minified, secrets
from audits.secrets.detector import (
    ANCHORS,
    CASE_FOLDS,
    RULES,
    Kind,
    _anchors_in,
    _matches,
    _starts,
    fingerprint,
    scan_bytes,
    scan_text,
)
from audits.secrets.providers import CATALOG_PROVIDERS, provider_for
from audits.secrets.repo import RESTRICTED_FINDINGS

CORPUS = corpus()


def _label(sample: Sample) -> str:
    return f"{sample.provider or 'lookalike'}:{sample.text[:30]}"


def _kind(sample: Sample) -> Kind:
    """A Google key (a bare one a secret of the corpus, a Firebase config's one publishable) is one to restrict."""
    if sample.provider in RESTRICTED_FINDINGS:
        return Kind.RESTRICT
    return Kind.SECRET if sample.kind == "secret" else Kind.PUBLISHABLE


@pytest.mark.parametrize("sample", [s for s in CORPUS if s.kind == "secret"], ids=_label)
def test_it_finds_each_providers_secret_key(sample: Sample) -> None:
    hits = scan_text(sample.text)
    assert [(h.provider, h.kind) for h in hits] == [(sample.provider, _kind(sample))]
    if sample.key:
        assert hits[0].fingerprint == hashlib.sha256(sample.key.encode()).hexdigest()[:8]


@pytest.mark.parametrize("sample", [s for s in CORPUS if s.kind != "secret"], ids=_label)
def test_look_alikes_are_not_secrets_and_publishable_keys_are_info(sample: Sample) -> None:
    kinds = [(h.provider, h.kind) for h in scan_text(sample.text)]
    if sample.kind == "publishable":
        assert kinds == [(sample.provider, _kind(sample))]
    else:
        assert kinds == []


def test_the_corpus_covers_at_least_sixty_providers_and_each_has_rotation_steps() -> None:
    providers = {s.provider for s in CORPUS if s.kind == "secret"}
    assert len(providers) >= 60
    for slug in providers | {r.provider for r in RULES if isinstance(r.provider, str)}:
        assert len(provider_for(slug).rotation) > 60, slug


def test_a_catalog_provider_without_written_steps_gets_its_name_where_keys_live_and_rotate_then_redeploy() -> None:
    key = "dop_v1_" + "9c1e4b7a2f5d8e3b6a0c9f2e5b8d1a4c7f0e3b6d9a2c5f8e1b4d7a0c3f6e9b2d"
    [hit] = scan_text(f"DIGITALOCEAN_TOKEN={key}\n")
    assert (hit.provider, hit.kind, hit.label) == ("digitalocean", Kind.SECRET, "DigitalOcean token")
    assert "cloud.digitalocean.com → API → Tokens" in hit.rotation
    assert hit.rotation.index("create a new") < hit.rotation.index("redeploy") < hit.rotation.index("revoke")
    assert hit.prefix == "dop_v1_" and key not in hit.redacted + repr(hit)
    every = {slug for slug, *_ in CATALOG_PROVIDERS}
    assert len(every) >= 45
    unknown = provider_for("acmecloud")  # a rule family listed nowhere: named after itself, same shape
    assert unknown.label == "Acmecloud credential" and "redeploy" in unknown.rotation


def test_the_catalog_reads_bytes_around_invalid_utf8_and_its_matches_stay_inside_the_detector() -> None:
    key = "gsk_" + Keys(5).s(ALNUM, 52)
    data = b"garbage \xc3\x28 \x80\n" + f'groq = Groq(api_key="{key}")\n'.encode()
    assert [m.rule_id for m in catalog_matches(data)] == ["betterleaks.groq-api-key"]
    [hit] = scan_bytes(data)
    assert (hit.provider, hit.line, hit.fingerprint) == ("groq", 2, fingerprint(key))
    assert catalog_matches(b"") == []


def test_a_catalog_key_seen_in_a_test_or_template_is_not_reported() -> None:
    live = "sk_live_" + "Hq4Zr8Lm2Xc6Vb9Nt3Wk7Pj1Sd5Fg0Ay"
    assert [(h.provider, h.kind) for h in scan_text(f"CLERK_SECRET_KEY={live}")] == [("clerk", Kind.SECRET)]
    assert scan_text(f"CLERK_SECRET_KEY={live.replace('live', 'test')}") == []
    assert scan_text("DIGITALOCEAN_TOKEN=dop_v1_" + "x" * 64) == []


def test_a_hit_never_holds_the_key_whole() -> None:
    keys = Keys(11)
    for sample in secrets(keys) + catalog_secrets(keys):
        for hit in scan_text(sample.text):
            shown = repr(hit) + hit.redacted
            assert not sample.key or sample.key not in shown
            assert hit.redacted.endswith(f"(sha256 {hit.fingerprint})")
            if sample.provider == "private_key":  # a private key shows only a BEGIN line
                assert hit.prefix == "-----BEGIN PRIVATE KEY-----"
            elif sample.key.startswith(hit.prefix):  # at most a third of a key (or its public prefix) is shown
                assert len(hit.prefix) <= max(13, len(sample.key) // 3)
            else:  # a database URL shows its scheme and user, never the password
                assert hit.prefix.endswith(":") and sample.key not in hit.prefix


def test_keys_are_found_in_a_minified_bundle_with_their_line() -> None:
    keys = Keys(3)
    planted = secrets(keys)
    bundle = minified(planted + lookalikes(keys), keys, size=200_000)
    found = {(h.provider, h.fingerprint) for h in scan_text(bundle) if h.kind != Kind.PUBLISHABLE}
    expected = {(s.provider, fingerprint(s.key)) for s in planted if s.key}
    assert expected <= found
    assert len({p for p, _ in found}) >= 20


def test_test_keys_are_ignored_and_a_stripe_secret_is_a_blocker() -> None:
    live = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    assert [h.kind for h in scan_text(f'stripe("{live}")')] == [Kind.SECRET]
    assert scan_text(f'stripe("{live.replace("live", "test")}")') == []
    assert [h.kind for h in scan_text(f'stripe("{live.replace("sk_", "pk_")}")')] == [Kind.PUBLISHABLE]


def test_one_key_seen_twice_in_a_file_is_one_hit_on_its_first_line() -> None:
    key = "ghp_" + "R8kVw2Lq9Xz4Tn7Mb3Hc6Jd1Fs5Gy0Pa2Ei9"
    hits = scan_text(f"a\nTOKEN={key}\nagain={key}\n")
    assert [(h.provider, h.line) for h in hits] == [("github", 2)]


def test_empty_input_finds_nothing() -> None:
    assert scan_text("") == [] and scan_bytes(b"") == [] and scan_bytes(b"\x00" * 100) == []


GITHUB_KEY = "ghp_" + "R8kVw2Lq9Xz4Tn7Mb3Hc6Jd1Fs5Gy0Pa2Ei9"
OPENAI_LEGACY = "sk-" + "q9Lm2Xv7Rt4Wz8Kp3Hn6Jc1Ds5Fg0Yb2Ue9Io4Nk7Pa3Bc6D"  # 51 characters: a "3" length byte
STRIPE_LIVE = "sk_live_" + "51NzQ8rLk2Vb7Xc4Tm9Wq3Ea6Ys1Dh0Fj"


def _pyc(tmp_path: Path, source: str) -> bytes:
    import py_compile

    (tmp_path / "settings.py").write_text(source)
    return Path(py_compile.compile(str(tmp_path / "settings.py"), cfile=str(tmp_path / "settings.pyc"))).read_bytes()


def _sqlite(tmp_path: Path, rows: list[tuple[str, str]]) -> bytes:
    import sqlite3

    with sqlite3.connect(tmp_path / "app.db") as db:
        db.execute("create table settings (name text, value text)")
        db.executemany("insert into settings values (?, ?)", rows)
    db.close()
    return (tmp_path / "app.db").read_bytes()


def test_a_key_in_a_compiled_python_file_is_found_without_a_line(tmp_path: Path) -> None:
    data = _pyc(tmp_path, f'GITHUB_TOKEN = "{GITHUB_KEY}"\nOPENAI = "{OPENAI_LEGACY}"\n')
    assert b"\x00" in data[:8000] and b"3" + OPENAI_LEGACY.encode() in data  # binary, the length byte before it
    hits = {(h.provider, h.fingerprint, h.line) for h in scan_bytes(data)}
    assert hits == {("github", fingerprint(GITHUB_KEY), 0), ("openai", fingerprint(OPENAI_LEGACY), 0)}


def test_a_key_beside_another_value_in_a_sqlite_file_is_found(tmp_path: Path) -> None:
    """A row's columns sit side by side with nothing between them: "stripe_secret" then the key."""
    data = _sqlite(tmp_path, [("stripe_secret", STRIPE_LIVE), ("theme", "dark")])
    assert b"stripe_secret" + STRIPE_LIVE.encode() in data
    assert [(h.provider, h.fingerprint) for h in scan_bytes(data)] == [("stripe", fingerprint(STRIPE_LIVE))]


def test_a_key_in_a_library_or_as_utf16_text_is_found() -> None:
    library = (
        b"\x7fELF\x02\x01\x01" + b"\x00" * 57 + b"\x01\x02\x03" + GITHUB_KEY.encode() + b"\x00" + bytes(range(256))
    )
    assert [h.provider for h in scan_bytes(library)] == ["github"]
    utf16 = "\ufeffTOKEN=" + GITHUB_KEY + "\r\n"
    assert [(h.provider, h.fingerprint) for h in scan_bytes(utf16.encode("utf-16-le"))] == [
        ("github", fingerprint(GITHUB_KEY))
    ]


def test_random_binary_data_and_placeholders_in_it_are_not_keys() -> None:
    noise = random.Random(7).randbytes(2 << 20)
    assert scan_bytes(b"\x00" + noise) == []
    assert scan_bytes(b"\x00\x01AKIAIOSFODNN7EXAMPLE\x00sk_live_xxxxxxxxxxxxxxxxxxxxxxxx\x00") == []


# Pieces of keys, names and separators, jumbled so that near misses, repeats and overlaps meet (non-ASCII
# letters and digits among them, so that byte and character offsets differ).
PIECES = (
    "AKIA", "ABIABIA", "ACCA", "ASIA", "A3T", "aws", "AWS_SECRET_ACCESS_KEY", "aWs_key", "\"private_key_id\"",
    "AIza", "AccountKey=", "sk_live_", "pk_test_", "rk_live_", "sk-", "sk-proj-", "sk-ant-api03-", "T3BlbkFJ",
    "hf_", "SK", "twilio_auth_token", "SG.", "key-", "mailgun", "-us", "-us1", "xoxb-", "xoxoxb-", "xoxp-1-",
    "https://hooks.slack.com/services/T", "/B", "ghp_", "gho_", "github_pat_", "glpat-", "glagent-", "GR1348941",
    "glptt-", "npm_", "//registry.npmjs.org/:_authToken=", "shpat_", "shpss_", "eyJ", ".eyJ", "sb_secret_",
    "sb_publishable_", "AAAA", ":APA91b", ".", "M", "N", "O", "https://discord.com/api/webhooks/",
    "https://canary.discordapp.com/api/webhooks/", ":AA", "-----BEGIN PRIVATE KEY-----", "-----END", "-----",
    "postgres://", "postgresql://", "mysql://", "mongodb+srv://", "rediss://", "amqps://", "://", "@", ":",
    "MAILGUN_KEY = ", "secret", "SECRET_KEY", "jwt_secret", "JWT_SIGNING_KEY", "nextauth_secret",
    "django_secret_key", "export ", "export\t", "export\n", "=", " = ", ": ", "=>", '"', "'", "\n", "\n\n", " ",
    "\t", "_", "-", "/", "+", "é", "٣", "\ufffd", "1234567890", "0123456789abcdef",
)  # fmt: skip


def _jumble(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 60)):
        roll = rng.random()
        if roll < 0.5:
            out.append(rng.choice(PIECES))
        elif roll < 0.8:
            out.append("".join(rng.choice(ALNUM) for _ in range(rng.choice([4, 8, 16, 20, 24, 27, 32, 36, 40, 64]))))
        elif roll < 0.9:
            out.append("".join(rng.choice("0123456789abcdef") for _ in range(rng.choice([8, 32, 40]))))
            out.append(rng.choice(("", "-")))
        else:
            out.append(rng.choice(CORPUS).text)
    return "".join(out)


def _planted(k: Keys) -> list[str]:
    """A line for each pattern the corpus's formats do not all reach."""
    hexa = "0123456789abcdef"
    upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    discord = [
        f"{first}{k.s(ALNUM, n)}.{k.s(ALNUM, 6)}.{k.s(ALNUM, 27)}" for first, n in (("M", 23), ("N", 24), ("O", 25))
    ]
    return [
        " ".join(f"{prefix}{k.s(upper, 16)}" for prefix in ("A3TX", "ABIA", "ACCA", "AKIA", "ASIA")),
        " ".join(discord),
        f"glcbt-{k.s(hexa, 2)}_{k.s(ALNUM, 30)} gloas-{k.s(ALNUM, 64)} glptt-{k.s(ALNUM, 40)} glimt-{k.s(ALNUM, 25)}",
        f'aws_key = "{k.s(ALNUM, 40)}" NEXTAUTH_SECRET: "{k.s(ALNUM, 24)}" jwtsigningkey="{k.s(ALNUM, 24)}"',
        f"MAILGUN_KEY = '{k.s(hexa, 32)}-{k.s(hexa, 8)}-{k.s(hexa, 8)}'",
        f"https://canary.discordapp.com/api/webhooks/{k.s('0123456789', 18)}/{k.s(ALNUM, 68)}",
        f"export SECRET_KEY={k.s(ALNUM, 24)}\n\nJWT_SECRET={k.s(ALNUM, 30)}  \n",
    ]


def _texts() -> list[str]:
    rng = random.Random(4)
    keys = Keys(8)
    planted = _planted(keys)
    return (
        [s.text for s in CORPUS]
        + planted
        + [minified(secrets(keys) + lookalikes(keys), keys, size=30_000)]
        + [_jumble(rng) + rng.choice(planted) + _jumble(rng) for _ in range(200)]
        + [_jumble(rng) for _ in range(1300)]
    )


def test_each_rule_is_tried_only_at_its_anchors_and_finds_all_that_its_patterns_find_in_the_whole_text() -> None:
    found: dict[str, int] = {}
    for text in _texts():
        data = text.encode("utf-8", "replace")
        anchors = _anchors_in(text, data, catalog_scan(data, ANCHORS).anchors)
        assert anchors is not None
        for rule in RULES:
            starts = _starts(rule, text, anchors)
            for regex in rule.plugin.denylist:
                if regex.flags & re.IGNORECASE and any(c in text for c in CASE_FOLDS):
                    continue  # run over the whole text (the next test)
                whole = [m.span() for m in regex.finditer(text)]
                assert [m.span() for m in _matches(regex, text, starts)] == whole, (regex.pattern, text)
                found[regex.pattern] = found.get(regex.pattern, 0) + len(whole)
    # Every pattern matched somewhere, so that each one's anchors were put to the test.
    assert {r.pattern for rule in RULES for r in rule.plugin.denylist} == {p for p, n in found.items() if n}


def test_anchors_are_found_at_their_character_offsets_in_a_text_that_is_not_ascii() -> None:
    key = "ghp_" + "R8kVw2Lq9Xz4Tn7Mb3Hc6Jd1Fs5Gy0Pa2Ei9"
    text = f"ünïcödé ✓ 日本語\nTOKEN={key}\n"
    [hit] = scan_text(text)
    assert (hit.provider, hit.line, hit.fingerprint) == ("github", 2, fingerprint(key))
    [hit] = scan_bytes(b"\xff\xfe\xc3\x28 " + text.encode())  # invalid UTF-8 before it
    assert (hit.provider, hit.line) == ("github", 2)


def test_a_name_spelled_with_a_letter_python_folds_to_ascii_is_still_found() -> None:
    secret = "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"
    for name in ("\u017fecret_key", "SECRET_\u212aEY", "aws_\u017fecret_access_key"):  # long s, Kelvin sign
        text = f'{name} = "{secret}"\n' if "aws" not in name else f"{name}={Keys(2).s(ALNUM, 40)}\n"
        assert [h.kind for h in scan_text(text)] == [Kind.SECRET], name


def test_an_export_on_its_own_line_does_not_carry_a_signing_secret_from_the_next() -> None:
    secret = "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"
    assert [h.line for h in scan_text(f"export SECRET_KEY={secret}\n")] == [1]
    assert [h.line for h in scan_text(f"export\nSECRET_KEY={secret}\n")] == [2]
